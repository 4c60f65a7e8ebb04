"""The cashier's shift at the terminal: o on the Sale screen opens one (the float
counted by denomination) or closes the open one (the drawer counted: expected against
counted, over / short; a manager approves a short over the limit), and the shift report
prints like a receipt."""

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


async def open_with_a_sale(pilot, app) -> None:
    """A shift with a ₹2,000 float and a ₹250 cash sale: ₹2,250 expected."""
    await app.gateway.shifts.open_shift(count={50000: 4}, cashier="asha")
    await burst(pilot, *"250", "c", "e", "enter")
    await on_screen(pilot, "ResultScreen")
    await press(pilot, "enter")
    await on_screen(pilot, "SaleScreen")


async def test_open_a_shift_from_the_sale_screen(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await burst(pilot, "o", "4", "ctrl+s")
        await on_screen(pilot, "SaleScreen")
        shift = app.gateway.shifts.current_shift()
        assert shift.opening == {50000: 4} and shift.float_amount == 200000


async def test_a_balanced_drawer_closes_and_prints_the_report(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await open_with_a_sale(pilot, app)
        shift_id = app.gateway.shifts.current_shift().id
        await press(pilot, "o")
        await on_screen(pilot, "ShiftCloseScreen")
        assert "Expected ₹2,250.00" in flat(app)
        await burst(pilot, "4", "enter", "1", "enter", "enter", "1", "ctrl+s")
        await on_screen(pilot, "ShiftReportScreen")
        assert app.gateway.shifts.current_shift() is None
        report = " ".join(widget_text(app, "#receipt").split())
        for words in (
            "Float ₹2,000.00",
            "Cash sales (1) ₹250.00",
            "Expected ₹2,250.00",
            "Counted ₹2,250.00",
            "Balanced ₹0.00",
            shift_id,
        ):
            assert words in report
        assert max(len(line) for line in widget_text(app, "#receipt").splitlines()) <= 34
        await press(pilot, "enter")
        await on_screen(pilot, "SaleScreen")


async def test_the_over_short_follows_the_count(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await open_with_a_sale(pilot, app)
        await press(pilot, "o")
        await on_screen(pilot, "ShiftCloseScreen")
        await burst(pilot, "4")
        assert "Short ₹250.00" in flat(app)
        await burst(pilot, "enter", "2")
        assert "Over ₹150.00" in flat(app)


async def test_a_short_over_the_limit_needs_a_manager(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await open_with_a_sale(pilot, app)
        await press(pilot, "o")
        await on_screen(pilot, "ShiftCloseScreen")
        await burst(pilot, "4", "ctrl+s")  # ₹2,000 of ₹2,250: ₹250 short
        await on_screen(pilot, "ApprovalDialog")
        assert "₹250.00 short" in app.screen.describe()[1]
        await burst(pilot, *"meera", "enter", *"0000", "enter")
        await on_screen(pilot, "ApprovalDialog")
        assert app.gateway.shifts.current_shift() is not None  # a wrong PIN closes nothing
        await burst(pilot, *"4321", "enter")
        await on_screen(pilot, "ShiftReportScreen")
        shift = app.gateway.shifts.get(app.screen.report.shift.id)
        assert (shift.over_short, shift.approved_by) == (-25000, "meera")
        assert "₹250.00 short" in flat(app)
        assert "Short approved by meera" in " ".join(widget_text(app, "#receipt").split())


async def test_esc_leaves_the_count_and_nothing_closes(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await app.gateway.shifts.open_shift(count={50000: 4}, cashier="asha")
        await burst(pilot, "o", "4", "escape")
        await on_screen(pilot, "SaleScreen")
        assert app.gateway.shifts.current_shift() is not None
