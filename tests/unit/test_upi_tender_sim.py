"""The UPI tender through the simulated network (the embedded banks' `/upi/v1`): every
response code one test VPA away, pending payments resolved by callbacks and status
checks on a clock the test moves, cancel, refunds, and the UPI books balanced."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support import MANAGER, actions, open_runtime, pay_upi

from gateway_core.clock import FixedClock
from gateway_core.errors import BankRefused
from gateway_core.gateway import ChargeRequest
from gateway_core.payments import NotAllowed, UpiInput
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings, UpiSettings
from gateway_core.upi_api import TEST_BALANCE, TEST_PIN


@pytest.fixture
async def rt(settings: Settings, clock: FixedClock) -> AsyncIterator[Runtime]:
    on = settings.model_copy(update={"upi": UpiSettings(collect_enabled=True)})
    runtime = open_runtime(on, clock=clock)
    try:
        yield runtime
    finally:
        await runtime.aclose()


def upi(amount: int = 250_00, flow: str = "qr", vpa: str | None = None) -> ChargeRequest:
    return ChargeRequest(
        amount=amount, currency="INR", method="upi", upi=UpiInput(flow=flow, vpa=vpa)
    )


async def balanced(rt: Runtime) -> None:
    check = await rt.payer.ledger_check()
    assert check.ok, check.problem


async def balance(rt: Runtime, vpa: str) -> int:
    (payer,) = [p for p in await rt.payer.payers() if p.vpa == vpa]
    return payer.balance


@pytest.mark.parametrize(
    ("vpa", "amount", "pin", "code"),
    [
        ("insufficient@payer", 250_00, TEST_PIN, "Z9"),
        ("limit@payer", 2_500_00, TEST_PIN, "Z8"),
        ("decline@payer", 250_00, TEST_PIN, "ZA"),
        ("noaccount@payer", 250_00, TEST_PIN, "XH"),
        ("debitfail@payer", 250_00, TEST_PIN, "U30"),
        ("success@payer", 250_00, "9999", "ZM"),
    ],
)
async def test_each_payer_failure_declines_with_its_code(
    rt: Runtime, vpa: str, amount: int, pin: str, code: str
) -> None:
    gw = rt.gateway
    payment = await gw.charge(upi(amount))
    result = await rt.payer.pay(vpa, pin, link=payment.upi.link)
    assert (result.status, result.response_code) == ("FAILURE", code)
    declined = await gw.refresh(payment.id)
    assert (declined.status, declined.response_code) == ("declined", code)
    assert "upi.callback" in actions(rt, payment.id)
    await balanced(rt)


async def test_a_qr_paid_by_success_at_payer(rt: Runtime) -> None:
    gw = rt.gateway
    payment = await gw.charge(upi(100_00))
    assert payment.status == "pending" and payment.next_action.type == "upi_qr"
    result = await rt.payer.pay("success@payer", TEST_PIN, link=payment.upi.link)
    assert (result.status, result.response_code, result.reference) == ("SUCCESS", "00", payment.id)
    paid = await gw.refresh(payment.id)
    assert (paid.status, paid.rrn, paid.upi.payer_vpa) == ("succeeded", result.rrn, "success@payer")
    assert await balance(rt, "success@payer") == TEST_BALANCE - 100_00
    assert actions(rt, payment.id) == [
        "payment.created",
        "payment.pending",
        "upi.callback",
        "payment.succeeded",
    ]
    assert rt.audit.verify().bad_seq is None
    await balanced(rt)


async def test_an_intent_is_paid_and_found_by_poll(rt: Runtime) -> None:
    gw = rt.gateway
    payment = await gw.charge(upi(flow="intent"))
    assert "mode=04" in payment.upi.link and payment.next_action.type == "upi_intent"
    await rt.payer.pay("success@payer", TEST_PIN, link=payment.upi.link)
    assert await gw.poll() == [f"{payment.id}: succeeded"]


async def test_a_collect_request_paid_from_the_inbox(rt: Runtime) -> None:
    gw = rt.gateway
    payment = await gw.charge(upi(flow="collect", vpa="success@payer"))
    (request,) = await rt.payer.inbox("success@payer")
    assert (request.request_id, request.amount) == (payment.upi.txn_id, 250_00)
    await rt.payer.pay("success@payer", TEST_PIN, request_id=request.request_id)
    assert (await gw.refresh(payment.id)).status == "succeeded"
    unknown = await gw.charge(upi(flow="collect", vpa="noaccount@payer"))
    assert (unknown.status, unknown.response_code) == ("declined", "XH")


async def test_a_declined_collect_request(rt: Runtime) -> None:
    payment = await rt.gateway.charge(upi(flow="collect", vpa="decline@payer"))
    await rt.payer.decline("decline@payer", payment.upi.txn_id)
    assert (await rt.gateway.refresh(payment.id)).response_code == "ZA"


async def test_nobody_pays_the_qr_expires(rt: Runtime, clock: FixedClock) -> None:
    gw = rt.gateway
    payment = await gw.charge(upi())
    clock.advance(seconds=299)
    assert (await gw.refresh(payment.id)).status == "pending"
    clock.advance(seconds=1)
    expired = await gw.refresh(payment.id)
    assert (expired.status, expired.response_code) == ("expired", "U69")
    late = await rt.payer.pay("success@payer", TEST_PIN, link=payment.upi.link)
    assert (late.status, late.response_code) == ("EXPIRED", "U69")
    assert await balance(rt, "success@payer") == TEST_BALANCE


async def test_slow_at_payer_is_pending_then_paid(rt: Runtime, clock: FixedClock) -> None:
    gw = rt.gateway
    payment = await gw.charge(upi())
    result = await rt.payer.pay("slow@payer", TEST_PIN, link=payment.upi.link)
    assert result.status == "PENDING"
    assert (await gw.refresh(payment.id)).status == "pending"
    clock.advance(seconds=30)
    assert (await gw.refresh(payment.id)).status == "succeeded"
    await balanced(rt)


async def test_bankdown_at_payer_waits_for_the_bank(rt: Runtime, clock: FixedClock) -> None:
    gw = rt.gateway
    payment = await gw.charge(upi())
    result = await rt.payer.pay("bankdown@payer", TEST_PIN, link=payment.upi.link)
    assert (result.status, result.response_code) == ("PENDING", "BT")
    clock.advance(seconds=90)
    first = await gw.refresh(payment.id)  # the first check: still waiting for the bank
    assert (first.status, first.response_code, first.upi.checks) == ("pending", "BT", 1)
    clock.advance(seconds=30)
    assert (await gw.refresh(payment.id)).status == "succeeded"
    await balanced(rt)


async def test_deemed_at_payer_is_confirmed_at_the_first_check(
    rt: Runtime, clock: FixedClock
) -> None:
    gw = rt.gateway
    payment = await gw.charge(upi())
    result = await rt.payer.pay("deemed@payer", TEST_PIN, link=payment.upi.link)
    assert (result.status, result.response_code) == ("DEEMED", "RB")
    assert (await gw.refresh(payment.id)).status == "pending"
    clock.advance(seconds=90)
    paid = await gw.refresh(payment.id)
    assert (paid.status, paid.upi.checks) == ("succeeded", 1)
    await balanced(rt)


async def test_timeout_at_payer_is_reversed_after_the_last_check(
    rt: Runtime, clock: FixedClock
) -> None:
    gw = rt.gateway
    payment = await gw.charge(upi())
    result = await rt.payer.pay("timeout@payer", TEST_PIN, link=payment.upi.link)
    assert (result.status, result.response_code) == ("PENDING", "UT")
    assert await balance(rt, "timeout@payer") == TEST_BALANCE - 250_00
    seen = []
    for seconds in (90, 210, 90):
        clock.advance(seconds=seconds)
        seen.append((await gw.poll(), gw.get(payment.id).upi.checks))
    assert seen == [([], 1), ([], 2), ([f"{payment.id}: declined"], 3)]
    declined = gw.get(payment.id)
    assert (declined.status, declined.response_code) == ("declined", "UT")
    assert declined.message.endswith("any debit is reversed") and declined.reversal
    assert await balance(rt, "timeout@payer") == TEST_BALANCE
    assert actions(rt, payment.id).count("upi.status_check") == 3
    await balanced(rt)


async def test_three_wrong_pins_lock_the_payer_for_the_day(rt: Runtime) -> None:
    gw = rt.gateway
    codes = []
    for pin in ("1111", "2222", "3333", TEST_PIN):
        payment = await gw.charge(upi(10_00))
        codes.append(
            (await rt.payer.pay("success@payer", pin, link=payment.upi.link)).response_code
        )
        assert (await gw.refresh(payment.id)).response_code == codes[-1]
    assert codes == ["ZM", "ZM", "ZD", "ZD"]  # the third wrong PIN locks, the right one too


async def test_cancel_tells_the_switch(rt: Runtime) -> None:
    gw = rt.gateway
    payment = await gw.charge(upi())
    canceled = await gw.cancel(payment.id, operator="asha")
    assert canceled.status == "canceled"
    with pytest.raises(BankRefused, match="canceled already"):
        await rt.payer.pay("success@payer", TEST_PIN, link=payment.upi.link)
    assert await balance(rt, "success@payer") == TEST_BALANCE


async def test_refunds_full_and_partial(rt: Runtime) -> None:
    gw = rt.gateway
    payment = await pay_upi(rt, upi(300_00), "success@payer")
    part = await gw.refund(payment.id, 100_00, approval=MANAGER)
    rest = await gw.refund(payment.id, approval=MANAGER)
    assert (part.amount_refunded, rest.amount_refunded) == (100_00, 300_00)
    assert all(r.rrn for r in rest.refunds)
    assert await balance(rt, "success@payer") == TEST_BALANCE
    with pytest.raises(NotAllowed):
        await gw.refund(payment.id, approval=MANAGER)
    await balanced(rt)


async def test_a_refund_while_the_payers_bank_is_down_is_filed_pending(
    rt: Runtime, clock: FixedClock
) -> None:
    payment = await pay_upi(rt, upi(), "bankdown@payer", wait_s=120)
    assert payment.status == "succeeded"
    refunded = await rt.gateway.refund(payment.id, approval=MANAGER)  # the bank is back
    assert refunded.amount_refunded == 250_00
    await balanced(rt)


async def test_reconcile_against_the_switch(rt: Runtime, clock: FixedClock) -> None:
    from gateway_core.settlement import Settlement

    gw = rt.gateway
    first = await pay_upi(rt, upi(300_00), "success@payer")
    await gw.refund(first.id, 100_00, approval=MANAGER)
    reversed_ = await gw.charge(upi(80_00))
    await rt.payer.pay("timeout@payer", TEST_PIN, link=reversed_.upi.link)
    await gw.charge(upi(90_00))  # expires
    clock.advance(seconds=400)
    await gw.poll()
    svc = Settlement(rt.records, rt.settings, clock=clock)
    rec = await svc.reconcile(svc.today(), gw.bank, gw.upi)
    assert rec.ok, rec.document()
    assert sorted(e.kind for e in rec.matched) == ["capture", "refund"]
    assert [e.ref for e in rec.reversals] == [reversed_.id]


async def test_a_credit_after_the_cashier_gave_up_is_refunded(
    rt: Runtime, clock: FixedClock
) -> None:
    gw = rt.gateway
    payment = await gw.charge(upi())
    result = await rt.payer.pay("slow@payer", TEST_PIN, link=payment.upi.link)
    assert result.status == "PENDING"  # the payer's bank is working on it
    canceled = await gw.cancel(payment.id)
    assert canceled.status == "canceled" and "refunded" in canceled.message
    clock.advance(seconds=30)  # the bank answers: the payee is credited, late
    refund_id = f"re_{payment.id[4:]}_late"
    assert await gw.poll() == [f"{payment.id}: late credit refunded ({refund_id})"]
    late = gw.get(payment.id)
    assert (late.status, late.upi.late_refund) == ("canceled", refund_id)
    assert actions(rt, payment.id)[-2:] == ["upi.callback", "upi.late_credit_refunded"]
    assert await balance(rt, "slow@payer") == TEST_BALANCE
    await balanced(rt)
    from gateway_core.settlement import Settlement

    svc = Settlement(rt.records, rt.settings, clock=clock)
    rec = await svc.reconcile(svc.today(), gw.bank, gw.upi)
    assert rec.ok and sorted(e.kind for e in rec.matched) == ["capture", "refund"]


async def test_a_bank_answering_after_the_last_check_is_a_late_credit(
    rt: Runtime, clock: FixedClock
) -> None:
    gw = rt.gateway
    payment = await gw.charge(upi())
    clock.advance(seconds=290)
    await rt.payer.pay("bankdown@payer", TEST_PIN, link=payment.upi.link)  # back at 410 s
    clock.advance(seconds=100)  # 390 s: the last check, the bank still down
    await gw.poll()
    declined = gw.get(payment.id)
    assert (declined.status, declined.response_code) == ("declined", "BT")
    assert declined.message.endswith("any debit is reversed")
    clock.advance(seconds=20)
    await gw.poll()
    assert gw.get(payment.id).upi.late_refund  # filed: the refund waits for the bank too
    assert await balance(rt, "bankdown@payer") == TEST_BALANCE - 250_00
    clock.advance(seconds=120)
    await gw.poll()
    assert await balance(rt, "bankdown@payer") == TEST_BALANCE
    await balanced(rt)


async def test_poll_never_touches_a_card_sale_in_progress(rt: Runtime, clock: FixedClock) -> None:
    import asyncio

    from support import SLOW_CARD, charge

    rt.gateway  # noqa: B018  # opens the banks
    rt.banks.config.slow_fault_s = 1.0
    gw = rt.gateway
    waiting = await gw.charge(upi())
    await rt.payer.pay("success@payer", TEST_PIN, link=waiting.upi.link)
    sale = asyncio.create_task(gw.charge(charge(SLOW_CARD, 100_00)))
    while not [p for p in gw.list_day() if p.method == "card"]:  # stored, at the issuer
        await asyncio.sleep(0.01)
    assert await gw.poll() == [f"{waiting.id}: succeeded"]  # the card sale: left alone
    card = await sale
    assert card.status == "succeeded"
    assert actions(rt, card.id) == ["payment.created", "payment.captured"]  # one 0200
