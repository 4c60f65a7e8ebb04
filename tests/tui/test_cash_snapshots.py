"""Snapshots of the cash screen (80×24 and larger; frozen clock, counted ids) and the
screen fitting whole."""

from __future__ import annotations

import pytest
from app_support import SIZE, build_app, burst, compare_app, drive, login, on_screen

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings


async def cash_with_change(pilot) -> None:
    await login(pilot)
    await pilot.app.gateway.shifts.open_shift(count={50000: 4}, cashier="asha")
    await burst(pilot, *"99.6", "c", *"500")
    await on_screen(pilot, "CashScreen")


async def cash_short(pilot) -> None:
    await login(pilot)
    await pilot.app.gateway.shifts.open_shift(count={50000: 4}, cashier="asha")
    await burst(pilot, *"1250", "c", *"1000", "enter")
    await on_screen(pilot, "CashScreen")


@pytest.mark.parametrize(
    ("steps", "size"),
    [(cash_with_change, SIZE), (cash_short, SIZE), (cash_with_change, (120, 36))],
    ids=["change-80x24", "short-80x24", "change-120x36"],
)
def test_cash_screen(snap_compare, settings: Settings, clock: FixedClock, tmp_path, steps, size):
    app = build_app(settings, clock, tmp_path / "config", demo=True)
    assert compare_app(snap_compare, app, steps, size)


async def _split(pilot) -> None:
    await login(pilot)
    await burst(pilot, *"1000", "s")
    await on_screen(pilot, "SplitScreen")


async def _close(pilot) -> None:
    await login(pilot)
    await pilot.app.gateway.shifts.open_shift(count={50000: 4}, cashier="asha")
    await burst(pilot, "o")
    await on_screen(pilot, "ShiftCloseScreen")


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 48)])
@pytest.mark.parametrize(
    ("steps", "panels"),
    [
        (cash_with_change, ("#cash-left", "#cash-right", "#cash-keypad", "#quick-4")),
        (_split, ("#split-left", "#split-right", "#split-keys")),
        (_close, ("#count-left", "#count-right", "#count-total", "#count-over-short")),
    ],
    ids=["cash", "split", "shift-close"],
)
async def test_the_new_screens_fit(
    settings: Settings, clock: FixedClock, tmp_path, steps, panels, size
) -> None:
    app = build_app(settings, clock, tmp_path / "config", demo=True)
    async with drive(app) as pilot:
        await pilot.resize_terminal(*size)
        await steps(pilot)
        screen = app.screen.region
        for selector in panels:
            region = app.screen.query_one(selector).region
            assert region.area and screen.contains_region(region), (selector, region, size)
