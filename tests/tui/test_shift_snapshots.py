"""Snapshots of the shift screens at 80×24 (frozen clock, counted ids): the float
counted, the drawer counted with a short, the shift report."""

from __future__ import annotations

import pytest
from app_support import SIZE, build_app, burst, compare_app, login, on_screen, press

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings


async def float_counted(pilot) -> None:
    await login(pilot)
    await burst(pilot, *"250", "c")
    await on_screen(pilot, "ShiftOpenScreen")
    await burst(pilot, "2", "enter", "enter", "5", "enter", "3")


async def _open_shift(pilot) -> None:
    await login(pilot)
    await pilot.app.gateway.shifts.open_shift(count={50000: 4, 10000: 5}, cashier="asha")
    await press(pilot, "o")
    await on_screen(pilot, "ShiftCloseScreen")


async def drawer_short(pilot) -> None:
    await _open_shift(pilot)
    await burst(pilot, "4", "enter", "enter", "3", "enter", "1")


async def report_short(pilot) -> None:
    await _open_shift(pilot)
    await burst(pilot, "4", "enter", "enter", "3", "ctrl+s")
    await on_screen(pilot, "ApprovalDialog")
    await burst(pilot, *"meera", "enter", *"4321", "enter")
    await on_screen(pilot, "ShiftReportScreen")


async def paid_out(pilot) -> None:
    await login(pilot)
    await pilot.app.gateway.shifts.open_shift(count={50000: 4, 10000: 5}, cashier="asha")
    await press(pilot, "m")
    await on_screen(pilot, "DrawerMoveDialog")
    await burst(pilot, "down", "enter", *"150", "enter", *"milk for the staff")


@pytest.mark.parametrize(
    "steps",
    [float_counted, drawer_short, report_short, paid_out],
    ids=["open", "close", "report", "paid-out"],
)
def test_shift_screen(snap_compare, settings: Settings, clock: FixedClock, tmp_path, steps):
    app = build_app(settings, clock, tmp_path / "config", demo=True)
    assert compare_app(snap_compare, app, steps, SIZE)
