"""The day's shifts and cash in the settlement commands, through the real cash tender
and shifts: `report shifts`, open shifts in `report x`, `report z` refused while shifts
are open (or closing them not counted), and `reconcile` naming a drawer's short."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from support import MANAGER, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest
from gateway_core.payments import CashInput
from gateway_core.settings import CashSettings

IST = timezone(timedelta(hours=5, minutes=30), "IST")
APPROVE = ("--approver", "meera", "--approver-pin", "4321")
PAST = (datetime.now(IST) - timedelta(days=2)).date()
FLOAT = {50000: 2}  # ₹1,000.00


def count_of(amount: int) -> dict[int, int]:
    """A drawer counted as ₹500 notes, then ₹10 notes, then ₹1 coins."""
    out, left = {}, amount
    for value in (50000, 1000, 100):
        if left >= value:
            out[value], left = divmod(left, value)
    assert left == 0
    return out


def fill(settings, *, close: int | None) -> dict[str, str]:
    """On PAST: a shift with a float of ₹1,000, cash sales of ₹99.60 (rounded to ₹100)
    and ₹250, ₹50 refunded, ₹20 paid in, ₹10 paid out; closed `close` over (negative:
    short) or left open (None). Returns the ids."""
    clock = FixedClock(datetime.combine(PAST, time(10, 0), IST))
    rounded = settings.model_copy(update={"cash": CashSettings(rounding={"INR": 100})})

    async def run() -> dict[str, str]:
        rt = open_runtime(rounded, clock=clock)
        try:
            gw = rt.gateway
            shift = await gw.shifts.open_shift(count=FLOAT, cashier="asha")
            ids = {"shift": shift.id}
            for name, amount in (("first", 99_60), ("second", 250_00)):
                req = ChargeRequest(
                    amount=amount, currency="INR", method="cash", cash=CashInput(tendered=500_00)
                )
                ids[name] = (await gw.charge(req)).id
                clock.advance(minutes=5)
            await gw.refund(ids["second"], 50_00, approval=MANAGER)
            for kind, amount in (("paid_in", 20_00), ("paid_out", 10_00)):
                await gw.shifts.move_cash(
                    shift.id, kind=kind, amount=amount, reason="float", operator="asha",
                    approval=MANAGER,
                )  # fmt: skip
            if close is not None:
                await gw.shifts.close_shift(
                    shift.id, count=count_of(1_310_00 + close), operator="asha", approval=MANAGER
                )
            return ids
        finally:
            await rt.aclose()

    return asyncio.run(run())


@pytest.fixture
def shop(settings, monkeypatch):
    """The settings of the shop's data dir; the commands run in its timezone (IST)."""
    monkeypatch.setenv("PAYGATE_TIMEZONE", "Asia/Kolkata")
    return settings


def x_json(cli, data: Path) -> dict:
    done = cli("report", "x", "--date", PAST.isoformat(), "--json", "--data-dir", data)
    assert done.code == 0, done.err
    return json.loads(done.out)


def test_report_shifts_prints_each_drawer_and_its_count(cli, shop) -> None:
    ids = fill(shop, close=-10_00)
    done = cli("report", "shifts", "--date", PAST.isoformat(), "--data-dir", shop.data_dir)
    assert done.code == 0, done.err
    lines = [" ".join(line.split()) for line in done.out.splitlines()]
    assert lines[0] == f"SHIFTS business day {PAST:%a %Y-%m-%d}: 1"
    assert lines[2] == f"SHIFT {ids['shift']} CLOSED"
    for line in (
        "float ₹1,000.00",
        "cash sales (2) ₹350.00",
        "of which rounding +₹0.40",
        "refunds (1) -₹50.00",
        "paid in ₹20.00",
        "paid out -₹10.00",
        "expected ₹1,310.00",
        "counted ₹1,300.00",
        "over / short short ₹10.00",
    ):
        assert line in lines, line
    doc = json.loads(
        cli(
            "report", "shifts", "--date", PAST.isoformat(), "--json", "--data-dir", shop.data_dir
        ).out
    )
    assert [(r["shift"]["id"], r["shift"]["over_short"]) for r in doc] == [(ids["shift"], -10_00)]
    assert doc[0]["rounding"] == 40
    before = (PAST - timedelta(days=1)).isoformat()
    empty = cli("report", "shifts", "--date", before, "--data-dir", shop.data_dir)
    assert empty.out == f"SHIFTS business day {PAST - timedelta(days=1):%a %Y-%m-%d}: 0\n"


def test_the_x_report_shows_the_cash_and_the_open_shifts(cli, shop) -> None:
    ids = fill(shop, close=None)
    done = cli("report", "x", "--date", PAST.isoformat(), "--data-dir", shop.data_dir)
    assert done.code == 0, done.err
    assert "Cash: ₹300.00 kept in the drawer (no payout)" in done.out
    assert (
        f"open shifts (1):\n  {ids['shift']}  TERM0001  asha  opened 10:00  open  "
        "expected ₹1,310.00\n"
    ) in done.out
    x = x_json(cli, shop.data_dir)
    assert x["payouts"] == [] and x["totals"][0]["kept"] == 300_00
    assert [(ln["method"], ln["brand"], ln["gross"]) for ln in x["brands"]] == [
        ("cash", "cash", 349_60),
        ("cash", "rounding", 40),
    ]


def test_z_waits_for_the_open_shifts_or_closes_them_not_counted(cli, shop) -> None:
    ids = fill(shop, close=None)
    args = ("report", "z", "--date", PAST.isoformat(), "--data-dir", shop.data_dir, *APPROVE)
    refused = cli(*args)
    assert refused.code == 2 and refused.out == ""
    assert refused.err == (
        f"paygate: close the open shifts first: {ids['shift']} on TERM0001, asha (or "
        "--close-shifts: the approving manager closes them uncounted)\n"
    )
    assert x_json(cli, shop.data_dir)["closed_as"] is None
    done = cli(*args, "--close-shifts")
    assert done.code == 0, done.err
    assert "Z REPORT 1" in done.out
    shifts = cli("report", "shifts", "--date", PAST.isoformat(), "--data-dir", shop.data_dir)
    said = [" ".join(line.split()) for line in shifts.out.splitlines()]
    assert "counted not counted" in said
    assert any(line.startswith("closed ") and line.endswith("approved by meera") for line in said)


@pytest.mark.parametrize("over_short", [0, -10_00])
def test_reconcile_takes_the_cash_against_the_drawers(cli, shop, over_short: int) -> None:
    ids = fill(shop, close=over_short)
    done = cli("reconcile", "--date", PAST.isoformat(), "--data-dir", shop.data_dir)
    said = [" ".join(line.split()) for line in done.out.splitlines()]
    assert said[0].endswith("and the drawers of 1 shift(s)")
    assert "Cash 3 0" in said or "Cash 3 1" in said  # two sales and a refund matched
    if over_short == 0:
        assert done.code == 0, done.out
        assert (
            f"{ids['shift']} TERM0001 (asha): expected ₹1,310.00, counted ₹1,310.00: balanced"
            in said
        )
    else:
        assert done.code == 1
        assert "Cash 3 1" in said
        assert (
            f"drawer short count {ids['shift']} Cash expected ₹1,310.00, counted ₹1,300.00 (₹10.00)"
            in said
        )
    doc = json.loads(
        cli("reconcile", "--date", PAST.isoformat(), "--json", "--data-dir", shop.data_dir).out
    )
    assert doc["tenders"]["cash"] == {"matched": 3, "breaks": 0 if over_short == 0 else 1}
    assert [d["over_short"] for d in doc["drawers"]] == [over_short]
