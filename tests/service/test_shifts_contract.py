"""`Gateway.shifts` and `RemoteGateway.shifts` behave alike (`ShiftsAPI`): each test
runs on both sides of `test_gateway_contract` and asserts the same literal results,
exception classes and messages; a cash sale and its refund move the drawer on both."""

from __future__ import annotations

import pytest
from support import MANAGER
from test_gateway_contract import Side, side  # noqa: F401  # the fixture, run both ways

from gateway_core.access import NotPermitted
from gateway_core.gateway import ChargeRequest
from gateway_core.payments import CashInput
from gateway_core.shift_models import ShiftError

FLOAT = {50000: 2, 10000: 5}


def cash(amount: int, tendered: int) -> ChargeRequest:
    return ChargeRequest(
        amount=amount,
        currency="INR",
        method="cash",
        cash=CashInput(tendered=tendered),
        operator="asha",
    )


async def test_a_shift_with_sales_moves_and_a_short(side: Side) -> None:  # noqa: F811
    shifts = side.gw.shifts
    assert await side._read(shifts.current_shift) is None
    shift = await shifts.open_shift(count=FLOAT, cashier="asha")
    assert (shift.terminal_id, shift.cashier, shift.float_amount, shift.opening) == (
        "TERM0001",
        "asha",
        150000,
        {50000: 2, 10000: 5},
    )
    assert await side._read(shifts.current_shift) == shift
    paid = await side.gw.charge(cash(9960, 10000))
    assert (paid.status, paid.cash.change, paid.cash.shift_id) == ("succeeded", 40, shift.id)
    refunded = await side.gw.refund(paid.id, 960, operator="asha", approval=MANAGER)
    assert refunded.amount_refunded == 960
    move = await shifts.move_cash(
        shift.id, kind="paid_in", amount=100_00, reason="change", operator="asha", approval=MANAGER
    )
    assert (move.kind, move.amount, move.approver) == ("paid_in", 100_00, "meera")
    report = await side._read(shifts.shift_report, shift.id)
    assert (report.sales, report.refunds, report.paid_in, report.expected) == (
        9960,
        960,
        100_00,
        150000 + 9960 - 960 + 100_00,
    )
    assert [m.kind for m in report.moves] == ["float", "sale", "refund", "paid_in"]
    with pytest.raises(NotPermitted, match=r"^a short of ₹1,690.00 \(over ₹100.00\) needs"):
        await shifts.close_shift(shift.id, count={}, operator="asha")
    closed = await shifts.close_shift(shift.id, count={}, operator="asha", approval=MANAGER)
    assert (closed.shift.status, closed.shift.over_short, closed.shift.approved_by) == (
        "closed",
        -169000,
        "meera",
    )
    assert [s.id for s in await side._read(shifts.shifts)] == [shift.id]


async def test_the_same_refusals(side: Side) -> None:  # noqa: F811
    shifts = side.gw.shifts
    with pytest.raises(ShiftError, match=r"^no shift is open on TERM0001: open one first"):
        await side.gw.charge(cash(100, 100))
    shift = await shifts.open_shift(count={}, cashier="asha")
    with pytest.raises(ShiftError, match=rf"^shift {shift.id} is already open on TERM0001"):
        await shifts.open_shift(count={}, cashier="asha")
    with pytest.raises(ShiftError, match=r"^₹3.00 is not a INR note or coin$"):
        await shifts.close_shift(shift.id, count={300: 1}, operator="asha")
    with pytest.raises(ShiftError, match=r"^the drawer of shf_\w+ is expected to hold ₹0.00"):
        await shifts.move_cash(shift.id, kind="paid_out", amount=1, reason="x", operator="asha")
    with pytest.raises(NotPermitted, match=r"^a paid in needs a manager's approval"):
        await shifts.move_cash(shift.id, kind="paid_in", amount=1, reason="x", operator="asha")
    with pytest.raises(ShiftError, match=r"^no shift shf_none$"):
        await side._read(shifts.shift_report, "shf_none")
