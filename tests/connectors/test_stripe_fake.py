"""The Stripe fake on its own (in process, no sockets): Stripe's shapes, auth,
idempotency, search, refunds, persistence, webhooks signed as Stripe signs them, and
no card number or CVC on disk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import stripe
from fastapi import FastAPI
from pydantic import SecretStr

from bank_sim.app import Banks, create_app
from bank_sim.config import BankConfig
from bank_sim.processors.app import processors_app
from bank_sim.processors.stripe.fake import DEFAULT_KEY, StripeFake
from bank_sim.processors.stripe.forms import parse_form
from gateway_core.clock import FixedClock
from gateway_core.errors import SystemFailure
from gateway_core.settings import ProcessorSettings

AUTH = {"Authorization": f"Bearer {DEFAULT_KEY}"}
CARD = {
    "payment_method_data[type]": "card",
    "payment_method_data[card][number]": "4242424242424242",
    "payment_method_data[card][exp_month]": "12",
    "payment_method_data[card][exp_year]": "2030",
    "payment_method_data[card][cvc]": "123",
}


def sale(amount: int = 1500, **extra: str) -> dict[str, str]:
    return {"amount": str(amount), "currency": "usd", "confirm": "true"} | CARD | extra


@pytest.fixture
def app(tmp_path: Path, clock: FixedClock) -> FastAPI:
    return processors_app(tmp_path / "processors", clock)


@pytest.fixture
def fake(app: FastAPI) -> StripeFake:
    stripe_fake = app.state.fakes["stripe"]
    stripe_fake.webhooks.post = lambda deliveries: None  # recorded only: no HTTP here
    return stripe_fake


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fakes", headers=AUTH) as c:
        yield c


def test_form_keys_nest_as_stripe_sends_them() -> None:
    pairs = [
        ("metadata[payment_id]", "pay_1"),
        ("payment_method_data[card][number]", "4242"),
        ("enabled_events[0]", "a"),
        ("enabled_events[1]", "b"),
        ("expand[]", "latest_charge"),
    ]
    assert parse_form(pairs) == {
        "metadata": {"payment_id": "pay_1"},
        "payment_method_data": {"card": {"number": "4242"}},
        "enabled_events": ["a", "b"],
        "expand": ["latest_charge"],
    }


async def test_create_confirm_succeeds_in_stripes_shape(api: httpx.AsyncClient) -> None:
    answer = await api.post("/stripe/v1/payment_intents", data=sale())
    assert answer.status_code == 200
    intent = answer.json()
    assert intent["object"] == "payment_intent" and intent["id"].startswith("pi_")
    assert (intent["status"], intent["amount_received"]) == ("succeeded", 1500)
    assert intent["latest_charge"].startswith("ch_")
    charge = (await api.get(f"/stripe/v1/charges/{intent['latest_charge']}")).json()
    card = charge["payment_method_details"]["card"]
    assert (card["brand"], card["last4"], charge["captured"]) == ("visa", "4242", True)
    assert "number" not in card and "cvc" not in card


async def test_a_decline_is_402_card_error_with_the_intent(api: httpx.AsyncClient) -> None:
    data = sale() | {"payment_method_data[card][number]": "4000000000009995"}
    answer = await api.post("/stripe/v1/payment_intents", data=data)
    assert answer.status_code == 402
    error = answer.json()["error"]
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error",
        "card_declined",
        "insufficient_funds",
    )
    intent = error["payment_intent"]
    assert intent["status"] == "requires_payment_method"
    assert intent["last_payment_error"]["decline_code"] == "insufficient_funds"
    assert (await api.get(f"/stripe/v1/payment_intents/{intent['id']}")).status_code == 200


async def test_keys_missing_or_unknown_are_401(api: httpx.AsyncClient) -> None:
    bad = await api.get(
        "/stripe/v1/payment_intents", headers={"Authorization": "Bearer sk_test_nope1234"}
    )
    assert bad.status_code == 401 and "sk_test_nope1234" not in bad.text
    none = await api.get("/stripe/v1/payment_intents", headers={"Authorization": ""})
    assert none.status_code == 401
    basic = await api.get("/stripe/v1/payment_intents", auth=(DEFAULT_KEY, ""))
    assert basic.status_code == 200


async def test_idempotency_replays_or_refuses(api: httpx.AsyncClient) -> None:
    key = {"Idempotency-Key": "order-1"}
    first = await api.post("/stripe/v1/payment_intents", data=sale(), headers=key)
    again = await api.post("/stripe/v1/payment_intents", data=sale(), headers=key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = await api.post("/stripe/v1/payment_intents", data=sale(amount=1600), headers=key)
    assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"
    listed = (await api.get("/stripe/v1/payment_intents")).json()
    assert listed["object"] == "list" and len(listed["data"]) == 1


async def test_invalid_requests_are_400_or_404(api: httpx.AsyncClient) -> None:
    no_amount = await api.post("/stripe/v1/payment_intents", data={"currency": "usd"})
    assert no_amount.status_code == 400
    assert no_amount.json()["error"]["param"] == "amount"
    unknown = await api.post("/stripe/v1/payment_intents", data=sale(colour="red"))
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "colour"
    missing = await api.get("/stripe/v1/payment_intents/pi_nothing")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "resource_missing"
    nowhere = await api.get("/stripe/v1/balance_transactions_x")
    assert nowhere.status_code == 404


async def test_manual_capture_partial_then_refunds_up_to_captured(api: httpx.AsyncClient) -> None:
    intent = (
        await api.post("/stripe/v1/payment_intents", data=sale(3000, capture_method="manual"))
    ).json()
    assert (intent["status"], intent["amount_capturable"]) == ("requires_capture", 3000)
    too_much = await api.post(
        f"/stripe/v1/payment_intents/{intent['id']}/capture", data={"amount_to_capture": "3001"}
    )
    assert too_much.status_code == 400
    done = await api.post(
        f"/stripe/v1/payment_intents/{intent['id']}/capture", data={"amount_to_capture": "2000"}
    )
    assert (done.json()["status"], done.json()["amount_received"]) == ("succeeded", 2000)
    refunds = [
        await api.post("/stripe/v1/refunds", data={"payment_intent": intent["id"], "amount": a})
        for a in ("500", "1500", "1")
    ]
    assert [r.status_code for r in refunds] == [200, 200, 400]
    assert refunds[0].json()["object"] == "refund" and refunds[0].json()["id"].startswith("re_")
    listed = (await api.get("/stripe/v1/refunds", params={"payment_intent": intent["id"]})).json()
    assert sorted(r["amount"] for r in listed["data"]) == [500, 1500]


async def test_cancel_only_while_uncaptured(api: httpx.AsyncClient) -> None:
    held = (await api.post("/stripe/v1/payment_intents", data=sale(capture_method="manual"))).json()
    canceled = await api.post(f"/stripe/v1/payment_intents/{held['id']}/cancel")
    assert canceled.json()["status"] == "canceled"
    done = (await api.post("/stripe/v1/payment_intents", data=sale())).json()
    refused = await api.post(f"/stripe/v1/payment_intents/{done['id']}/cancel")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "payment_intent_unexpected_state"


async def test_search_by_metadata(api: httpx.AsyncClient) -> None:
    await api.post("/stripe/v1/payment_intents", data=sale() | {"metadata[payment_id]": "pay_A"})
    await api.post("/stripe/v1/payment_intents", data=sale() | {"metadata[payment_id]": "pay_B"})
    found = await api.get(
        "/stripe/v1/payment_intents/search", params={"query": "metadata['payment_id']:'pay_B'"}
    )
    assert found.json()["object"] == "search_result"
    assert [i["metadata"]["payment_id"] for i in found.json()["data"]] == ["pay_B"]
    bad = await api.get("/stripe/v1/payment_intents/search", params={"query": "amount>3"})
    assert bad.status_code == 400


async def test_state_survives_a_restart_without_card_data(
    tmp_path: Path, clock: FixedClock
) -> None:
    first = StripeFake(tmp_path, clock)
    intent = first.account.create_intent(
        {
            "amount": "900",
            "currency": "usd",
            "confirm": "true",
            "payment_method_data": {
                "type": "card",
                "card": {
                    "number": "4242424242424242",
                    "exp_month": "12",
                    "exp_year": "2030",
                    "cvc": "987",
                },
            },
        },
        None,
    )
    first.account.state.save()
    text = (tmp_path / "stripe.json").read_text()
    assert "4242424242424242" not in text and '"cvc"' not in text and '"number"' not in text
    again = StripeFake(tmp_path, clock)
    refund = again.account.refund({"payment_intent": intent["id"], "amount": "400"}, None)
    assert refund["amount"] == 400


async def test_webhooks_are_signed_as_stripe_signs_them(
    api: httpx.AsyncClient, fake: StripeFake
) -> None:
    endpoint = await api.post(
        "/stripe/v1/webhook_endpoints",
        data={"url": "http://127.0.0.1:1/hook", "enabled_events[0]": "payment_intent.succeeded"},
    )
    secret = endpoint.json()["secret"]
    assert secret.startswith("whsec_")
    listed = (await api.get("/stripe/v1/webhook_endpoints")).json()
    assert "secret" not in listed["data"][0]
    intent = (await api.post("/stripe/v1/payment_intents", data=sale())).json()
    (delivery,) = fake.sent(intent["id"])
    event = stripe.Webhook.construct_event(
        delivery.body, delivery.headers["Stripe-Signature"], secret, tolerance=None
    )
    assert (event.type, event.data.object.id) == ("payment_intent.succeeded", intent["id"])
    assert (await api.get(f"/stripe/v1/events/{event.id}")).json()["type"] == event.type


async def test_faults_route_and_down_answer(api: httpx.AsyncClient) -> None:
    await api.post("/stripe/_faults", json={"mode": "down", "count": 1})
    down = await api.post("/stripe/v1/payment_intents", data=sale())
    assert down.status_code == 503 and down.json()["error"]["type"] == "api_error"
    assert (await api.get("/stripe/v1/payment_intents")).json()["data"] == []


async def test_paygate_banks_serve_answers_stripe(tmp_path: Path, clock: FixedClock) -> None:
    banks = Banks(BankConfig(tmp_path, clock=clock))
    try:
        transport = httpx.ASGITransport(app=create_app(banks))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://banks", headers=AUTH
        ) as c:
            answer = await c.post("/stripe/v1/payment_intents", data=sale())
        assert answer.json()["status"] == "succeeded"
    finally:
        banks.close()


async def test_takes_the_configured_key_and_webhook_secret(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = {"stripe": ProcessorSettings(api_key=SecretStr("sk_test_mine"))}
    app = processors_app(tmp_path, clock, settings)
    fake: StripeFake = app.state.fakes["stripe"]
    _, secret = fake.add_endpoint(secret="whsec_configured")
    assert secret == "whsec_configured"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fakes") as c:
        for key, status in (("sk_test_mine", 200), (DEFAULT_KEY, 200), ("sk_test_other", 401)):
            answer = await c.get("/stripe/v1/payment_intents", auth=(key, ""))
            assert answer.status_code == status


def test_unreadable_state_is_one_plain_line(tmp_path: Path, clock: FixedClock) -> None:
    (tmp_path / "stripe.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SystemFailure) as refused:
        StripeFake(tmp_path, clock)
    assert "\n" not in str(refused.value) and "stripe.json" in str(refused.value)
