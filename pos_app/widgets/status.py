"""The top line of every screen: merchant, terminal, who is signed in, and the time."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, cast

from textual.app import ComposeResult
from textual.containers import Horizontal

from gateway_core.access import User
from gateway_core.presentation import time_text
from gateway_core.settings import Settings
from pos_app.widgets.line import Line


class Shown(Protocol):
    """What the status line shows of the app."""

    settings: Settings
    demo: bool

    @property
    def user(self) -> User | None: ...

    def now(self) -> datetime: ...


class StatusBar(Horizontal):
    """Merchant · terminal on the left, a DEMO badge, the cashier and the clock right."""

    def compose(self) -> ComposeResult:
        yield Line("", id="status-where")
        yield Line("", id="status-screen")
        yield Line("DEMO", id="status-demo")
        yield Line("", id="status-who")

    def on_mount(self) -> None:
        for badge in self.query("#status-demo"):
            badge.display = cast(Shown, self.app).demo
        self.refresh_status()
        self.set_interval(1.0, self.refresh_status)

    def refresh_status(self) -> None:
        if not self.is_attached or not self.query("#status-who"):
            return
        app = cast(Shown, self.app)
        settings = app.settings
        self.query_one("#status-where", Line).update(
            f"{settings.merchant_name} · {settings.terminal_id}"
        )
        title = getattr(self.screen, "TITLE_TEXT", "")
        self.query_one("#status-screen", Line).update(title)
        now = time_text(app.now(), settings.tz, seconds=False)
        user = app.user
        who = f"{user.id} ({user.role}) · {now}" if user else now
        self.query_one("#status-who", Line).update(who)
