"""Real connectors (their official SDKs) against their fakes: Stripe → Razorpay, Stripe
down → Razorpay charges once, Stripe times out after accepting → found at Stripe,
Razorpay never asked; UPI routed to Razorpay waits with its link and settles there."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import VISA, charge, open_runtime

from bank_sim.processors.app import Fakes
from bank_sim.processors.faults import Fault
from gateway_core.clock import FixedClock
from gateway_core.payments import ChargeRequest, NetbankingInput, UpiInput
from gateway_core.runtime import Runtime
from gateway_core.settings import ProcessorSettings, load_settings

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=:DeprecationWarning")  # the SDK's


@dataclass
class Both:
    rt: Runtime
    fakes: Fakes


@pytest.fixture
def both(tmp_path: Path, clock: FixedClock) -> Iterator[Both]:
    settings = load_settings(
        data_dir=tmp_path / "data",
        timezone="Asia/Kolkata",
        processors={
            "stripe": ProcessorSettings(timeout_s=0.5),
            "razorpay": ProcessorSettings(timeout_s=2),
        },
        routing=[{"method": "card", "processors": ["stripe", "razorpay"]}],
    )
    rt = open_runtime(settings, clock=clock)
    try:
        rt.gateway  # noqa: B018  (opens the embedded banks, and with them the fakes)
        yield Both(rt, rt.banks.processors)
    finally:
        rt.close()


async def test_stripe_down_razorpay_charges_once(both: Both) -> None:
    both.fakes["stripe"].faults.set(Fault(mode="down", count=1))
    payment = await both.rt.gateway.charge(charge(VISA))
    assert (payment.status, payment.processor) == ("succeeded", "razorpay"), payment.message
    assert payment.processor_reference.startswith("pay_")
    assert both.fakes["stripe"].intents(payment.id) == []
    assert len(both.fakes["razorpay"].payments_noted("paygate_payment", payment.id)) == 1


async def test_stripe_times_out_after_accepting_razorpay_is_not_asked(both: Both) -> None:
    both.fakes["stripe"].faults.set(Fault(mode="timeout_after_accept", count=1, delay_s=2))
    payment = await both.rt.gateway.charge(charge(VISA))
    assert (payment.status, payment.processor) == ("succeeded", "stripe")
    assert len(both.fakes["stripe"].intents(payment.id)) == 1
    assert both.fakes["razorpay"].payments_noted("paygate_payment", payment.id) == []


@pytest.fixture
def at_razorpay(tmp_path: Path, clock: FixedClock) -> Iterator[Both]:
    settings = load_settings(
        data_dir=tmp_path / "data",
        timezone="Asia/Kolkata",
        processors={"razorpay": ProcessorSettings(timeout_s=2)},
        routing=[
            {"method": "upi", "processors": ["razorpay"]},
            {"method": "netbanking", "processors": ["razorpay"]},
        ],
        upi={"collect_enabled": True},
    )
    rt = open_runtime(settings, clock=clock)
    try:
        rt.gateway  # noqa: B018  (opens the embedded banks, and with them the fakes)
        yield Both(rt, rt.banks.processors)
    finally:
        rt.close()


async def test_upi_at_razorpay_waits_with_its_link_and_settles_there(
    at_razorpay: Both,
) -> None:
    gateway = at_razorpay.rt.gateway
    req = ChargeRequest(amount=250_00, currency="INR", method="upi", upi=UpiInput())
    payment = await gateway.charge(req)
    assert (payment.status, payment.processor) == ("pending", "razorpay")
    assert payment.next_action.link.startswith("upi://pay?")  # Razorpay's intent link
    at_razorpay.fakes["razorpay"].complete(payment.processor_reference, success=True)
    paid = await gateway.refresh(payment.id)
    assert (paid.status, paid.amount_captured) == ("succeeded", 250_00)
    collect = UpiInput(flow="collect", vpa="success@razorpay")
    at_once = await gateway.charge(req.model_copy(update={"upi": collect}))
    assert (at_once.status, at_once.processor) == ("succeeded", "razorpay")


async def test_net_banking_at_razorpay_waits_on_its_page_and_settles_there(
    at_razorpay: Both,
) -> None:
    gateway = at_razorpay.rt.gateway
    nb = NetbankingInput(bank="DEMOA")
    req = ChargeRequest(amount=300_00, currency="INR", method="netbanking", netbanking=nb)
    payment = await gateway.charge(req)
    assert (payment.status, payment.processor) == ("pending", "razorpay")
    assert payment.next_action.type == "redirect" and payment.next_action.url
    at_razorpay.fakes["razorpay"].complete(payment.processor_reference, success=False)
    assert (await gateway.refresh(payment.id)).status == "declined"
