"""The demo's simulated phone on the UPI screen: the customer picks a test VPA, types
the UPI PIN (masked) and pays the link on the terminal's QR through the payer app of
the simulated network (`gateway_core.ports.PayerApp`, handed over by the `Wiring`).

The PIN lives in the field until Enter; then it goes to the payer app and the field is
emptied. It is never shown, logged or kept.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from gateway_core.presentation import money_text
from gateway_core.upi_api import PayResult, TestPayer, upi_reason
from pos_app.widgets.fields import Field, secret_digits
from pos_app.widgets.line import Line

PIN_LENGTHS = (4, 6)  # a UPI PIN has 4 or 6 digits


class PhonePanel(Vertical):
    """A payer's UPI app: choose who pays, the PIN, Enter pays (`PhonePanel.Pay`); Esc
    puts the phone away (`PhonePanel.Close`)."""

    BINDINGS = [
        Binding(
            "escape",
            "close",
            "Close phone",
            id="upi.phone_close",
            tooltip="Put the customer's phone away (the payment still waits for a payer)",
        ),
    ]

    class Close(Message):
        """The customer puts the phone away."""

    class Pay(Message):
        """The customer approved the payment on the phone (the PIN is passed on, once)."""

        def __init__(self, vpa: str, pin: str) -> None:
            super().__init__()
            self.vpa = vpa
            self.pin = pin

        def __repr__(self) -> str:  # never the PIN, in a log or a traceback
            return f"PhonePanel.Pay(vpa={self.vpa!r}, pin='****')"

    def __init__(self, **kwargs) -> None:
        super().__init__(classes="panel", **kwargs)
        self.payers: list[TestPayer] = []
        self.border_title = "Customer's phone (demo)"

    def compose(self) -> ComposeResult:
        yield Line("", id="phone-payee")
        yield Label("Pay from (↑↓, Enter)", classes="field-label")
        yield OptionList(id="phone-payers", compact=True)
        yield Line("", id="phone-behaviour")
        yield Label("UPI PIN (test PIN 1234)", classes="field-label")
        yield secret_digits(
            "phone-pin",
            6,
            "a UPI PIN is 4 or 6 digits",
            placeholder="4 or 6 digits, Enter pays",
            compact=True,
        )
        yield Line("", id="phone-note", classes="field-note")

    def payee(self, name: str, amount: int, currency: str) -> None:
        """What the phone asks the customer to approve."""
        self.query_one("#phone-payee", Line).update(f"Pay {name}\n{money_text(amount, currency)}")

    def show_payers(self, payers: list[TestPayer]) -> None:
        """The test payers to choose from (the first highlighted)."""
        self.payers = payers
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(Option(p.vpa, id=p.vpa) for p in payers)
        if payers:
            options.highlighted = 0
        self._describe()

    def open(self) -> None:
        """Shown: the payer list has the keys."""
        self.query_one(OptionList).focus()

    def action_close(self) -> None:
        self.post_message(self.Close())

    def chosen(self) -> TestPayer | None:
        index = self.query_one(OptionList).highlighted
        return self.payers[index] if index is not None and index < len(self.payers) else None

    def _describe(self) -> None:
        payer = self.chosen()
        text = f"{payer.behaviour}" if payer else "No test payers"
        self.query_one("#phone-behaviour", Line).update(text)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._describe()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#phone-pin", Field).focus()

    def on_field_refused(self, event: Field.Refused) -> None:
        event.stop()
        self.note(event.note, "error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        field = self.query_one("#phone-pin", Field)
        pin, field.value = field.value, ""
        payer = self.chosen()
        if payer is None:
            self.note("Choose who pays first", "error")
            return
        if len(pin) not in PIN_LENGTHS:
            self.note("A UPI PIN is 4 or 6 digits", "error")
            return
        self.note(f"Paying from {payer.vpa}…", "info")
        self.post_message(self.Pay(payer.vpa, pin))

    def answered(self, result: PayResult) -> tuple[str, str]:
        """What the payer app says after the PIN, on the phone; returned as (text, tone)."""
        code = f" {result.response_code}" if result.response_code else ""
        words = result.message or upi_reason(result.response_code).text
        if result.status == "SUCCESS":
            said = f"Paid ✓ RRN {result.rrn or '--'}", "ok"
        elif result.status in ("PENDING", "DEEMED"):
            said = f"Pending{code}: {words}", "info"
        else:
            said = f"Failed{code}: {words}", "error"
        self.note(*said)
        return said

    def note(self, text: str, tone: str = "") -> None:
        line = self.query_one("#phone-note", Line)
        line.update(text)
        for t in ("error", "ok", "info"):
            line.set_class(t == tone and bool(text), f"-{t}")
