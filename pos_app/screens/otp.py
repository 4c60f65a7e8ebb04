"""OTP step-up: where the code went, a 6-digit field, countdown, tries, resend, cancel.

In demo mode a simulated phone shows the bank's text message, so the demo goes on at
the keyboard.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label

from gateway_core.acquirer_api import Sms
from gateway_core.payments import Payment
from gateway_core.presentation import format_money, time_text
from pos_app.screens.base import PosScreen, while_shown
from pos_app.screens.hosts import SaleDesk
from pos_app.screens.modals import ConfirmScreen
from pos_app.widgets.fields import Field
from pos_app.widgets.line import Line


def _mmss(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.999))
    return f"{seconds // 60}:{seconds % 60:02d}"


class OtpScreen(PosScreen):
    """The payment waits for the cardholder's code."""

    TITLE_TEXT = "OTP"
    BINDINGS = [
        Binding("enter", "confirm", "Confirm", id="otp.confirm", tooltip="Send the code"),
        Binding(
            "ctrl+r",
            "resend",
            "Resend",
            id="otp.resend",
            tooltip="Ask the bank to text a new code (after a short wait)",
        ),
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="otp.cancel",
            tooltip="Stop waiting for the code; nothing is charged",
        ),
    ]

    def __init__(self, desk: SaleDesk, payment: Payment, *, note: str = "") -> None:
        super().__init__()
        self.desk = desk
        self.payment = payment
        self.first_note = note
        self.sms: list[Sms] = []

    def compose_body(self) -> ComposeResult:
        challenge = self.payment.challenge
        phone = challenge.phone if challenge else "the cardholder's phone"
        with Horizontal(id="otp"):
            with Vertical(id="otp-left", classes="panel") as left:
                left.border_title = "OTP required"
                amount = format_money(self.payment.money)
                yield Line(f"{amount} · {self.payment.card.masked}", id="otp-payment")
                yield Line(f"The bank texted a code to {phone}.", id="otp-where")
                yield Label("Code (6 digits)", classes="field-label")
                yield Field(
                    id="otp-code",
                    placeholder="6 digits",
                    restrict=r"[0-9]*",
                    max_length=6,
                    refused_note="the code is 6 digits (0-9)",
                )
                yield Line("", id="otp-note", classes="field-note")
                yield Line("", id="otp-expiry")
                yield Line("", id="otp-resend")
                yield Line("Enter: confirm · Esc: stop waiting", id="otp-hint")
            if self.desk.demo:
                with Vertical(id="phone", classes="panel") as box:
                    box.border_title = "Cardholder's phone (demo)"
                    yield Line(phone, id="phone-number")
                    yield Line("No messages yet", id="sms")

    @while_shown
    def on_mount(self) -> None:
        self.query_one("#otp-code", Field).focus()
        self._tick()
        self.set_interval(1.0, self._tick)
        if self.first_note:
            self.note(self.first_note)
        if self.desk.demo:
            self.desk.fetch_outbox(self)

    # -- the clock ----------------------------------------------------------------------
    @while_shown
    def _tick(self) -> None:
        challenge = self.payment.challenge
        if challenge is None:
            return
        now = self.desk.now()
        left = (challenge.expires_at - now).total_seconds()
        tries = challenge.tries_left
        tries_text = "1 try left" if tries == 1 else f"{tries} tries left"
        expiry = self.query_one("#otp-expiry", Line)
        if left > 0:
            expiry.update(f"Expires in {_mmss(left)} · {tries_text}")
            expiry.set_class(False, "-error")
        else:
            expiry.update("The code has expired: Enter ends the payment (nothing is charged)")
            expiry.set_class(True, "-error")
        wait = (challenge.resend_available_at - now).total_seconds()
        resends = challenge.resends_left
        resend = self.query_one("#otp-resend", Line)
        if resends <= 0:
            resend.update("No more codes can be sent")
        elif wait > 0:
            resend.update(f"New code possible in {_mmss(wait)} ({resends} left)")
        else:
            keys = self.app.get_key_display(self._binding("otp.resend"))
            resend.update(f"New code: {keys} ({resends} left)")

    def _binding(self, binding_id: str) -> Binding:
        for _key, active in self.app.active_bindings.items():
            if active.binding.id == binding_id:
                return active.binding
        return next(b for b in self.BINDINGS if isinstance(b, Binding) and b.id == binding_id)

    def expired(self) -> bool:
        challenge = self.payment.challenge
        return challenge is not None and challenge.expires_at <= self.desk.now()

    # -- updates from the app ---------------------------------------------------------------
    @while_shown
    def update_payment(self, payment: Payment) -> None:
        self.payment = payment
        self._tick()

    @while_shown
    def note(self, text: str, kind: str = "error") -> None:
        note = self.query_one("#otp-note", Line)
        note.update(text[:1].upper() + text[1:] if text else "")
        for k in ("error", "ok", "info"):
            note.set_class(k == kind and bool(text), f"-{k}")

    @while_shown
    def show_sms(self, messages: list[Sms]) -> None:
        self.sms = messages
        if not self.desk.demo:
            return
        box = self.query_one("#sms", Line)
        if not messages:
            box.update("No messages yet")
            return
        latest = messages[0]
        at = time_text(latest.at, self.desk.settings.tz)
        older = f"\n\n({len(messages) - 1} older)" if len(messages) > 1 else ""
        box.update(f"{at}\n{latest.text}{older}")

    # -- keys ---------------------------------------------------------------------------
    def on_field_refused(self, event: Field.Refused) -> None:
        self.note(event.note)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.value:
            self.note("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    @while_shown
    def action_confirm(self) -> None:
        code_field = self.query_one("#otp-code", Field)
        if self.expired():
            self.desk.confirm_otp(self.payment, "000000")
            return
        code = code_field.value.strip()
        if len(code) != 6 or not code.isdigit():
            self.note("enter the 6-digit code")
            return
        code_field.value = ""
        self.desk.confirm_otp(self.payment, code)

    def action_resend(self) -> None:
        self.note("")
        self.desk.resend_otp(self)

    def action_cancel(self) -> None:
        challenge = self.payment.challenge
        until = (
            time_text(challenge.expires_at, self.desk.settings.tz, seconds=False)
            if challenge
            else "its expiry"
        )

        def answer(yes: bool | None) -> None:
            if yes:
                self.desk.abandon_otp(self.payment)

        self.app.push_screen(
            ConfirmScreen(
                "Stop waiting for the OTP?",
                f"The payment waits for its code until {until} and is then canceled; "
                "nothing is charged. It stays in Today, where the code can still be entered.",
                yes="Stop waiting",
                no="Keep waiting",
            ),
            answer,
        )
