"""Failover only when it cannot charge twice, against scripted processors: down →
the next one charges once; an answer lost after the processor took the payment → found
by its idempotency key, no second charge; a decline is final; a payment whose fate is
unknown is settled by repair; every later step goes to the payment's own processor;
every attempt is audited, never with card data."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from routing_support import Routed, routed_runtime
from support import MANAGER, VISA, actions, charge

from gateway_core.clock import FixedClock
from gateway_core.payments import ChargeRequest, NotAllowed, UpiInput
from gateway_core.runtime import Runtime


def attempts(rt: Runtime, payment_id: str) -> list[tuple[str, str, bool]]:
    """(processor, outcome, failed over) of each `payment.attempt`, oldest first."""
    return [
        (d["processor"], d["outcome"], bool(d.get("failover")))
        for _day, e in rt.records.audit.events()
        if e["subject"] == payment_id and e["action"] == "payment.attempt"
        for d in [e["details"]]
    ]


async def test_primary_down_the_secondary_charges_once(routed: Routed) -> None:
    routed.stripe.script = ["down"]
    payment = await routed.rt.gateway.charge(charge(VISA))
    assert (payment.status, payment.amount_captured) == ("succeeded", 100_00)
    assert (payment.processor, payment.processor_reference) == ("razorpay", "razorpay_1")
    assert (routed.stripe.charged(), routed.razorpay.charged()) == (0, 1)
    assert attempts(routed.rt, payment.id) == [
        ("stripe", "down", True),
        ("razorpay", "approved", False),
    ]
    assert routed.rt.payment(payment.id).processor == "razorpay"  # as stored


async def test_a_request_that_never_left_fails_over_too(routed: Routed) -> None:
    routed.stripe.script = ["unreached"]
    payment = await routed.rt.gateway.charge(charge(VISA))
    assert payment.processor == "razorpay"
    assert attempts(routed.rt, payment.id)[0] == ("stripe", "down", True)


async def test_taken_then_answer_lost_is_found_by_its_key_and_not_charged_again(
    routed: Routed,
) -> None:
    routed.stripe.script = ["accept_then_lost"]
    payment = await routed.rt.gateway.charge(charge(VISA))
    assert (payment.status, payment.processor) == ("succeeded", "stripe")
    assert payment.processor_reference == "stripe_1"
    assert routed.stripe.charged() == 1
    assert routed.razorpay.calls == []  # no second charge anywhere
    key = f"paygate-{payment.id}-stripe"
    assert routed.stripe.calls == [("authorize", key), ("status", key)]
    assert attempts(routed.rt, payment.id) == [("stripe", "approved", False)]


async def test_lost_and_known_not_to_exist_fails_over(routed: Routed) -> None:
    routed.stripe.script = ["lost"]
    payment = await routed.rt.gateway.charge(charge(VISA))
    assert (payment.status, payment.processor) == ("succeeded", "razorpay")
    assert attempts(routed.rt, payment.id) == [
        ("stripe", "not_processed", True),
        ("razorpay", "approved", False),
    ]


async def test_a_decline_is_final(routed: Routed) -> None:
    routed.stripe.script = ["decline"]
    payment = await routed.rt.gateway.charge(charge(VISA))
    assert (payment.status, payment.response_code) == ("declined", "51")
    assert (payment.decline_code, payment.processor) == ("insufficient_funds", "stripe")
    assert routed.razorpay.calls == []
    assert attempts(routed.rt, payment.id) == [("stripe", "declined", False)]
    assert actions(routed.rt, payment.id)[-1] == "payment.declined"


async def test_a_request_the_processor_refuses_is_final(routed: Routed) -> None:
    routed.stripe.script = ["refuse"]
    payment = await routed.rt.gateway.charge(charge(VISA))
    assert (payment.status, payment.response_code, payment.decline_code) == (
        "declined",
        "96",
        "processing_error",
    )
    assert payment.message == "stripe refused the payment: Invalid API Key provided"
    assert routed.razorpay.calls == []
    assert attempts(routed.rt, payment.id) == [("stripe", "refused", False)]
    assert actions(routed.rt, payment.id)[-1] == "payment.declined"  # merchants are told


async def test_every_processor_down_is_a_decline_91(routed: Routed) -> None:
    routed.stripe.script, routed.razorpay.script = ["down"], ["down"]
    payment = await routed.rt.gateway.charge(charge(VISA))
    assert (payment.status, payment.response_code, payment.processor) == ("declined", "91", None)
    assert [a[1] for a in attempts(routed.rt, payment.id)] == ["down", "down"]


async def test_unknown_stays_unknown_and_repair_settles_it(routed: Routed) -> None:
    routed.stripe.script = ["accept_then_lost"]
    routed.stripe.status_script = ["unknown"]
    gateway = routed.rt.gateway
    payment = await gateway.charge(charge(VISA))
    assert (payment.status, payment.processor, payment.processor_reference) == (
        "unknown",
        "stripe",
        None,
    )
    assert routed.razorpay.calls == []  # not safe to try another
    assert attempts(routed.rt, payment.id) == [("stripe", "unknown", False)]
    assert actions(routed.rt, payment.id)[-1] == "payment.unknown"
    notes = await gateway.repair()
    assert notes == [f"{payment.id}: stripe: found, succeeded"]
    fixed = gateway.get(payment.id)
    assert (fixed.status, fixed.processor_reference, fixed.amount_captured) == (
        "succeeded",
        "stripe_1",
        100_00,
    )
    assert routed.stripe.charged() == 1


async def test_unknown_that_the_processor_never_took_is_declined_by_repair(
    routed: Routed,
) -> None:
    routed.stripe.script = ["lost"]
    routed.stripe.status_script = ["unknown"]
    gateway = routed.rt.gateway
    payment = await gateway.charge(charge(VISA))
    assert payment.status == "unknown"
    assert await gateway.repair() == [f"{payment.id}: stripe: not processed there, declined 91"]
    assert actions(routed.rt, payment.id)[-2:] == ["payment.attempt", "payment.declined"]
    assert (gateway.get(payment.id).status, gateway.get(payment.id).response_code) == (
        "declined",
        "91",
    )
    assert routed.stripe.charged() == 0 and routed.razorpay.calls == []


async def test_capture_void_and_refunds_reach_the_payments_own_processor(routed: Routed) -> None:
    routed.stripe.script = ["down", "down"]  # both payments land at razorpay
    gateway = routed.rt.gateway
    held = await gateway.charge(charge(VISA, 300_00, capture="manual"))
    assert (held.status, held.processor) == ("requires_capture", "razorpay")
    captured = await gateway.capture(held.id, 200_00)  # partial: the rest released
    assert (captured.status, captured.amount_captured) == ("succeeded", 200_00)
    once = await gateway.refund(held.id, 50_00, approval=MANAGER)
    twice = await gateway.refund(held.id, 25_00, approval=MANAGER)
    assert (once.amount_refunded, twice.amount_refunded) == (50_00, 75_00)
    assert [r.rrn for r in twice.refunds] == [
        f"re_re_{held.id.removeprefix('pay_')}_1",
        f"re_re_{held.id.removeprefix('pay_')}_2",
    ]
    other = await gateway.charge(charge(VISA, 80_00, capture="manual"))
    voided = await gateway.void(other.id, approval=MANAGER)
    assert (voided.status, voided.voided_by) == ("canceled", "cli")
    assert [op for op, _ in routed.razorpay.calls if op != "authorize"] == [
        "capture",
        "refund",
        "refund",
        "void",
    ]
    assert [op for op, _ in routed.stripe.calls] == ["authorize", "authorize"]
    assert [a for a in actions(routed.rt, held.id) if a.startswith("payment.")] == [
        "payment.created",
        "payment.attempt",  # stripe: down
        "payment.attempt",  # razorpay: approved
        "payment.requires_capture",
        "payment.captured",
        "payment.refunded",
        "payment.refunded",
    ]


async def test_simulated_in_the_list_is_the_built_in_acquirer(tmp_path, clock: FixedClock) -> None:
    rules = [{"processors": ["stripe", "simulated"]}]
    rt, scripted = routed_runtime(tmp_path / "data", clock, rules)
    try:
        scripted["stripe"].script = ["down"]
        payment = await rt.gateway.charge(charge(VISA))
        assert (payment.status, payment.processor, payment.rrn is not None) == (
            "succeeded",
            None,
            True,
        )
        assert attempts(rt, payment.id) == [
            ("stripe", "down", True),
            ("simulated", "approved", False),
        ]
        refunded = await rt.gateway.refund(payment.id, 10_00, approval=MANAGER)
        assert refunded.amount_refunded == 10_00  # at the built-in acquirer
        assert [op for op, _ in scripted["stripe"].calls] == ["authorize"]
    finally:
        rt.close()


async def test_a_method_a_processor_does_not_take_is_skipped(tmp_path, clock: FixedClock) -> None:
    rules = [{"method": "upi", "processors": ["stripe", "simulated"]}]
    rt, _scripted = routed_runtime(tmp_path / "data", clock, rules)
    try:
        req = ChargeRequest(amount=100_00, currency="INR", method="upi", upi=UpiInput())
        payment = await rt.gateway.charge(req)
        assert (payment.status, payment.processor) == ("pending", None)
        assert attempts(rt, payment.id) == [
            ("stripe", "skipped", True),
            ("simulated", "pending", False),
        ]
    finally:
        rt.close()


def _leaves(value: object) -> Iterator[str]:
    """Every scalar in `value` as text, but the audit chain's `mac` and `prev`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in ("mac", "prev"):
                yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield str(value)


async def test_attempts_carry_no_card_data(routed: Routed) -> None:
    routed.stripe.script = ["down"]
    payment = await routed.rt.gateway.charge(charge(VISA))
    events = [e for _d, e in routed.rt.records.audit.events() if e["subject"] == payment.id]
    values = list(_leaves(events))  # not the chain's MACs: hex may hold any 3 digits
    assert not any(VISA.digits in v for v in values)
    assert not any(re.search(rf"\b{VISA.cvv}\b", v) for v in values)
    assert routed.razorpay.made["razorpay_1"].pan_last4 == VISA.digits[-4:]  # it was sent


async def test_connectors_are_closed_with_the_runtime(routed: Routed) -> None:
    await routed.rt.gateway.charge(charge(VISA))
    await routed.rt.aclose()
    assert routed.stripe.closed


async def test_upi_at_a_processor_waits_and_is_settled_there(tmp_path, clock: FixedClock) -> None:
    rules = [{"method": "upi", "processors": ["razorpay"]}]
    rt, scripted = routed_runtime(tmp_path / "data", clock, rules)
    razorpay = scripted["razorpay"]
    try:
        razorpay.script = ["pending"]
        req = ChargeRequest(amount=100_00, currency="INR", method="upi", upi=UpiInput())
        payment = await rt.gateway.charge(req)
        assert (payment.status, payment.processor, payment.upi.flow) == (
            "pending",
            "razorpay",
            "qr",
        )
        assert payment.next_action.link == "upi://pay?pa=shop@razorpay&tr=razorpay_1"
        assert (await rt.gateway.refresh(payment.id)).status == "pending"  # still at razorpay
        razorpay.made["razorpay_1"].status = "succeeded"
        razorpay.made["razorpay_1"].captured = 100_00
        paid = await rt.gateway.refresh(payment.id)
        assert (paid.status, paid.amount_captured) == ("succeeded", 100_00)
        assert await rt.gateway.poll() == []  # the UPI switch's checks leave it alone
    finally:
        rt.close()


async def test_a_card_the_processor_authenticates_takes_no_otp_here(routed: Routed) -> None:
    routed.stripe.script = ["action"]
    payment = await routed.rt.gateway.charge(charge(VISA))
    assert (payment.status, payment.processor) == ("requires_action", "stripe")
    assert payment.message == "Waiting for the customer at stripe: https://stripe.test/3ds/stripe_1"
    with pytest.raises(NotAllowed, match="is authenticated at stripe, not by an OTP here"):
        await routed.rt.gateway.confirm_otp(payment.id, "123456")
    canceled = await routed.rt.gateway.void(payment.id, approval=MANAGER)
    assert canceled.status == "canceled"
    assert routed.stripe.calls[-1] == ("void", "stripe_1")
