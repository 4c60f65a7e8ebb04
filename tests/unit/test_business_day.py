"""The business day moves on at Z: after day D's Z report, sales, captures and refunds
go on into D+1 at once (not at midnight); reports, the acquirer's clearing and
reconciliation all count them on D+1, and D's Z report stands unchanged."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from support import MANAGER, VISA, charge, open_runtime

from gateway_core.clock import FixedClock, business_day_at
from gateway_core.payments import payment_day
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings
from gateway_core.settlement import Settlement

IST = timezone(timedelta(hours=5, minutes=30), "IST")
DAY = date(2026, 11, 20)
NEXT = DAY + timedelta(days=1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=IST)


def test_a_moment_after_its_days_z_belongs_to_the_next_business_day() -> None:
    closed = {DAY: at(DAY, 21, 30)}.get
    assert business_day_at(at(DAY, 21, 29), IST, closed) == DAY
    assert business_day_at(at(DAY, 21, 30), IST, closed) == DAY  # stamped as Z was taken
    assert business_day_at(at(DAY, 21, 31), IST, closed) == NEXT
    assert business_day_at(at(DAY, 23, 59), IST, closed) == NEXT
    assert business_day_at(at(NEXT, 0, 5), IST, closed) == NEXT  # midnight catches up
    both = {DAY: at(DAY, 21, 30), NEXT: at(DAY, 22, 0)}.get
    assert business_day_at(at(DAY, 22, 30), IST, both) == NEXT + timedelta(days=1)
    assert business_day_at(at(DAY, 23, 0), IST) == DAY  # no closings: the calendar


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(at(DAY, 10))


@pytest.fixture
def rt(settings: Settings, clock: FixedClock):
    runtime = open_runtime(settings, clock=clock)
    yield runtime
    runtime.close()


def settlement(rt: Runtime, settings: Settings) -> Settlement:
    return Settlement(rt.records, settings, audit=rt.audit, clock=rt.clock)


async def test_after_z_sales_go_on_into_the_next_business_day(rt, settings, clock) -> None:
    gw, svc = rt.gateway, settlement(rt, settings)
    first = await gw.charge(charge(VISA, 500_00))
    hold = await gw.charge(charge(VISA, 300_00, capture="manual"))
    await gw.capture(hold.id)
    clock.advance(hours=11)  # 21:00
    z, _ = svc.close_day(DAY, closed_by="meera")
    assert svc.today() == DAY  # the very moment of the Z
    clock.advance(minutes=30)  # 21:30, the same calendar day
    assert svc.today() == NEXT
    late = await gw.charge(charge(VISA, 200_00))
    assert late.status == "succeeded" and payment_day(late.id) == NEXT
    refund = await gw.refund(first.id, 50_00, approval=MANAGER)
    assert refund.amount_refunded == 50_00
    preauth = await gw.charge(charge(VISA, 70_00, capture="manual"))
    clock.advance(hours=3)  # 00:30 the next calendar day: still the same business day
    await gw.capture(preauth.id, 60_00)
    after_midnight = await gw.charge(charge(VISA, 10_00))
    assert payment_day(after_midnight.id) == NEXT
    # D's Z stands; D+1 has the late sale, the refund, the capture and the next sale
    assert svc.closing(DAY).model_dump() == z.model_dump()
    assert svc.check_closing(DAY) == []
    assert svc.x_report(DAY).totals == z.totals
    next_day = svc.x_report(NEXT).total()
    assert (next_day.gross, next_day.refunds) == (200_00 + 60_00 + 10_00, 50_00)
    assert {row["payment_id"] for row in svc.transactions(NEXT)} >= {late.id, preauth.id}
    # the acquirer cleared them on the same business days: no break either day
    for day in (DAY, NEXT):
        rec = await svc.reconcile(day, gw.bank)
        assert rec.ok, (day, rec)
    assert (await gw.bank.ledger_check()).ok


async def test_a_capture_of_an_earlier_preauth_after_z_counts_on_the_next_day(
    rt, settings, clock
) -> None:
    gw, svc = rt.gateway, settlement(rt, settings)
    hold = await gw.charge(charge(VISA, 400_00, capture="manual"))
    clock.advance(days=1)  # the pre-auth's day is never closed: it stays open
    await gw.charge(charge(VISA, 100_00))
    svc.close_day(NEXT, closed_by="meera")
    clock.advance(minutes=1)
    captured = await gw.capture(hold.id, 350_00)  # after NEXT's Z: on the day after
    assert captured.status == "succeeded"
    later = NEXT + timedelta(days=1)
    assert svc.x_report(NEXT).total().gross == 100_00
    assert svc.x_report(later).total().gross == 350_00
    assert (await svc.reconcile(later, gw.bank)).ok
    assert (await svc.reconcile(NEXT, gw.bank)).ok
    assert svc.check_closing(NEXT) == []
