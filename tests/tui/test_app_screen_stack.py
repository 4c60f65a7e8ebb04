"""Screens that close while Textual pops them: the terminal keeps running.

Textual's `pop_until_active` (F2 back to Today, F4 back to the console) pops every
screen above in a callback that runs later and awaits each one's `dismiss()`. A screen
the cashier closed in between (an Escape a moment earlier) must still answer with
something awaitable, and must not pop the screen under it a second time.
"""

from __future__ import annotations

from pathlib import Path

from app_support import PANS, build_app, drive, login, on_screen, press, sale, settle

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings
from pos_app.screens.modals import ManagerApprovalScreen
from pos_app.screens.today import TodayScreen


async def test_a_dialog_closed_while_today_pops_back_to_it_keeps_the_terminal_running(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        await login(pilot)
        await sale(pilot, "120", PANS["approve"])
        await press(pilot, "f2")
        await on_screen(pilot, "TodayScreen")
        await press(pilot, "enter")
        await on_screen(pilot, "ResultScreen")
        await press(pilot, "v")
        await on_screen(pilot, "ManagerApprovalScreen")
        dialog = app.screen
        assert isinstance(dialog, ManagerApprovalScreen)
        today = next(s for s in app.screen_stack if isinstance(s, TodayScreen))
        today.pop_until_active()  # F2: pops the dialog and the result, a moment later
        dialog.action_cancel()  # an Escape that came first closes the dialog now
        await settle(pilot)
        await on_screen(pilot, "TodayScreen")
        assert app.is_running and app._exception is None
        names = [type(s).__name__ for s in app.screen_stack]
        assert names[-3:] == ["SaleScreen", "ResultScreen", "TodayScreen"]  # the sale's result


async def test_a_screen_closed_twice_closes_once_and_can_be_awaited(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        await login(pilot)
        await press(pilot, "f2")
        await on_screen(pilot, "TodayScreen")
        today = app.screen
        today.dismiss()
        await today.dismiss()  # already closing: completes at once, pops nothing more
        await on_screen(pilot, "SaleScreen")
        assert [type(s).__name__ for s in app.screen_stack][-1] == "SaleScreen"
