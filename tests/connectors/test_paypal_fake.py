"""The PayPal fake's own behaviour, in PayPal's shapes over HTTP: OAuth, error bodies,
the approve-then-capture flow, what Payments v2 refuses, persistence and webhook
delivery (the connector's cases are in test_paypal.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from paypal_support import NOW, SETTINGS, VISA, Env, bearer, charge, running, serve
from starlette.requests import Request

from bank_sim.app import Banks, create_app
from bank_sim.config import BankConfig
from bank_sim.processors.app import processors_app
from bank_sim.processors.faults import Fault
from bank_sim.processors.paypal.fake import PaypalFake
from bank_sim.processors.server import LoopbackServer
from gateway_core.clock import FixedClock
from gateway_core.connectors.paypal import PaypalConnector
from gateway_core.connectors.paypal_mapping import FAKE_CLIENT
from gateway_core.errors import SystemFailure


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from running(tmp_path_factory.mktemp("paypal-fake"))


@pytest.fixture
async def paypal(env: Env) -> AsyncIterator[PaypalConnector]:
    connector = PaypalConnector(SETTINGS, env.url, clock=FixedClock(NOW))
    yield connector
    await connector.close()
    env.fake.faults.clear()


def test_oauth_refuses_other_clients(env: Env) -> None:
    answer = httpx.post(
        f"{env.url}/v1/oauth2/token",
        auth=("who", "knows"),
        data={"grant_type": "client_credentials"},
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert httpx.get(f"{env.url}/v2/checkout/orders/X").status_code == 401


async def test_errors_have_paypals_shape(env: Env) -> None:
    headers = bearer(env)
    missing = httpx.get(f"{env.url}/v2/checkout/orders/NOPE", headers=headers)
    assert missing.status_code == 404 and missing.json()["name"] == "RESOURCE_NOT_FOUND"
    assert {"debug_id", "message", "links", "details"} <= set(missing.json())
    unit = {"amount": {"currency_code": "JPY", "value": "100.50"}}
    body = {"intent": "CAPTURE", "purchase_units": [unit]}
    decimals = httpx.post(f"{env.url}/v2/checkout/orders", json=body, headers=headers)
    assert decimals.status_code == 422
    assert decimals.json()["details"][0]["issue"] == "DECIMALS_NOT_SUPPORTED"
    card = {"number": VISA, "expiry": "2030-12", "security_code": "123"}
    unpaid = body | {"payment_source": {"card": card}}
    unit["amount"]["value"] = "100"
    no_key = httpx.post(f"{env.url}/v2/checkout/orders", json=unpaid, headers=headers)
    assert no_key.json()["details"][0]["issue"] == "PAYPAL_REQUEST_ID_REQUIRED"
    minimal = httpx.post(f"{env.url}/v2/checkout/orders", json=body, headers=headers)
    assert minimal.status_code == 201 and set(minimal.json()) == {"id", "status", "links"}
    broken = httpx.post(f"{env.url}/v2/checkout/orders", content=b"{", headers=headers)
    assert broken.status_code == 400 and broken.json()["name"] == "INVALID_REQUEST"
    env.fake.faults.set(Fault(mode="down", count=1))
    down = httpx.get(f"{env.url}/v2/checkout/orders/NOPE", headers=headers)
    assert down.status_code == 503 and down.json()["name"] == "SERVICE_UNAVAILABLE"


async def test_the_state_survives_a_restart(paypal: PaypalConnector, env: Env) -> None:
    sale = await paypal.authorize(charge())
    reopened = PaypalFake(env.directory, FixedClock(NOW), SETTINGS)
    assert reopened.store.get("orders", sale.reference) is not None
    assert reopened.webhooks.public_pem() == env.fake.webhooks.public_pem()


async def test_an_order_the_payer_approves_then_the_merchant_captures(env: Env) -> None:
    headers = bearer(env)
    orders = f"{env.url}/v2/checkout/orders"
    unit = {"custom_id": "pay_flow", "amount": {"currency_code": "EUR", "value": "12.00"}}
    body = {"intent": "CAPTURE", "purchase_units": [unit]}
    keyed = headers | {"PayPal-Request-Id": "flow-1", "Prefer": "return=representation"}
    created = httpx.post(orders, json=body, headers=keyed)
    assert created.status_code == 201 and created.json()["status"] == "CREATED"
    assert "approve" in {link["rel"] for link in created.json()["links"]}
    replayed = httpx.post(orders, json=body, headers=keyed)
    assert replayed.status_code == 200 and replayed.json()["id"] == created.json()["id"]
    order = f"{orders}/{created.json()['id']}"

    def issue(answer: httpx.Response) -> str:
        assert answer.status_code == 422 and answer.json()["name"] == "UNPROCESSABLE_ENTITY"
        return str(answer.json()["details"][0]["issue"])

    assert issue(httpx.post(f"{order}/capture", headers=headers)) == "ORDER_NOT_APPROVED"
    httpx.post(f"{env.url}/_simulate/approve/{created.json()['id']}").raise_for_status()
    authorize = httpx.post(f"{order}/authorize", headers=headers)
    assert issue(authorize) == "ACTION_DOES_NOT_MATCH_INTENT"
    captured = httpx.post(f"{order}/capture", headers=keyed | {"PayPal-Request-Id": "flow-2"})
    assert captured.status_code == 201 and captured.json()["status"] == "COMPLETED"
    capture = captured.json()["purchase_units"][0]["payments"]["captures"][0]
    assert capture["status"] == "COMPLETED" and "processor_response" not in capture  # a wallet
    again = httpx.post(f"{order}/capture", headers=headers | {"PayPal-Request-Id": "flow-3"})
    assert issue(again) == "ORDER_ALREADY_CAPTURED"


async def test_payments_refuse_what_paypal_refuses(paypal: PaypalConnector, env: Env) -> None:
    headers = bearer(env)
    auth = await paypal.authorize(charge(amount=1_000, capture=False))
    order = httpx.get(f"{env.url}/v2/checkout/orders/{auth.reference}", headers=headers).json()
    auth_id = order["purchase_units"][0]["payments"]["authorizations"][0]["id"]
    payments = f"{env.url}/v2/payments/authorizations/{auth_id}"

    def issue(answer: httpx.Response) -> str:
        assert answer.status_code == 422
        return str(answer.json()["details"][0]["issue"])

    over = {"amount": {"currency_code": "USD", "value": "10.01"}}
    assert issue(httpx.post(f"{payments}/capture", json=over, headers=headers)) == (
        "MAX_CAPTURE_AMOUNT_EXCEEDED"
    )
    euros = {"amount": {"currency_code": "EUR", "value": "1.00"}}
    assert issue(httpx.post(f"{payments}/capture", json=euros, headers=headers)) == (
        "CURRENCY_MISMATCH"
    )
    part = {"amount": {"currency_code": "USD", "value": "4.00"}}  # not final: more may follow
    first = httpx.post(f"{payments}/capture", json=part, headers=headers)
    assert first.status_code == 201
    shown = httpx.get(payments, headers=headers).json()
    assert shown["status"] == "PARTIALLY_CAPTURED"
    rest = httpx.post(f"{payments}/capture", headers=headers)  # no amount: what is left
    assert rest.status_code == 201
    assert httpx.get(payments, headers=headers).json()["status"] == "CAPTURED"
    assert issue(httpx.post(f"{payments}/void", headers=headers)) == "PREVIOUSLY_CAPTURED"
    result = await paypal.status(reference=auth.reference)
    assert result is not None and (result.status, result.amount_captured) == ("succeeded", 1_000)


async def test_the_fake_delivers_its_events_to_a_webhook_url(tmp_path: Path) -> None:
    received: list[tuple[dict[str, str], bytes]] = []
    arrived = threading.Event()
    receiver = FastAPI()

    @receiver.post("/hooks")
    async def hook(request: Request) -> dict[str, str]:
        received.append((dict(request.headers), await request.body()))
        arrived.set()
        return {}

    inbox = LoopbackServer(receiver)
    inbox_url = inbox.start()
    fake = PaypalFake(tmp_path, FixedClock(NOW), SETTINGS, webhook_url=f"{inbox_url}/hooks")
    server, url = serve(fake)
    connector = PaypalConnector(SETTINGS, url, clock=FixedClock(NOW))
    try:
        await connector.authorize(charge(capture=False))
        assert await asyncio.to_thread(arrived.wait, 10)
        headers, body = received[0]
        event = await connector.parse_webhook(headers, body)
        assert event.type == "PAYMENT.AUTHORIZATION.CREATED"
    finally:
        await connector.close()
        server.stop()
        inbox.stop()


async def test_paygate_banks_serve_answers_paypal(tmp_path: Path, clock: FixedClock) -> None:
    banks = Banks(BankConfig(tmp_path, clock=clock))
    try:
        transport = httpx.ASGITransport(app=create_app(banks))
        async with httpx.AsyncClient(transport=transport, base_url="http://banks") as c:
            token = await c.post(
                "/paypal/v1/oauth2/token",
                auth=FAKE_CLIENT,
                data={"grant_type": "client_credentials"},
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            unit = {"amount": {"currency_code": "INR", "value": "10.00"}}
            body = {"intent": "CAPTURE", "purchase_units": [unit]}
            created = await c.post("/paypal/v2/checkout/orders", json=body, headers=headers)
            assert created.status_code == 201 and created.json()["status"] == "CREATED"
            await c.post("/paypal/_faults", json={"mode": "down", "count": 1})
            down = await c.post("/paypal/v2/checkout/orders", json=body, headers=headers)
            assert down.status_code == 503 and down.json()["name"] == "SERVICE_UNAVAILABLE"
    finally:
        banks.close()


async def test_takes_its_test_client_and_the_configured_one(tmp_path: Path) -> None:
    settings = {"paypal": SETTINGS}
    app = processors_app(tmp_path, FixedClock(NOW), settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fakes") as c:
        for client, status in (
            (("paypal-client-id", "paypal-client-secret"), 200),
            (FAKE_CLIENT, 200),
            (("paypal-client-id", "guess"), 401),
        ):
            answer = await c.post(
                "/paypal/v1/oauth2/token", auth=client, data={"grant_type": "client_credentials"}
            )
            assert answer.status_code == status


def test_unreadable_state_is_one_plain_line(tmp_path: Path) -> None:
    (tmp_path / "paypal.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SystemFailure) as refused:
        PaypalFake(tmp_path, FixedClock(NOW))
    assert "\n" not in str(refused.value) and "paypal.json" in str(refused.value)
