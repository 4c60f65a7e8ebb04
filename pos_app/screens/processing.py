"""Processing: the route Terminal → Gateway → Acquirer → Card network → Issuer, lit as
the authorization goes, each hop with its time; a waiting bar with the elapsed time
while the bank is silent; then the response (and the reversal, if the bank timed out).

Nothing here can stop a payment that has left: Escape says so instead of going back.
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ProgressBar

from gateway_core.money import Money
from gateway_core.payments import Payment, reason_for
from gateway_core.presentation import format_money
from pos_app.route import RouteEvent
from pos_app.screens.base import PosScreen, sentence, while_shown
from pos_app.screens.hosts import SaleDesk
from pos_app.widgets.line import Line
from pos_app.widgets.route import RouteMap, format_ms

HOP_STOPS = {"acquirer": "acquirer", "network": "network", "issuer": "issuer"}


class ProcessingScreen(PosScreen):
    """One payment on its way through the banks."""

    TITLE_TEXT = "Processing"
    AUTO_FOCUS = ""
    BINDINGS = [
        Binding(
            "escape",
            "stay",
            "Back",
            show=False,
            id="processing.back",
            tooltip="A payment that has left cannot be called back: wait for the answer",
        ),
    ]

    def __init__(self, desk: SaleDesk, title: str, card: str, *, step: str = "charge") -> None:
        super().__init__()
        self.desk = desk
        self.heading = title
        self.card = card
        self.step = step
        self.started: datetime | None = None
        self.waiting = True
        self.lines: list[str] = []
        self.final: Payment | None = None  # the answer, shown as soon as the screen is up

    def compose_body(self) -> ComposeResult:
        with Vertical(id="processing", classes="panel") as panel:
            panel.border_title = self.heading
            yield Line(self.card, id="processing-card")
            yield RouteMap(id="route")
            yield ProgressBar(
                total=self.desk.settings.bank_timeout_s * 10,
                show_eta=False,
                show_percentage=False,
                id="wait-bar",
            )
            yield Line("", id="wait-text")
            yield Line("", id="processing-log")

    @while_shown
    def on_mount(self) -> None:
        self.started = self.desk.now()
        route = self.query_one(RouteMap)
        route.set_stop("terminal", "done", "sent")
        route.set_stop("gateway", "active", "")
        if self.step == "otp":
            self.log_line("→ Checking the code with the bank")
        else:
            self.log_line("→ Checking the card and recording the payment")
        for event in self.desk.route_log:  # what happened before this screen was up
            self.route_event(event)
        if self.final is not None:
            self.finished(self.final)
        self._tick()
        self.set_interval(0.1, self._tick)

    @property
    def ready(self) -> bool:
        """Composed and mounted (an answer can come before the screen is up)."""
        return bool(self.query("#wait-bar"))

    def log_line(self, text: str) -> None:
        self.lines.append(text)
        for log in self.query("#processing-log"):
            log.update("\n".join(self.lines[-6:]))

    def _elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return max(0.0, (self.desk.now() - self.started).total_seconds())

    def _tick(self) -> None:
        if not self.waiting or not self.ready:
            return
        elapsed = self._elapsed()
        limit = self.desk.settings.bank_timeout_s
        bar = self.query_one("#wait-bar", ProgressBar)
        bar.update(progress=min(elapsed, limit) * 10)
        text = f"Waiting for the bank · {elapsed:.1f} s"
        if elapsed >= 2:
            text += f" (slow: it is reversed if there is no answer by {limit:.0f} s)"
        self.query_one("#wait-text", Line).update(text)

    # -- the route, as it goes ------------------------------------------------------------
    def route_event(self, event: RouteEvent) -> None:
        if not self.ready:
            return  # replayed from the app's route log on mount
        route = self.query_one(RouteMap)
        if event.kind == "sent":
            route.set_stop("gateway", "done", "stored")
            route.set_stop("acquirer", "active", "")
            self.log_line(f"✓ Payment {event.payment_id} recorded; authorization sent")
        elif event.kind == "answered":
            hops = {h.hop: h.ms for h in event.hops}
            for stop in ("acquirer", "network", "issuer"):
                if stop in hops:
                    route.set_stop(stop, "done", format_ms(hops[stop]))
                else:
                    route.set_stop(stop, "idle", "")
            if event.hops and event.code and event.code not in ("00", "1A"):
                last = event.hops[-1].hop
                route.set_stop(last, "failed", f"{event.code} · {format_ms(hops[last])}")
            text = reason_for(event.code).text
            self.log_line(f"✓ Answer {event.code} {text} in {format_ms(event.elapsed_ms)}")
        elif event.kind == "no_answer":
            route.set_stop("acquirer", "failed", "no answer")
            self.log_line(f"✗ {sentence(event.note)} ({format_ms(event.elapsed_ms)})")
        elif event.kind == "capture_sent":
            self.log_line("→ Capturing the payment")
        elif event.kind == "captured":
            self.log_line("✓ Captured")
        elif event.kind == "capture_failed":
            self.log_line("✗ Capture did not go through: it is retried")
        elif event.kind == "reversal_sent":
            self.log_line("→ Reversal sent, so that nothing stays held on the card")
        elif event.kind == "reversed":
            released = format_money(Money(event.amount, self.desk.settings.currency))
            self.log_line(f"✓ Reversal done: {released} released")
        elif event.kind == "reversal_failed":
            self.log_line("✗ The reversal did not go through either: repair will settle it")

    def finished(self, payment: Payment) -> None:
        """The gateway's answer is in: stop the clock and say it."""
        self.waiting = False
        self.final = payment
        if not self.ready:
            return
        self.query_one("#wait-bar", ProgressBar).display = False
        route = self.query_one(RouteMap)
        if route.states["gateway"] == "active":  # it never left the gateway
            if payment.status == "declined":
                route.set_stop("gateway", "failed", "refused")
            else:
                route.set_stop("gateway", "done", "")
        reason = payment.message or reason_for(payment.response_code).text
        code = payment.response_code or "--"
        self.query_one("#wait-text", Line).update(f"Response {code}: {reason}")

    def action_stay(self) -> None:
        self.notify(
            "The payment is with the bank and cannot be called back; the answer comes in a moment.",
            title="Please wait",
        )
