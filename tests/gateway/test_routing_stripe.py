"""Failover with the real Stripe connector (the official SDK) against the Stripe fake
served by the embedded banks on a loopback port, with the fake's faults: Stripe down →
the built-in acquirer charges once; Stripe times out after accepting → the payment is
found there, no second charge; a decline is final; capture and refunds go to Stripe;
its signed webhooks are taken once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from support import MANAGER, VISA, charge, open_runtime

from bank_sim.processors.faults import Fault
from bank_sim.processors.stripe.fake import StripeFake
from bank_sim.testcards import card_for
from gateway_core.clock import FixedClock
from gateway_core.runtime import Runtime
from gateway_core.service.app import create_app
from gateway_core.settings import ProcessorSettings, load_settings

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=:DeprecationWarning")  # the SDK's
SECRET = "whsec_routing_test"
FUNDS_CARD = card_for("4000 0000 0000 9995")  # declines 51


@dataclass
class AtStripe:
    rt: Runtime
    fake: StripeFake


@pytest.fixture
def at_stripe(tmp_path: Path) -> Iterator[AtStripe]:
    # Fixed at the wall clock's now: the connector checks a webhook's age against its
    # own (system) clock, and the fake signs on the banks' clock.
    clock = FixedClock(datetime.now(UTC))
    stripe = ProcessorSettings(webhook_secret=SecretStr(SECRET), timeout_s=0.5)
    settings = load_settings(
        data_dir=tmp_path / "data",
        timezone="Asia/Kolkata",
        processors={"stripe": stripe},
        routing=[{"method": "card", "processors": ["stripe", "simulated"]}],
    )
    rt = open_runtime(settings, clock=clock)
    try:
        rt.gateway  # noqa: B018  (opens the embedded banks, and with them the fake)
        fake = rt.banks.processors["stripe"]
        assert isinstance(fake, StripeFake)
        fake.add_endpoint(secret=SECRET)
        yield AtStripe(rt, fake)
    finally:
        rt.close()


def attempts(rt: Runtime, payment_id: str) -> list[tuple[str, str]]:
    return [
        (e["details"]["processor"], e["details"]["outcome"])
        for _day, e in rt.records.audit.events()
        if e["subject"] == payment_id and e["action"] == "payment.attempt"
    ]


async def test_a_card_is_charged_at_stripe(at_stripe: AtStripe) -> None:
    payment = await at_stripe.rt.gateway.charge(charge(VISA))
    assert (payment.status, payment.processor, payment.amount_captured) == (
        "succeeded",
        "stripe",
        100_00,
    )
    assert payment.processor_reference.startswith("pi_") and payment.rrn is None
    (intent,) = at_stripe.fake.intents(payment.id)
    assert (intent["id"], intent["status"]) == (payment.processor_reference, "succeeded")


async def test_stripe_down_the_built_in_acquirer_charges_once(at_stripe: AtStripe) -> None:
    at_stripe.fake.faults.set(Fault(mode="down", count=1))
    payment = await at_stripe.rt.gateway.charge(charge(VISA))
    assert (payment.status, payment.processor) == ("succeeded", None)
    assert payment.rrn is not None  # the built-in acquirer's
    assert at_stripe.fake.intents(payment.id) == []
    assert attempts(at_stripe.rt, payment.id) == [("stripe", "down"), ("simulated", "approved")]


async def test_stripe_times_out_after_accepting_no_second_charge(at_stripe: AtStripe) -> None:
    at_stripe.fake.faults.set(Fault(mode="timeout_after_accept", count=1, delay_s=2))
    payment = await at_stripe.rt.gateway.charge(charge(VISA))
    assert (payment.status, payment.processor) == ("succeeded", "stripe")
    assert payment.rrn is None  # the built-in acquirer was not asked
    (intent,) = at_stripe.fake.intents(payment.id)
    assert intent["id"] == payment.processor_reference
    assert attempts(at_stripe.rt, payment.id) == [("stripe", "approved")]


async def test_a_stripe_decline_is_final(at_stripe: AtStripe) -> None:
    payment = await at_stripe.rt.gateway.charge(charge(FUNDS_CARD))
    assert (payment.status, payment.response_code, payment.processor) == (
        "declined",
        "51",
        "stripe",
    )
    assert payment.rrn is None
    assert attempts(at_stripe.rt, payment.id) == [("stripe", "declined")]


async def test_capture_and_refunds_go_to_stripe(at_stripe: AtStripe) -> None:
    gateway = at_stripe.rt.gateway
    held = await gateway.charge(charge(VISA, 300_00, capture="manual"))
    assert (held.status, held.processor) == ("requires_capture", "stripe")
    captured = await gateway.capture(held.id, 200_00)
    assert (captured.status, captured.amount_captured) == ("succeeded", 200_00)
    await gateway.refund(held.id, 50_00, approval=MANAGER)
    refunded = await gateway.refund(held.id, 25_00, approval=MANAGER)
    assert refunded.amount_refunded == 75_00
    assert all(r.rrn.startswith("re_") for r in refunded.refunds)
    (intent,) = at_stripe.fake.intents(held.id)
    assert (intent["amount_received"], intent["status"]) == (200_00, "succeeded")


@pytest.fixture
async def client(at_stripe: AtStripe) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(at_stripe.rt, repair_on_start=False, poll_every_s=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as opened:
        yield opened


async def test_stripes_signed_webhooks_are_taken_once(
    at_stripe: AtStripe, client: httpx.AsyncClient
) -> None:
    payment = await at_stripe.rt.gateway.charge(charge(VISA))
    (sent, *_) = at_stripe.fake.sent(payment.processor_reference)
    url = "/processors/stripe/webhook"
    tampered = sent.body.replace(b'"livemode": false', b'"livemode": true')
    refused = await client.post(url, content=tampered, headers=sent.headers)
    assert refused.status_code == 400 and "\n" not in refused.json()["error"]["message"]
    first = await client.post(url, content=sent.body, headers=sent.headers)
    assert (first.status_code, first.json()["outcome"]) == (200, "noted")  # already succeeded
    again = await client.post(url, content=sent.body, headers=sent.headers)
    assert (again.status_code, again.json()["outcome"]) == (200, "replayed")


async def test_an_answer_lost_twice_stays_unknown_and_repair_finds_it(at_stripe: AtStripe) -> None:
    at_stripe.fake.faults.set(Fault(mode="error", count=2))  # the charge, then its status
    gateway = at_stripe.rt.gateway
    payment = await gateway.charge(charge(VISA))
    assert (payment.status, payment.processor, payment.processor_reference) == (
        "unknown",
        "stripe",
        None,
    )
    assert await gateway.repair() == [f"{payment.id}: stripe: found, succeeded"]
    found = gateway.get(payment.id)
    (intent,) = at_stripe.fake.intents(payment.id)
    assert (found.status, found.processor_reference) == ("succeeded", intent["id"])
    assert found.rrn is None  # charged once, at Stripe
