"""The UPI sale: the payment's dynamic QR at the left, the amount, the merchant, a
countdown and the status live at the right; in demo mode a simulated phone (p) pays it.

The payment is asked for as the screen opens (the desk's worker answers `show_payment`);
while it is pending the screen asks the desk every second to refresh it (callbacks and
due status checks, in a worker), and the desk moves on to the result once it is final.
Esc cancels it (the switch is told); on the phone, Esc puts the phone away.

The payment link's screen (`pos_app.screens.link`) is this one with the link's QR and
words: the hooks below (`qr_link`, `expires_at`, `payee_text`, `waiting_text`, ...).
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits

from gateway_core.money import Money
from gateway_core.payments import Payment
from gateway_core.presentation import format_money
from gateway_core.upi_api import PayResult, TestPayer, upi_reason
from pos_app.screens.base import PosScreen, while_shown
from pos_app.screens.hosts import SaleDesk
from pos_app.screens.phone import PhonePanel
from pos_app.widgets.line import Line
from pos_app.widgets.qr import QrCode

REFRESH_S = 1.0  # how often a pending payment is asked about


def mmss(seconds: float) -> str:
    """Seconds left as m:ss, rounded up (0:00 once past)."""
    seconds = max(0, int(seconds + 0.999))
    return f"{seconds // 60}:{seconds % 60:02d}"


class UpiScreen(PosScreen):
    """The customer scans the QR with any UPI app; the status follows the switch."""

    TITLE_TEXT = "UPI"
    AUTO_FOCUS = ""
    BINDINGS = [
        Binding(
            "escape",
            "escape",
            "Cancel",
            id="upi.cancel",
            tooltip="Cancel the UPI payment (the switch is told; nothing is taken)",
        ),
        Binding(
            "p",
            "phone",
            "Phone",
            id="upi.phone",
            tooltip="Demo: the customer's phone pays the QR with a test UPI ID and PIN",
        ),
        Binding(
            "c",
            "check",
            "Check",
            id="upi.check",
            tooltip="Ask the switch now (it is asked every second anyway)",
        ),
    ]

    PANEL_TITLE = "Pay by UPI"
    EXPIRES = "QR expires in"
    EXPIRED = "The QR has expired: confirming with the switch…"

    def __init__(self, desk: SaleDesk, total: Money, payment: Payment | None = None) -> None:
        super().__init__()
        self.desk = desk
        self.total = total
        self.payment = payment
        self.done = False  # final: the result screen comes next

    # -- what the screen shows of its payment (the link's screen says its own) --------
    @property
    def has_phone(self) -> bool:
        return self.desk.phone

    def qr_link(self, payment: Payment) -> str | None:
        return (payment.upi.link or "") if payment.upi is not None else None

    def expires_at(self, payment: Payment) -> datetime | None:
        return payment.upi.expires_at if payment.upi is not None else None

    def payee_text(self, payment: Payment) -> str:
        return f"To {payment.upi.payee_vpa}\n{payment.id}" if payment.upi is not None else ""

    def waiting_text(self, payment: Payment) -> str:
        return upi_reason(payment.response_code).text

    def compose_body(self) -> ComposeResult:
        settings = self.desk.settings
        with Horizontal(id="upi"):
            with Vertical(id="upi-qr-box"):
                yield QrCode(id="upi-qr")
            with Vertical(id="upi-info", classes="panel") as info:
                info.border_title = self.PANEL_TITLE
                yield Line(settings.merchant_name, id="upi-merchant")
                yield Digits(format_money(self.total), id="upi-amount")
                yield Line("", id="upi-payee")
                yield Line("Creating the QR…", id="upi-status")
                yield Line("", id="upi-countdown")
                yield Line("", id="upi-note", classes="field-note")
                yield Line("", id="upi-hint")
            if self.has_phone:
                yield PhonePanel(id="upi-phone")

    @while_shown
    def on_mount(self) -> None:
        self.query_one("#upi-hint", Line).update(self._hint())
        if self.has_phone:
            phone = self.query_one(PhonePanel)
            phone.display = False
            phone.payee(self.desk.settings.merchant_name, self.total.minor, self.total.currency)
            self.desk.load_payers(self)
        if self.payment is not None:
            self.show_payment(self.payment)
        self.set_interval(REFRESH_S, self._tick)

    def _hint(self) -> str:
        phone = " · p: customer's phone" if self.desk.phone else ""
        return f"Scan with any UPI app{phone} · Esc: cancel"

    # -- the payment, as the desk answers ------------------------------------------------
    @while_shown
    def show_payment(self, payment: Payment) -> None:
        """The payment as stored now: the QR, the status and the countdown."""
        self.payment = payment
        link = self.qr_link(payment)
        if link is None:
            return
        self.query_one(QrCode).show(link)
        self.query_one("#upi-payee", Line).update(self.payee_text(payment))
        status = self.query_one("#upi-status", Line)
        if payment.status == "pending":
            status.update(f"● {self.waiting_text(payment)}")
        else:
            status.update(payment.status_word.upper())
        for tone, statuses in (("ok", ("succeeded",)), ("error", ("declined", "expired"))):
            status.set_class(payment.status in statuses, f"-{tone}")
        self._countdown()
        self.refresh_bindings()

    @while_shown
    def _countdown(self) -> None:
        line = self.query_one("#upi-countdown", Line)
        payment = self.payment
        expires_at = self.expires_at(payment) if payment is not None else None
        if payment is None or expires_at is None or payment.status != "pending":
            line.update("")
            return
        left = (expires_at - self.desk.now()).total_seconds()
        if left > 0:
            line.update(f"{self.EXPIRES} {mmss(left)}")
        else:
            line.update(self.EXPIRED)
        line.set_class(left <= 30, "-error")

    def _tick(self) -> None:
        self._countdown()
        if not self.done and self.payment is not None and self.payment.status == "pending":
            self.desk.refresh_upi(self)

    @while_shown
    def note(self, text: str, tone: str = "") -> None:
        line = self.query_one("#upi-note", Line)
        line.update(text)
        for t in ("error", "ok", "info"):
            line.set_class(t == tone and bool(text), f"-{t}")

    @while_shown
    def show_payers(self, payers: list[TestPayer]) -> None:
        self.query_one(PhonePanel).show_payers(payers)

    @while_shown
    def phone_answered(self, result: PayResult) -> None:
        """The phone's answer; the phone is put away, for the status to show."""
        text, tone = self.query_one(PhonePanel).answered(result)
        if self._phone_open():
            self.action_phone()
        self.note(f"Phone: {text}", tone)

    # -- keys ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "phone":
            return self.has_phone
        if action == "check":
            return self.payment is not None and self.payment.status == "pending"
        return True

    def _phone_open(self) -> bool:
        return self.has_phone and self.query_one(PhonePanel).display

    @while_shown
    def action_phone(self) -> None:
        if not self.has_phone:
            return
        phone = self.query_one(PhonePanel)
        info = self.query_one("#upi-info")
        phone.display = not phone.display
        info.display = not phone.display
        if phone.display:
            phone.open()
        else:
            self.set_focus(None)

    def on_phone_panel_close(self, event: PhonePanel.Close) -> None:
        event.stop()
        self.action_phone()

    def action_escape(self) -> None:
        if self._phone_open():  # the phone's own Esc had no focus to go by
            self.action_phone()
            return
        payment = self.payment
        if payment is None:
            self.note("The QR is still being made: Esc again once it shows", "info")
            return
        if payment.status == "pending" and not self.done:
            self.note("Canceling…", "info")
            self.desk.cancel_upi(self)

    def action_check(self) -> None:
        if self.payment is not None and not self.done:
            self.desk.refresh_upi(self)

    def on_phone_panel_pay(self, event: PhonePanel.Pay) -> None:
        event.stop()
        payment = self.payment
        if payment is None or payment.upi is None or not payment.upi.link:
            self.query_one(PhonePanel).note("No QR to pay yet", "error")
            return
        self.desk.pay_on_phone(self, event.vpa, event.pin)
