"""Screen changes of the terminal, one after the other, never from under the cashier's
fingers: when help, the palette or a dialog is open on top, the change waits for it to
close (woken by the app's screen-change signal, no polling)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import App
from textual.command import CommandPalette
from textual.screen import ModalScreen, Screen

from pos_app.screens.card import CardScreen
from pos_app.screens.cash import CashScreen
from pos_app.screens.help import HelpScreen
from pos_app.screens.otp import OtpScreen
from pos_app.screens.processing import ProcessingScreen
from pos_app.screens.result import ResultScreen
from pos_app.screens.sale import SaleScreen
from pos_app.screens.shift import CountScreen, ShiftReportScreen
from pos_app.screens.split import SplitScreen
from pos_app.screens.upi import UpiScreen

log = logging.getLogger("paygate.terminal")

FLOW_SCREENS = (
    CardScreen,
    UpiScreen,
    ProcessingScreen,
    OtpScreen,
    ResultScreen,
    CashScreen,
    CountScreen,
    ShiftReportScreen,
)


class Navigator:
    """Changes the app's screens in a worker of their own ("navigation"), in order."""

    def __init__(self, app: App[int]) -> None:
        self.app = app
        self._lock = asyncio.Lock()
        self.parked = False  # a screen change waits for an overlay to close
        self._changed = asyncio.Event()

    def watch(self) -> None:
        """Hear the app's screen changes (once the app runs)."""
        self.app.screen_change_signal.subscribe(self.app, self._screen_changed, immediate=True)

    def _screen_changed(self, _screen: Screen[Any]) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def navigate(self, job: Callable[[], Awaitable[None]]) -> None:
        """Change screens in a task of its own, one change after the other, so that
        waiting for an overlay to close never holds up the app's own messages."""

        async def run() -> None:
            async with self._lock:
                try:
                    await job()
                except Exception as exc:  # a screen change must never take the app down
                    log.error("screen change failed: %s", type(exc).__name__)

        self.app.run_worker(run(), group="navigation", exit_on_error=False)

    def _clear(self, *, flow: bool) -> bool:
        top = self.app.screen
        if flow:
            home = (SaleScreen, SplitScreen)  # a split bill's parts start on its screen
            return len(self.app.screen_stack) <= 2 or isinstance(top, (*home, *FLOW_SCREENS))
        return not isinstance(top, (CommandPalette, HelpScreen, ModalScreen))

    async def overlays_closed(self, *, flow: bool) -> None:
        """Wait while the cashier has help, the palette or a dialog open on top: the
        next screen comes when they close it, not from under their fingers."""
        try:
            while not self._clear(flow=flow):
                self.parked = True  # the keys meanwhile are the overlay's
                await self._changed.wait()
        finally:
            self.parked = False

    def restart_with(self, screen: Screen[Any]) -> None:
        """Replace the whole stack above the base screen with `screen`."""

        async def swap() -> None:
            await self.overlays_closed(flow=False)
            while len(self.app.screen_stack) > 1:
                await self.app.pop_screen()
            await self.app.push_screen(screen)

        self.navigate(swap)

    def flow_to(self, screen: Screen[Any]) -> None:
        """Show the next step of the sale (card, UPI, processing, OTP or result) in place of
        the step on screen, in one switch: nothing flickers in between. When help, Today
        or a dialog is open on top, the step changes once it is closed."""

        async def swap() -> None:
            await self.overlays_closed(flow=True)
            if isinstance(self.app.screen, FLOW_SCREENS):
                await self.app.switch_screen(screen)
            else:
                await self.app.push_screen(screen)

        self.navigate(swap)

    def back_to_sale(self, then: Callable[[], None]) -> None:
        """Pop everything above the sale screen, then `then()`."""

        async def back() -> None:
            while len(self.app.screen_stack) > 2:
                await self.app.pop_screen()
            then()

        self.navigate(back)
