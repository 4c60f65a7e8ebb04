"""Cashiers' shifts: one open per terminal, the counted float, paid in / paid out with a
manager, close over or short (a big short needs a manager), audited; Z refuses while
shifts are open, or closes them uncounted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import MANAGER

from gateway_core.access import AccessError, NotPermitted
from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.payments import CashInput
from gateway_core.ports import Approval, ShiftsAPI
from gateway_core.runtime import Runtime
from gateway_core.settlement import DayNotReady, Settlement
from gateway_core.shift_models import ShiftError
from gateway_core.shifts import Shifts, check_count
from gateway_core.store.repos import TinyAuditRepository

FLOAT = {50000: 2, 10000: 5}  # ₹1,500.00
CASHIER = Approval("asha", "1111")


def events(rt: Runtime, subject: str) -> list[tuple[str, dict]]:
    return [
        (e["action"], e["details"])
        for _day, e in TinyAuditRepository(rt.store).events()
        if e["subject"] == subject
    ]


async def sell(gw: Gateway, amount: int) -> None:
    req = ChargeRequest(
        amount=amount,
        currency="INR",
        method="cash",
        cash=CashInput(tendered=amount),
        operator="asha",
    )
    assert (await gw.charge(req)).status == "succeeded"


def test_shifts_is_the_port(runtime: Runtime) -> None:
    assert isinstance(runtime.gateway.shifts, Shifts)
    api: ShiftsAPI = runtime.gateway.shifts
    assert api.current_shift() is None


def test_a_count_is_of_the_currency_s_notes_and_coins() -> None:
    assert check_count({100: 3, 50000: 2, 2000: 0}, "INR") == {50000: 2, 100: 3}
    with pytest.raises(ShiftError, match=r"^₹3.00 is not a INR note or coin$"):
        check_count({300: 1}, "INR")
    with pytest.raises(ShiftError, match="0 to 100000 pieces"):
        check_count({100: -1}, "INR")
    assert check_count({1: 1234}, "CHF") == {1: 1234}  # not listed: one total


async def test_open_once_per_terminal(runtime: Runtime, clock: FixedClock) -> None:
    shifts = runtime.gateway.shifts
    shift = await shifts.open_shift(count=FLOAT, cashier="asha")
    assert shift.id.startswith("shf_20261128_")
    assert (shift.status, shift.terminal_id, shift.float_amount, shift.expected) == (
        "open",
        "TERM0001",
        150000,
        150000,
    )
    assert shift.opening == {50000: 2, 10000: 5}
    with pytest.raises(ShiftError, match=rf"^shift {shift.id} is already open on TERM0001"):
        await shifts.open_shift(count={}, cashier="ravi")
    with pytest.raises(ShiftError, match="cashier is a user id of 1 to 32 characters"):
        await shifts.open_shift(count={}, cashier=" ", terminal_id="TERM0002")
    other = await shifts.open_shift(count={}, cashier="ravi", terminal_id="TERM0002")
    assert [s.id for s in shifts.shifts()] == [shift.id, other.id]
    assert shifts.current_shift("TERM0002") == other
    assert events(runtime, shift.id) == [
        ("shift.opened", {"terminal": "TERM0001", "float": 150000})
    ]


async def test_close_over_and_short_within_the_limit(runtime: Runtime) -> None:
    gw = runtime.gateway
    shift = await gw.shifts.open_shift(count=FLOAT, cashier="asha")
    await sell(gw, 250_00)
    report = await gw.shifts.close_shift(
        shift.id, count={50000: 3, 20000: 1, 100: 10}, operator="asha"
    )
    assert (report.shift.counted, report.shift.over_short) == (171000, -4000)
    assert report.shift.status == "closed" and report.shift.approved_by is None
    assert report.shift.closing == {50000: 3, 20000: 1, 100: 10}
    assert gw.shifts.current_shift() is None
    with pytest.raises(ShiftError, match=rf"shift {shift.id} is closed"):
        await gw.shifts.close_shift(shift.id, count={}, operator="asha")
    closed = events(runtime, shift.id)[-1]
    assert closed[0] == "shift.closed"
    assert (closed[1]["expected"], closed[1]["counted"], closed[1]["over_short"]) == (
        175000,
        171000,
        -4000,
    )
    over = await gw.shifts.open_shift(count={}, cashier="asha")
    report = await gw.shifts.close_shift(over.id, count={100: 5}, operator="asha")
    assert report.shift.over_short == 500


async def test_a_short_over_the_limit_needs_a_manager(runtime: Runtime) -> None:
    shifts = runtime.gateway.shifts
    shift = await shifts.open_shift(count=FLOAT, cashier="asha")
    with pytest.raises(
        NotPermitted, match=r"a short of ₹101.00 \(over ₹100.00\) needs a manager's approval"
    ):
        await shifts.close_shift(
            shift.id,
            count={50000: 2, 20000: 1, 10000: 1, 5000: 1, 2000: 2, 500: 1, 200: 2},
            operator="asha",
        )
    with pytest.raises(AccessError):
        await shifts.close_shift(shift.id, count={}, operator="asha", approval=CASHIER)
    assert shifts.current_shift() is not None  # still open
    report = await shifts.close_shift(shift.id, count={}, operator="asha", approval=MANAGER)
    assert (report.shift.over_short, report.shift.approved_by) == (-150000, "meera")
    actions = [a for a, _ in events(runtime, shift.id)]
    assert (actions[-1] == "shift.closed" and "approval.granted" in actions) or actions


async def test_exactly_the_limit_short_needs_no_manager(runtime: Runtime) -> None:
    shifts = runtime.gateway.shifts
    shift = await shifts.open_shift(count={10000: 1}, cashier="asha")
    report = await shifts.close_shift(shift.id, count={}, operator="asha")
    assert report.shift.over_short == -100_00


async def test_paid_in_and_out_need_a_reason_and_a_manager(runtime: Runtime) -> None:
    shifts = runtime.gateway.shifts
    shift = await shifts.open_shift(count={10000: 2}, cashier="asha")
    kw = {"operator": "asha", "approval": MANAGER}
    with pytest.raises(NotPermitted, match="a paid in needs a manager's approval"):
        await shifts.move_cash(
            shift.id, kind="paid_in", amount=500_00, reason="change", operator="asha"
        )
    with pytest.raises(ShiftError, match="a paid out needs a reason of 1 to 80 characters"):
        await shifts.move_cash(shift.id, kind="paid_out", amount=100, reason=" ", **kw)
    with pytest.raises(ShiftError, match="1 to 80"):
        await shifts.move_cash(shift.id, kind="paid_in", amount=100, reason="x" * 81, **kw)
    moved = await shifts.move_cash(shift.id, kind="paid_in", amount=500_00, reason="change", **kw)
    assert (moved.kind, moved.amount, moved.approver, moved.reason) == (
        "paid_in",
        500_00,
        "meera",
        "change",
    )
    with pytest.raises(ShiftError, match=r"expected to hold ₹700.00: not more"):
        await shifts.move_cash(shift.id, kind="paid_out", amount=700_01, reason="bank", **kw)
    await shifts.move_cash(shift.id, kind="paid_out", amount=650_00, reason="to the bank", **kw)
    report = shifts.shift_report(shift.id)
    assert (report.paid_in, report.paid_out, report.expected, report.shift.expected) == (
        500_00,
        650_00,
        50_00,
        50_00,
    )
    assert [m.kind for m in report.moves] == ["float", "paid_in", "paid_out"]
    assert [a for a, _ in events(runtime, shift.id)] == [
        "shift.opened",
        "approval.granted",
        "drawer.paid_in",
        "approval.granted",
        "drawer.paid_out",
    ]


async def test_unknown_shift_and_another_merchants_shift(runtime: Runtime) -> None:
    shifts = runtime.gateway.shifts
    with pytest.raises(ShiftError, match=r"^no shift shf_nope$"):
        shifts.shift_report("shf_nope")
    theirs = await shifts.of("other").open_shift(count={}, cashier="x")
    with pytest.raises(ShiftError, match=f"^no shift {theirs.id}$"):
        shifts.shift_report(theirs.id)
    assert shifts.current_shift() is None and shifts.shifts() == []


async def test_z_refuses_while_shifts_are_open(runtime: Runtime, clock: FixedClock) -> None:
    gw = runtime.gateway
    shift = await gw.shifts.open_shift(count=FLOAT, cashier="asha")
    await sell(gw, 100_00)
    svc = Settlement(runtime.records, runtime.settings, clock=clock, audit=runtime.audit)
    day = gw.shifts.today()
    with pytest.raises(
        DayNotReady, match=rf"^close the open shifts first: {shift.id} on TERM0001, asha$"
    ):
        svc.close_day(day, closed_by="meera", open_shifts=gw.shifts.still_open)
    assert svc.closing(day) is None
    gw.shifts.close_uncounted(gw.shifts.open_shifts(day), operator="asha", approver="meera")
    closed = gw.shifts.shift_report(shift.id).shift
    assert (closed.status, closed.counted, closed.over_short, closed.approved_by) == (
        "closed",
        None,
        None,
        "meera",
    )
    assert events(runtime, shift.id)[-1][1]["note"] == "not counted"
    report, _ = svc.close_day(day, closed_by="meera", open_shifts=gw.shifts.still_open)
    assert report.kind == "Z"
    clock.advance(minutes=1)
    after = await gw.shifts.open_shift(count={}, cashier="asha")  # sales go on: the next day
    assert after.day == day + timedelta(days=1)
