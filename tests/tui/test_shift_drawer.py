"""Paid in / paid out at the terminal: m on the Sale screen, which way, the amount and
a reason, then a manager's approval; the drawer's expected amount follows."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import build_app, burst, drive, flat, login, on_screen, press, widget_text

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings


@pytest.fixture
def app(settings: Settings, clock: FixedClock, tmp_path: Path):
    app = build_app(settings, clock, tmp_path / "config", demo=True)
    return app


async def test_paid_out_with_a_reason_and_a_manager(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        shift = await app.gateway.shifts.open_shift(count={50000: 4}, cashier="asha")
        await press(pilot, "m")
        await on_screen(pilot, "DrawerMoveDialog")
        assert "the drawer should hold ₹2,000.00" in widget_text(app, ".dialog-text")
        await burst(pilot, "down", "enter", *"150", "enter", *"milk for the staff", "enter")
        await on_screen(pilot, "ApprovalDialog")
        assert app.screen.describe()[1] == "Paid out ₹150.00: milk for the staff"
        await burst(pilot, *"meera", "enter", *"4321", "enter")
        await on_screen(pilot, "SaleScreen")
        report = app.gateway.shifts.shift_report(shift.id)
        assert (report.paid_out, report.expected) == (15000, 185000)
        move = report.moves[-1]
        assert "Paid out ₹150.00 (approved by meera)" in [n.message for n in app._notifications]
        assert (move.kind, move.reason, move.approver) == (
            "paid_out",
            "milk for the staff",
            "meera",
        )


async def test_a_reason_is_needed_and_esc_moves_nothing(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        shift = await app.gateway.shifts.open_shift(count={50000: 4}, cashier="asha")
        await burst(pilot, "m", "enter", *"100", "enter", "enter")
        assert "Say why the cash moves" in flat(app)
        await press(pilot, "escape")
        await on_screen(pilot, "SaleScreen")
        report = app.gateway.shifts.shift_report(shift.id)
        assert [m.kind for m in report.moves] == ["float"]


async def test_no_shift_no_drawer(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await press(pilot, "m")
        assert type(app.screen).__name__ == "SaleScreen"
        notes = [n.message for n in app._notifications]
        assert "No shift is open on this terminal: o opens one." in notes
