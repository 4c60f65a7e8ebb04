"""The cash tender: change worked out exactly, the rounding line, the drawer moved in the
same write as the sale, refunds out of the drawer, no void."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import MANAGER, actions, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.errors import InputError
from gateway_core.gateway import ChargeRequest, Gateway, NotAllowed
from gateway_core.payments import CashInput
from gateway_core.runtime import Runtime
from gateway_core.settings import CashSettings, Settings, load_settings
from gateway_core.shift_models import ShiftError
from gateway_core.tenders.cash import change_for, round_half_up

FLOAT = {50000: 2, 10000: 5}  # ₹1,500.00
START = datetime(2026, 11, 28, 10, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))


def cash(amount: int, tendered: int, **kw: object) -> ChargeRequest:
    return ChargeRequest(
        amount=amount,
        currency="INR",
        method="cash",
        cash=CashInput(tendered=tendered),
        operator="asha",
        **kw,
    )


@pytest.fixture
def rounded(tmp_path: Path, clock: FixedClock) -> Iterator[Runtime]:
    """A runtime whose rupees are rounded to the nearest ₹1."""
    s = load_settings(data_dir=tmp_path / "data", timezone="Asia/Kolkata")
    s = s.model_copy(update={"cash": CashSettings(rounding={"INR": 100})})
    rt = open_runtime(s, clock=clock)
    try:
        yield rt
    finally:
        rt.close()


async def open_shift(gw: Gateway, count: dict[int, int] = FLOAT) -> str:
    return (await gw.shifts.open_shift(count=count, cashier="asha")).id


# -- the arithmetic -------------------------------------------------------------------------
def test_rounding_is_half_up_to_the_step() -> None:
    assert [round_half_up(a, 100) for a in (9949, 9950, 9960, 10000, 10049)] == [
        9900,
        10000,
        10000,
        10000,
        10000,
    ]
    assert [round_half_up(a, 5) for a in (102, 103, 105)] == [100, 105, 105]
    assert round_half_up(9961, 0) == round_half_up(9961, 1) == 9961


def test_change_is_exact_and_less_than_due_is_refused() -> None:
    c = change_for(9960, 10000, "INR", 0)
    assert (c.due, c.rounding, c.change) == (9960, 0, 40)
    c = change_for(9960, 50000, "INR", 100)
    assert (c.due, c.rounding, c.change) == (10000, 40, 40000)
    with pytest.raises(InputError, match=r"^tendered ₹90.00 is less than the ₹99.60 due$"):
        change_for(9960, 9000, "INR", 0)
    with pytest.raises(InputError, match="rounds to nothing"):
        change_for(30, 100, "INR", 100)


@given(
    amount=st.integers(1, 10**9),
    extra=st.integers(0, 10**9),
    step=st.sampled_from([0, 1, 5, 10, 25, 50, 100, 500, 1000]),
)
def test_change_plus_due_is_what_was_tendered(amount: int, extra: int, step: int) -> None:
    due = round_half_up(amount, step)
    if due == 0:
        return
    c = change_for(amount, due + extra, "INR", step)
    assert c.change + c.due == c.tendered
    assert c.due == amount + c.rounding
    assert c.due % max(step, 1) == 0
    assert 2 * abs(c.rounding) <= max(step, 1) if step > 1 else c.rounding == 0


# -- through the gateway ---------------------------------------------------------------------
async def test_cash_needs_an_open_shift(runtime: Runtime) -> None:
    with pytest.raises(ShiftError, match=r"^no shift is open on TERM0001: open one first"):
        await runtime.gateway.charge(cash(9960, 10000))
    assert runtime.gateway.list_day() == []


async def test_a_cash_sale_succeeds_with_its_change_and_moves_the_drawer(
    runtime: Runtime,
) -> None:
    gw = runtime.gateway
    shift_id = await open_shift(gw)
    payment = await gw.charge(cash(9960, 20000))
    assert (payment.status, payment.amount_captured) == ("succeeded", 9960)
    assert payment.cash is not None
    assert payment.cash.model_dump() == {
        "tendered": 20000,
        "change": 10040,
        "rounding": 0,
        "shift_id": shift_id,
    }
    assert payment.message == "Paid in cash: change ₹100.40"
    assert actions(runtime, payment.id) == ["payment.created", "payment.succeeded"]
    assert gw.shifts.current_shift().expected == 150000 + 9960
    report = gw.shifts.shift_report(shift_id)
    assert (report.sales_count, report.sales, report.expected) == (1, 9960, 159960)


async def test_rounding_is_its_own_line_and_the_drawer_gets_the_rounded_due(
    rounded: Runtime,
) -> None:
    gw = rounded.gateway
    shift_id = await open_shift(gw)
    payment = await gw.charge(cash(9960, 10000))
    assert payment.cash is not None
    assert (payment.amount, payment.cash.rounding, payment.cash.change) == (9960, 40, 0)
    down = await gw.charge(cash(12320, 12300))
    assert down.cash is not None and (down.cash.rounding, down.cash.change) == (-20, 0)
    report = gw.shifts.shift_report(shift_id)
    assert (report.sales, report.rounding) == (10000 + 12300, 40 - 20)
    assert report.shift.expected == report.expected == 150000 + 22300
    with pytest.raises(InputError, match=r"tendered ₹99.00 is less than the ₹100.00 due"):
        await gw.charge(cash(9960, 9900))


async def test_manual_capture_and_void_are_refused(runtime: Runtime) -> None:
    gw = runtime.gateway
    await open_shift(gw)
    with pytest.raises(InputError, match="no manual capture"):
        await gw.charge(cash(100_00, 100_00, capture="manual"))
    payment = await gw.charge(cash(100_00, 100_00))
    with pytest.raises(NotAllowed, match="refund it instead"):
        await gw.void(payment.id, approval=MANAGER)


async def test_a_refund_takes_cash_out_of_the_drawer_and_needs_a_manager(
    runtime: Runtime,
) -> None:
    gw = runtime.gateway
    shift_id = await open_shift(gw, {10000: 1})
    payment = await gw.charge(cash(300_00, 500_00))
    with pytest.raises(Exception, match="manager"):
        await gw.refund(payment.id, 100_00)
    refunded = await gw.refund(payment.id, 100_00, approval=MANAGER)
    assert refunded.amount_refunded == 100_00
    report = gw.shifts.shift_report(shift_id)
    assert (report.refunds_count, report.refunds) == (1, 100_00)
    assert report.shift.expected == 100_00 + 300_00 - 100_00
    move = report.moves[-1]
    assert (move.kind, move.refund_id, move.payment_id) == (
        "refund",
        refunded.refunds[0].id,
        payment.id,
    )


async def test_a_refund_is_refused_when_the_drawer_holds_less(runtime: Runtime) -> None:
    gw = runtime.gateway
    shift_id = await open_shift(gw, {})
    payment = await gw.charge(cash(300_00, 300_00))
    await gw.shifts.move_cash(
        shift_id,
        kind="paid_out",
        amount=250_00,
        reason="supplier",
        operator="asha",
        approval=MANAGER,
    )
    with pytest.raises(NotAllowed, match=r"expected to hold ₹50.00: less than the ₹100.00 refund"):
        await gw.refund(payment.id, 100_00, approval=MANAGER)
    assert gw.get(payment.id).amount_refunded == 0


async def test_a_refund_with_no_open_shift_is_refused(runtime: Runtime) -> None:
    gw = runtime.gateway
    shift_id = await open_shift(gw, {})
    payment = await gw.charge(cash(300_00, 300_00))
    await gw.shifts.close_shift(shift_id, count={10000: 3}, operator="asha")
    with pytest.raises(ShiftError, match="no shift is open on TERM0001"):
        await gw.refund(payment.id, approval=MANAGER)


async def test_an_unknown_cash_payment_is_declined_by_repair(runtime: Runtime) -> None:
    gw = runtime.gateway
    await open_shift(gw)
    payment = await gw.charge(cash(100_00, 100_00))
    record = payment.model_copy(update={"status": "unknown", "amount_captured": 0})
    other = record.model_copy(update={"id": payment.id.replace(payment.id[-3:], "zzz")})
    gw._payments.save(runtime.clock.now().date(), other.model_dump(mode="json"))  # a crash's trace
    gw._open.add(other.id)
    assert await gw.repair() == [f"{other.id}: declined (no cash was recorded)"]
    assert gw.get(other.id).status == "declined"


@settings(max_examples=25, deadline=None)
@given(
    moves=st.lists(
        st.tuples(
            st.sampled_from(["sale", "refund", "paid_in", "paid_out"]), st.integers(1, 10**6)
        ),
        max_size=12,
    )
)
def test_the_drawer_expected_is_float_plus_sales_minus_refunds_plus_in_minus_out(
    moves: list[tuple[str, int]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp) / "data", timezone="Asia/Kolkata")
        asyncio.run(_drawer_moves(settings, moves))


async def _drawer_moves(settings: Settings, moves: list[tuple[str, int]]) -> None:
    """Each move through a gateway with no access control (no PIN hashing per example)."""
    rt = Runtime.open(settings, clock=FixedClock(START))
    try:
        gw = Gateway(rt.records, rt.vault, rt.audit, None, settings, clock=rt.clock)
        shift_id = await open_shift(gw, {10000: 7})
        sales = refunds = paid_in = paid_out = 0
        for kind, amount in moves:
            held = gw.shifts.current_shift().expected
            if kind == "sale":
                await gw.charge(cash(amount, amount + 1))
                sales += amount
            elif kind == "refund":
                paid = await gw.charge(cash(amount, amount))
                sales += amount
                await gw.refund(paid.id)
                refunds += amount
            elif kind == "paid_in" or amount <= held:
                await gw.shifts.move_cash(
                    shift_id, kind=kind, amount=amount, reason="r", operator="asha"
                )
                paid_in += amount if kind == "paid_in" else 0
                paid_out += amount if kind == "paid_out" else 0
        report = gw.shifts.shift_report(shift_id)
        assert report.shift.expected == report.expected
        assert report.expected == 700_00 + sales - refunds + paid_in - paid_out
        assert (report.sales, report.refunds, report.paid_in, report.paid_out) == (
            sales,
            refunds,
            paid_in,
            paid_out,
        )
    finally:
        rt.close()
