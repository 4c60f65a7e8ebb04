"""The Stripe connector, through the official `stripe` SDK, against the Stripe fake:
the shared conformance cases, then Stripe's own (test methods and cards, mapping,
errors, 3-D Secure)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from conformance import *  # noqa: F403  (the shared cases)
from conformance import Kit, Webhook
from fakes_support import FakesServer
from fastapi import FastAPI, Request
from pydantic import SecretStr

from bank_sim import testcards
from bank_sim.processors.faults import Fault
from bank_sim.processors.server import LoopbackServer
from bank_sim.processors.stripe.fake import StripeFake
from bank_sim.processors.stripe.webhooks import sign
from gateway_core.clock import FixedClock, SystemClock
from gateway_core.connectors import open_connector
from gateway_core.connectors.stripe import STATUSES, StripeConnector
from gateway_core.errors import BankNotReached, BankUnavailable, InputError
from gateway_core.payments import response_code_for
from gateway_core.ports.connectors import (
    Connector,
    ConnectorCard,
    ConnectorCharge,
    ProcessorDown,
)
from gateway_core.settings import ProcessorSettings

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=:DeprecationWarning")  # the SDK's
_serial = itertools.count(1)


def charge(
    *, capture: bool = True, amount: int = 25_00, payment_method: str = "pm_card_visa", **extra
) -> ConnectorCharge:
    """A fresh charge (its own payment id and idempotency key)."""
    n = next(_serial)
    return ConnectorCharge(
        payment_id=f"pay_t{n:05d}",
        idempotency_key=f"idem-t{n:05d}",
        merchant_id="PAYGATEDEMO0001",
        amount=amount,
        currency="USD",
        capture=capture,
        payment_method=None if "card" in extra else payment_method,
        **extra,
    )


def card(pan: str, cvv: str | None = "123", month: int = 12, year: int = 2030) -> ConnectorCard:
    return ConnectorCard(SecretStr(pan), month, year, SecretStr(cvv) if cvv else None)


@pytest.fixture
def fake(fakes_server: FakesServer) -> StripeFake:
    stripe_fake = fakes_server.fakes["stripe"]
    assert isinstance(stripe_fake, StripeFake)
    return stripe_fake


@pytest.fixture
async def kit(fakes_server: FakesServer, fake: StripeFake) -> AsyncIterator[Kit]:
    endpoint, secret = fake.add_endpoint()
    clock = SystemClock()

    def connector(timeout_s: float = 8.0) -> StripeConnector:
        settings = ProcessorSettings(webhook_secret=SecretStr(secret), timeout_s=timeout_s)
        return StripeConnector(settings, f"{fakes_server.url}/stripe", clock)

    async def webhook(reference: str) -> Webhook:
        delivery = [d for d in fake.sent(reference) if d.endpoint == endpoint][-1]
        return delivery.headers, delivery.body

    async def bad_webhooks(reference: str) -> list[Webhook]:
        headers, body = await webhook(reference)
        t = int(headers["Stripe-Signature"].split(",")[0][2:])
        v1 = headers["Stripe-Signature"].split("v1=")[1]
        return [
            (headers, body.replace(b'"livemode": false', b'"livemode": true')),  # tampered
            ({"Stripe-Signature": sign(secret, body, t - 301)}, body),  # stale
            ({"Stripe-Signature": f"t={t + 5},v1={v1}"}, body),  # re-timestamped replay
            ({"Stripe-Signature": sign("whsec_other", body, t)}, body),  # another secret
            ({}, body),  # unsigned
        ]

    main = connector()
    yield Kit(
        connector=main,
        faults=fake.faults,
        approving=lambda capture=True, amount=25_00: charge(capture=capture, amount=amount),
        declining=lambda capture=True: charge(
            capture=capture, payment_method="pm_card_chargeDeclinedInsufficientFunds"
        ),
        decline_response_code="51",
        with_timeout=connector,
        payments_for=lambda payment_id: len(fake.intents(payment_id)),
        webhook=webhook,
        bad_webhooks=bad_webhooks,
    )
    await main.close()


# -- Stripe's own cases -------------------------------------------------------------------
@pytest.fixture
async def connector(fakes_server: FakesServer) -> AsyncIterator[StripeConnector]:
    stripe_connector = StripeConnector(ProcessorSettings(), f"{fakes_server.url}/stripe")
    yield stripe_connector
    await stripe_connector.close()


@pytest.mark.parametrize(
    ("method", "status", "code", "provider_code"),
    [
        ("pm_card_visa", "succeeded", "00", None),
        ("pm_card_mastercard", "succeeded", "00", None),
        ("pm_card_amex", "succeeded", "00", None),
        ("pm_card_chargeDeclined", "declined", "05", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "declined", "51", "insufficient_funds"),
        ("pm_card_chargeDeclinedExpiredCard", "declined", "54", "expired_card"),
        ("pm_card_chargeDeclinedIncorrectCvc", "declined", "N7", "incorrect_cvc"),
        ("pm_card_chargeDeclinedLostCard", "declined", "41", "lost_card"),
        ("pm_card_chargeDeclinedStolenCard", "declined", "43", "stolen_card"),
        ("pm_card_chargeDeclinedProcessingError", "declined", "96", "processing_error"),
        ("pm_card_chargeDeclinedVelocityLimitExceeded", "declined", "61", "card_velocity_exceeded"),
        ("pm_card_chargeDeclinedFraudulent", "declined", "05", "fraudulent"),
        ("pm_card_authenticationRequired", "requires_action", "1A", None),
    ],
)
async def test_test_payment_methods_map_to_paygate(
    connector: StripeConnector, method: str, status: str, code: str, provider_code: str | None
) -> None:
    result = await connector.authorize(charge(payment_method=method))
    assert (result.status, result.response_code, result.provider_code) == (
        status,
        code,
        provider_code,
    )
    assert result.reference.startswith("pi_")


def _expected(test_card: testcards.TestCard) -> tuple[str, str]:
    if test_card.expect.startswith("otp->"):
        return "requires_action", "1A"
    return ("succeeded" if test_card.expect == "00" else "declined"), test_card.expect


@pytest.mark.parametrize(
    "test_card", [*testcards.TEST_CARDS, testcards.LOAD_TEST_CARD], ids=lambda c: c.digits
)
async def test_paygate_test_cards_do_what_the_simulated_issuer_does(
    connector: StripeConnector, test_card: testcards.TestCard
) -> None:
    amount = 2_000_00 if test_card.expect == "61" else 25_00
    result = await connector.authorize(
        charge(amount=amount, card=card(test_card.digits, test_card.cvv), method="card")
    )
    assert (result.status, result.response_code) == _expected(test_card)


async def test_three_d_secure_then_approved(connector: StripeConnector) -> None:
    held = await connector.authorize(charge(payment_method="pm_card_threeDSecureRequired"))
    assert held.status == "requires_action" and held.action_url
    async with httpx.AsyncClient(headers={"Authorization": "Bearer sk_test_paygate"}) as client:
        done = await client.post(held.action_url, data={"outcome": "complete"})
    assert done.json()["status"] == "succeeded"
    found = await connector.status(reference=held.reference)
    assert found is not None and (found.status, found.response_code) == ("succeeded", "00")


async def test_errors_map_to_the_ports_failures(
    connector: StripeConnector, fake: StripeFake, fakes_server: FakesServer
) -> None:
    pan = "4242424242424242"
    keyed = charge(card=card(pan, "321"), method="card")
    fake.faults.set(Fault(mode="error", count=1))
    with pytest.raises(BankUnavailable) as lost:
        await connector.authorize(keyed)
    assert not isinstance(lost.value, (ProcessorDown, BankNotReached))
    assert pan not in str(lost.value) and "321" not in str(lost.value)
    sale = await connector.status(idempotency_key=keyed.idempotency_key)
    assert sale is not None and sale.status == "succeeded"  # processed, then the 500
    with pytest.raises(InputError) as refused:
        await connector.capture(sale.reference, 10_00, "cap-x")
    assert "\n" not in str(refused.value)
    assert await connector.status(reference="pi_unknown") is None
    where = f"{fakes_server.url}/stripe"
    wrong = StripeConnector(
        ProcessorSettings(api_key=SecretStr("sk_test_wrong"), base_url=where), where
    )
    with pytest.raises(InputError) as bad_key:
        await wrong.status(reference=sale.reference)
    assert "sk_test_wrong" not in str(bad_key.value)
    await wrong.close()


async def test_closed_port_is_bank_not_reached() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    nowhere = StripeConnector(ProcessorSettings(), f"http://127.0.0.1:{port}/stripe")
    with pytest.raises(BankNotReached):
        await nowhere.authorize(charge())
    await nowhere.close()


def test_real_stripe_needs_a_key() -> None:
    with pytest.raises(InputError):
        StripeConnector(
            ProcessorSettings(base_url="https://api.stripe.com"), "https://api.stripe.com"
        )


async def test_registry_opens_it_on_the_fake(fakes_server: FakesServer) -> None:
    opened = open_connector("stripe", ProcessorSettings(), fakes_server.url)
    assert isinstance(opened, Connector) and opened.name == "stripe"
    assert (await opened.authorize(charge())).status == "succeeded"
    await opened.close()


async def test_webhooks_say_where_the_payment_stands(kit: Kit, fake: StripeFake) -> None:
    held = await kit.connector.authorize(charge(capture=False))
    await kit.connector.capture(held.reference, 20_00, "cap-" + held.reference)
    await kit.connector.refund(held.reference, "rf-" + held.reference, 5_00, "k")
    events = []
    for kind in (
        "payment_intent.amount_capturable_updated",
        "payment_intent.succeeded",
        "charge.refunded",
    ):
        delivery = fake.sent(held.reference, kind)[-1]
        events.append(await kit.connector.parse_webhook(delivery.headers, delivery.body))
    assert [e.reference for e in events] == [held.reference] * 3
    assert [e.result and (e.result.status, e.result.amount_captured) for e in events] == [
        ("requires_capture", 0),
        ("succeeded", 20_00),
        None,  # about the charge: `status` tells where the payment stands
    ]


def _rows(section: str, header: str) -> list[list[str]]:
    """The rows of the table under `header` in docs/CONNECTORS.md's `section`."""
    text = (Path(__file__).parents[2] / "docs" / "CONNECTORS.md").read_text("utf-8")
    part = text.split(f"## {section}\n", 1)[1].split(f"### {header}\n", 1)[1].split("\n### ")[0]
    rows = [line.strip("|").split("|") for line in part.splitlines() if line.startswith("| `")]
    return [[cell.strip().strip("`") for cell in row] for row in rows]


def test_the_docs_mapping_tables_are_the_codes() -> None:
    declines = _rows("Stripe", "Decline mapping")
    assert len(declines) > 15
    assert all(response_code_for(code) == paygate for code, paygate, _ in declines)
    statuses = _rows("Stripe", "Status mapping")
    assert {row[0] for row in statuses} == set(STATUSES)


async def test_no_card_data_in_logs_even_at_debug(
    connector: StripeConnector, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    pan = "4242424242424242"
    with caplog.at_level(logging.DEBUG):
        await connector.authorize(charge(card=card(pan, "321"), method="card"))
    err = capsys.readouterr().err
    assert caplog.records
    assert pan not in caplog.text + err and "cvc" not in caplog.text + err


async def test_webhooks_are_posted_to_the_endpoints_url(fakes_server: FakesServer) -> None:
    received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
    receiver = FastAPI()

    @receiver.post("/hook")
    async def hook(request: Request) -> dict[str, str]:
        received.put((dict(request.headers), await request.body()))
        return {}

    server = LoopbackServer(receiver)
    hook_url = server.start() + "/hook"
    api = httpx.AsyncClient(base_url=f"{fakes_server.url}/stripe/v1", auth=("sk_test_paygate", ""))
    wanted = {"url": hook_url, "enabled_events[0]": "payment_intent.succeeded"}
    endpoint = (await api.post("/webhook_endpoints", data=wanted)).json()
    settings = ProcessorSettings(webhook_secret=SecretStr(endpoint["secret"]))
    connector = StripeConnector(settings, f"{fakes_server.url}/stripe")
    try:
        sale = await connector.authorize(charge())
        headers, body = await asyncio.to_thread(received.get, timeout=10)
        event = await connector.parse_webhook(headers, body)
        assert (event.type, event.reference) == ("payment_intent.succeeded", sale.reference)
    finally:
        await api.delete(f"/webhook_endpoints/{endpoint['id']}")
        await api.aclose()
        await connector.close()
        server.stop()


async def test_status_needs_a_reference_or_key(connector: StripeConnector) -> None:
    for asked in ({}, {"reference": ""}, {"idempotency_key": " "}):
        with pytest.raises(InputError):
            await connector.status(**asked)


async def test_a_configured_key_never_goes_to_the_local_fake(fakes_server: FakesServer) -> None:
    settings = ProcessorSettings(api_key=SecretStr("sk_live_not_for_fakes"))
    local = StripeConnector(settings, f"{fakes_server.url}/stripe")  # base_url unset
    try:
        assert (await local.authorize(charge())).status == "succeeded"  # the fake's own key
    finally:
        await local.close()


async def test_status_by_key_searches_past_the_last_hour(
    connector: StripeConnector, fakes_server: FakesServer
) -> None:
    sale = charge()
    made = await connector.authorize(sale)
    later = FixedClock(datetime.now(UTC) + timedelta(hours=2))
    settings = ProcessorSettings()
    afterwards = StripeConnector(settings, f"{fakes_server.url}/stripe", later)
    try:
        found = await afterwards.status(idempotency_key=sale.idempotency_key)
    finally:
        await afterwards.close()
    assert found is not None and found.reference == made.reference
