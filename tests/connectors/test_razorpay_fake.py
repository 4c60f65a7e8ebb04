"""The Razorpay fake itself: Razorpay's error bodies, the customer's page, webhooks
posted to a URL, its state (no card number or CVV; kept across a restart), the capture
window, and the fake and the connector agreeing with no settings at all."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from razorpay_support import (
    card,
    charge,
    connector_fixture,  # noqa: F401  (the `connector` fixture)
    fake_fixture,  # noqa: F401  (the `fake` fixture)
    url_fixture,  # noqa: F401  (the `url` fixture)
)
from starlette.requests import Request

import bank_sim.processors.razorpay.fake as the_fake
import gateway_core.connectors.razorpay as the_connector
from bank_sim.processors.faults import Fault
from bank_sim.processors.razorpay.api import RazorpayFake
from bank_sim.processors.razorpay.webhooks import sign
from bank_sim.processors.server import LoopbackServer
from gateway_core.clock import FixedClock, SystemClock
from gateway_core.connectors import open_connector
from gateway_core.connectors.razorpay import FAKE_KEY_ID, FAKE_KEY_SECRET, RazorpayConnector
from gateway_core.settings import ProcessorSettings


@pytest.fixture
def own(tmp_path: Path) -> Iterator[tuple[RazorpayFake, FixedClock, str]]:
    """A fake of the test's own (on a clock it moves) at its own URL."""
    clock = FixedClock(datetime.now(UTC))
    account = RazorpayFake(tmp_path / "own", clock)
    app = FastAPI()
    app.include_router(account.router())
    server = LoopbackServer(app)
    try:
        yield account, clock, server.start()
    finally:
        server.stop()


async def test_the_fake_keeps_no_card_number_or_cvv(
    connector: RazorpayConnector, fake: RazorpayFake, tmp_path: Path
) -> None:
    await connector.authorize(charge(card=card("4111 1111 1111 1111", cvv="987")))
    saved = (fake.directory / "razorpay.json").read_text()
    assert "4111111111111111" not in saved and '"987"' not in saved
    assert '"last4": "1111"' in saved


async def test_the_fake_reopens_with_its_state(
    connector: RazorpayConnector, fake: RazorpayFake
) -> None:
    sale = await connector.authorize(charge())
    reopened = RazorpayFake(fake.directory, SystemClock())
    assert reopened.fetch_payment(sale.reference)["status"] == "captured"


def test_the_fake_answers_razorpays_error_bodies(url: str, fake: RazorpayFake) -> None:
    with httpx.Client(base_url=f"{url}/razorpay/v1") as client:
        refused = client.get("/orders", auth=("rzp_test_paygatefake", "wrong"))
        assert refused.status_code == 401
        assert client.get("/orders", auth=("rzp_test_paygatefake", "wrøng")).status_code == 401
        odd_auth = {"Authorization": b"Basic \xc3\xa9"}
        assert client.get("/orders", headers=odd_auth).status_code == 401
        keys = (fake.key_id, FAKE_KEY_SECRET)
        odd = client.post("/orders", json={"amount": 500, "currency": ["INR"]}, auth=keys)
        assert (odd.status_code, odd.json()["error"]["field"]) == (400, "currency")
        error = refused.json()["error"]
        assert error["code"] == "BAD_REQUEST_ERROR" and error["description"]
        assert {"source", "step", "reason", "metadata"} <= set(error)
        fake.faults.set(Fault(mode="down", count=1))
        down = client.get("/orders", auth=(fake.key_id, FAKE_KEY_SECRET))
        assert (down.status_code, down.json()["error"]["code"]) == (503, "SERVER_ERROR")


async def test_capture_of_another_amount_is_razorpays_bad_request(
    url: str, connector: RazorpayConnector
) -> None:
    held = await connector.authorize(charge(capture=False))
    with httpx.Client(
        base_url=f"{url}/razorpay/v1", auth=("rzp_test_paygatefake", FAKE_KEY_SECRET)
    ) as client:
        answer = client.post(
            f"/payments/{held.reference}/capture", json={"amount": 10_00, "currency": "INR"}
        )
    assert answer.status_code == 400
    assert (
        answer.json()["error"]["description"]
        == "Capture amount must be equal to the amount authorized"
    )


async def test_the_authenticate_page_takes_the_otp(url: str, connector: RazorpayConnector) -> None:
    waiting = await connector.authorize(charge(card=card("4000 0000 0000 3220")))
    assert waiting.action_url
    with httpx.Client() as browser:
        page = browser.get(waiting.action_url)
        assert page.status_code == 200 and 'name="otp"' in page.text
        done = browser.post(waiting.action_url, data={"otp": "4321"})
        assert "captured" in done.text
        assert browser.get(waiting.action_url).status_code == 404  # no longer waiting
    found = await connector.status(reference=waiting.reference)
    assert found is not None and found.status == "succeeded"


def test_webhooks_are_posted_to_the_registered_url(
    own: tuple[RazorpayFake, FixedClock, str],
) -> None:
    received: list[tuple[str, bytes]] = []
    arrived = threading.Event()
    receiver = FastAPI()

    @receiver.post("/hooks")
    async def hook(request: Request) -> dict[str, bool]:
        received.append((request.headers["x-razorpay-signature"], await request.body()))
        if json.loads(received[-1][1])["event"] == "payment.failed":
            arrived.set()
        return {"ok": True}

    server = LoopbackServer(receiver)
    hooks_url = server.start()
    account, _, base = own
    try:
        with httpx.Client(base_url=f"{base}/razorpay") as client:
            client.post("/_webhooks", json={"url": f"{hooks_url}/hooks", "secret": "s3"})
            keys = (account.key_id, FAKE_KEY_SECRET)
            order = client.post("/v1/orders", json={"amount": 500, "currency": "INR"}, auth=keys)
            made = client.post(
                "/v1/payments/create/upi",
                json={
                    "amount": 500,
                    "currency": "INR",
                    "order_id": order.json()["id"],
                    "email": "a@example.com",
                    "contact": "9000090000",
                    "method": "upi",
                    "upi": {"flow": "collect", "vpa": "asha@okbank"},
                },
                auth=keys,
            )
            payment_id = made.json()["razorpay_payment_id"]
            client.post(f"/_payments/{payment_id}/complete", json={"success": False})
        assert arrived.wait(10)
    finally:
        server.stop()
    signature, body = received[-1]
    assert signature == sign("s3", body)
    assert json.loads(body)["payload"]["payment"]["entity"]["error_reason"] == "payment_cancelled"


async def test_unconfigured_connector_and_fake_agree(
    own: tuple[RazorpayFake, FixedClock, str],
) -> None:
    """No settings at all: the connector takes the local fake's keys and webhook secret."""
    account, _, base = own
    unconfigured = open_connector("razorpay", ProcessorSettings(), base)
    try:
        sale = await unconfigured.authorize(charge())
        delivery = account.webhooks.sent(sale.reference)[-1]
        event = await unconfigured.parse_webhook(delivery.headers, delivery.body)
        assert (event.type, event.reference) == ("order.paid", sale.reference)
    finally:
        await unconfigured.close()


async def test_an_uncaptured_payment_is_refunded_after_the_capture_window(
    own: tuple[RazorpayFake, FixedClock, str],
) -> None:
    _, clock, base = own
    connector = RazorpayConnector(ProcessorSettings(), f"{base}/razorpay")
    held_charge = charge(capture=False)
    try:
        held = await connector.authorize(held_charge)
        clock.advance(days=5)
        still = await connector.status(reference=held.reference)
        assert still is not None and still.status == "requires_capture"
        clock.advance(seconds=1)
        lapsed = await connector.status(idempotency_key=held_charge.idempotency_key)
        assert lapsed is not None
        assert (lapsed.status, lapsed.provider_status) == ("canceled", "refunded")
        assert (lapsed.amount_captured, lapsed.amount_refunded) == (0, 25_00)
        late = await connector.capture(held.reference, 25_00, "cap-late")
        assert (late.status, late.amount_captured) == ("canceled", 0)
    finally:
        await connector.close()


async def test_configured_keys_reach_only_the_configured_url(
    own: tuple[RazorpayFake, FixedClock, str], tmp_path: Path
) -> None:
    keys = {"api_key": SecretStr("rzp_live_conf"), "api_secret": SecretStr("conf-secret")}
    configured = RazorpayFake(tmp_path / "configured", SystemClock(), ProcessorSettings(**keys))
    assert configured.authenticates("rzp_live_conf", "conf-secret")
    assert configured.authenticates(FAKE_KEY_ID, FAKE_KEY_SECRET)  # its own test keys too
    assert not configured.authenticates("rzp_live_conf", FAKE_KEY_SECRET)
    _, _, base = own  # knows only its test keys: a configured key would be refused
    to_fake = RazorpayConnector(ProcessorSettings(**keys), f"{base}/razorpay")
    try:
        assert (await to_fake.authorize(charge())).status == "succeeded"
    finally:
        await to_fake.close()


def test_the_fake_and_the_connector_agree_on_the_test_keys() -> None:
    for name in ("FAKE_KEY_ID", "FAKE_KEY_SECRET", "FAKE_WEBHOOK_SECRET"):
        assert getattr(the_fake, name) == getattr(the_connector, name)
