"""Snapshots of the Split screen at 80×24 (frozen clock, counted ids): a bill with a
cash part and a declined card part, and the bill paid with its receipt."""

from __future__ import annotations

import pytest
from app_support import SIZE, build_app, burst, compare_app, login, on_screen, press

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings

CARD = [*"1230", "enter", *"123", "enter"]


async def part_declined(pilot) -> None:
    await login(pilot)
    await pilot.app.gateway.shifts.open_shift(count={50000: 4}, cashier="asha")
    await burst(pilot, *"1000", "s")
    await on_screen(pilot, "SplitScreen")
    await burst(pilot, *"400", "c", *"500", "enter")
    await on_screen(pilot, "ResultScreen")
    await press(pilot, "enter")
    await on_screen(pilot, "SplitScreen")
    await burst(pilot, "enter", *"4000000000000002", "enter", *CARD)
    await on_screen(pilot, "ResultScreen")
    await press(pilot, "enter")
    await on_screen(pilot, "SplitScreen")
    await burst(pilot, *"250")


async def paid(pilot) -> None:
    await part_declined(pilot)
    await burst(pilot, "delete", "c", "e", "enter")
    await on_screen(pilot, "ResultScreen")
    await press(pilot, "enter")
    await on_screen(pilot, "SplitScreen")


@pytest.mark.parametrize("steps", [part_declined, paid], ids=["declined", "paid"])
def test_split_screen(snap_compare, settings: Settings, clock: FixedClock, tmp_path, steps):
    app = build_app(settings, clock, tmp_path / "config", demo=True)
    assert compare_app(snap_compare, app, steps, SIZE)
