"""The console's Z (the back office's `close_day`) refuses while a cashier's shift is
open, as `paygate report z` does: the refusal comes back as the screen's one line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from app_support import PANS, build_app, drive, login, sale, wait_for

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings
from gateway_core.settlement import DayReport

TODAY = date(2026, 11, 28)


class View:
    """What the merchant screen gets back from a Z."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.closed: list[DayReport] = []

    def day_closed(self, z: DayReport) -> None:
        self.closed.append(z)

    def close_failed(self, text: str) -> None:
        self.failed.append(text)


async def test_the_console_z_refuses_while_a_shift_is_open(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        await login(pilot)
        await sale(pilot, "120", PANS["approve"])
        shifts = app.office.gateway.shifts
        shift = await shifts.open_shift(count={}, cashier="asha")
        view = View()
        app.office.close_day(view, TODAY, "meera")
        await wait_for(pilot, lambda: view.failed)
        assert view.failed == [f"close the open shifts first: {shift.id} on TERM0001, asha"]
        await shifts.close_shift(shift.id, count={}, operator="asha")
        app.office.close_day(view, TODAY, "meera")
        await wait_for(pilot, lambda: view.closed)
        assert view.closed[0].kind == "Z"


async def test_the_console_z_closes_open_shifts_uncounted_when_the_manager_says_so(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        await login(pilot)
        await sale(pilot, "120", PANS["approve"])
        shifts = app.office.gateway.shifts
        shift = await shifts.open_shift(count={10000: 2}, cashier="asha")
        assert app.office.still_open_shifts(TODAY) == [f"{shift.id} on TERM0001, asha"]
        view = View()
        app.office.close_day(view, TODAY, "meera", close_shifts=True)
        await wait_for(pilot, lambda: view.closed or view.failed)
        assert not view.failed and view.closed[0].kind == "Z"
        closed = shifts.shift_report(shift.id).shift
        assert (closed.status, closed.counted, closed.over_short) == ("closed", None, None)
        assert (closed.closed_by, closed.approved_by) == ("meera", "meera")
        assert app.office.still_open_shifts(TODAY) == []
