"""UPI in the day's figures (its own tender, MDR zero, its own payout) and reconciled
against the switch's settlement file: matched, missing, unexpected, late credits netted
with their refunds, reversals accounted apart."""

from __future__ import annotations

import pytest
from support import MANAGER, VISA, charge
from upi_fake import FakePsp

from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.payments import Payment, UpiInput
from gateway_core.runtime import Runtime
from gateway_core.settlement import Settlement, day_figures, format_reconciliation
from gateway_core.settlement.text import decline_text


@pytest.fixture
def psp(clock: FixedClock) -> FakePsp:
    return FakePsp(clock)


@pytest.fixture
def gw(runtime: Runtime, psp: FakePsp) -> Gateway:
    gateway = runtime.gateway
    gateway.upi = psp
    return gateway


def upi(amount: int) -> ChargeRequest:
    return ChargeRequest(amount=amount, currency="INR", method="upi", upi=UpiInput())


async def paid(gw: Gateway, psp: FakePsp, amount: int) -> Payment:
    payment = await gw.charge(upi(amount))
    psp.set(payment.id, "SUCCESS", "00", payer="success@payer", callback=True)
    return await gw.refresh(payment.id)


async def a_day(gw: Gateway, psp: FakePsp) -> dict[str, Payment]:
    """Two UPI sales (one partly refunded), a card sale, an expired QR with a late
    credit, a declined one and one reversed after the last check."""
    first, second = await paid(gw, psp, 300_00), await paid(gw, psp, 200_00)
    await gw.refund(first.id, 100_00, approval=MANAGER)
    card = await gw.charge(charge(VISA, 500_00))
    late = await gw.charge(upi(50_00))
    psp.set(late.id, "EXPIRED", "U69", callback=True)
    await gw.refresh(late.id)
    psp.set(late.id, "SUCCESS", "00", payer="slow@payer", callback=True)
    await gw.refresh(late.id)
    declined = await gw.charge(upi(70_00))
    psp.set(declined.id, "FAILURE", "Z9", payer="insufficient@payer", callback=True)
    await gw.refresh(declined.id)
    reversed_ = await gw.charge(upi(80_00))
    psp.set(reversed_.id, "PENDING", "UT", payer="timeout@payer")
    gw._clock.advance(seconds=390)
    await gw.refresh(reversed_.id)
    return {"first": first, "second": second, "card": card, "late": late, "rev": reversed_}


async def test_upi_is_its_own_tender_with_no_mdr(
    gw: Gateway, psp: FakePsp, runtime: Runtime
) -> None:
    await a_day(gw, psp)
    report = Settlement(runtime.records, runtime.settings, clock=runtime.clock).x_report()
    (line,) = [ln for ln in report.methods if ln.method == "upi"]
    assert (line.count, line.gross, line.refunds, line.fees, line.gst) == (2, 500_00, 100_00, 0, 0)
    assert line.payout == 400_00
    (payout,) = [p for p in report.payouts if p.method == "upi"]
    assert payout.amount == 400_00 and payout.reference.endswith("-UPI")
    act = report.activity
    assert (act.payments, act.declined, act.unpaid) == (6, 2, 1)
    assert act.declines == {"Z9": 1, "UT": 1}
    assert "unpaid UPI 1" in day_figures(report).attempts


async def test_reconcile_against_the_switch(gw: Gateway, psp: FakePsp, runtime: Runtime) -> None:
    day = await a_day(gw, psp)
    svc = Settlement(runtime.records, runtime.settings, clock=runtime.clock)
    today = svc.today()
    card_only = await svc.reconcile(today, gw.bank)
    assert card_only.ok and not card_only.switch
    assert {e.ref for e in card_only.matched} == {day["card"].id}
    rec = await svc.reconcile(today, gw.bank, psp)
    assert rec.ok and rec.switch, rec.document()
    upi = sorted((e.kind, e.ref) for e in rec.matched if e.brand == "upi")
    late_refund = runtime.payment(day["late"].id).upi.late_refund
    refund_id = runtime.payment(day["first"].id).refunds[0].id
    assert upi == sorted(
        [
            ("capture", day["first"].id),
            ("capture", day["second"].id),
            ("capture", day["late"].id),
            ("refund", refund_id),
            ("refund", late_refund),
        ]
    )
    assert [(e.kind, e.ref) for e in rec.reversals] == [("reversal", day["rev"].id)]
    text = format_reconciliation(rec)
    assert "UPI switch" in text[0] and any(ln.startswith("UPI reversals") for ln in text)
    assert set(rec.summary()) >= {"matched", "reversals"}


async def test_breaks_with_the_switch(gw: Gateway, psp: FakePsp, runtime: Runtime) -> None:
    day = await a_day(gw, psp)
    svc = Settlement(runtime.records, runtime.settings, clock=runtime.clock)
    psp.lines = [ln for ln in psp.lines if ln.reference != day["second"].id]  # lost
    stray = psp.lines[0].model_copy(update={"reference": "pay_20261128_stranger00", "txn_id": "X"})
    twice = next(ln for ln in psp.lines if ln.kind == "reversal")
    psp.lines += [stray, twice]
    rec = await svc.reconcile(svc.today(), gw.bank, psp)
    assert [(e.kind, e.ref) for e in rec.missing_at_acquirer] == [("capture", day["second"].id)]
    assert sorted((e.kind, e.ref) for e in rec.missing_at_gateway) == [
        ("capture", "pay_20261128_stranger00"),
        ("reversal", day["rev"].id),
    ]
    assert rec.breaks == 3


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("Z9", "Insufficient funds in the payer's account"),
        ("ZM", "Wrong UPI PIN"),
        ("51", "Insufficient funds"),  # a card's code keeps its words
        ("risk", "blocked by a risk rule"),
    ],
)
def test_a_decline_is_named_in_its_network_words(code: str, words: str) -> None:
    assert decline_text(code) == words
