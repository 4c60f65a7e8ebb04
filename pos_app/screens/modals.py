"""Dialogs: a yes/no confirmation, a reprinted receipt, and a manager's ID and PIN to
approve a void."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Input, Label

from gateway_core.money import Money
from gateway_core.payments import Payment
from gateway_core.ports import Approval
from gateway_core.presentation import format_money
from pos_app.screens.base import PosModal, while_shown
from pos_app.screens.receipt import paid_with
from pos_app.widgets.fields import Field, secret_digits
from pos_app.widgets.line import Line

Approve = Callable[[Approval, Any], None]
"""Acts on a manager's approval: a worker that answers the dialog (its second argument)
with `show_error` or `dismiss`."""


class ConfirmScreen(PosModal[bool]):
    """A question with two answers: Enter for yes, Escape for no."""

    BINDINGS = [
        Binding("enter", "yes", "Yes", id="confirm.yes", tooltip="Answer yes"),
        Binding("escape", "no", "No", id="confirm.no", tooltip="Answer no (go back)"),
    ]

    def __init__(self, title: str, text: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.title_text, self.text, self.yes, self.no = title, text, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self.title_text
            yield Line(self.text, classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (Enter)", id="yes", variant="warning", compact=True)
                yield Button(f"{self.no} (Esc)", id="no", compact=True)
        yield Footer(compact=True, show_command_palette=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


class ReceiptDialog(PosModal[None]):
    """A receipt printed again (marked DUPLICATE), shown whole: Enter or Escape closes it."""

    BINDINGS = [
        Binding("enter,escape", "close", "Close", id="receipt.close", tooltip="Close the receipt"),
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="reprint", classes="dialog") as box:
            box.border_title = "Receipt (reprint)"
            box.can_focus = True  # long receipts scroll with the arrow keys
            yield Line(self.text, id="reprint-text")
        yield Footer(compact=True, show_command_palette=False)

    def action_close(self) -> None:
        self.dismiss(None)


def void_kind(payment: Payment) -> str:
    """ "void" while authorized (the hold is released), "refund" once captured."""
    return "refund" if payment.status == "succeeded" else "void"


class ManagerApprovalScreen(PosModal[Payment | None]):
    """A manager approves a void (or, for a captured sale, a full refund) with ID and PIN."""

    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="manager.cancel",
            tooltip="Close without voiding",
        ),
    ]

    def __init__(self, payment: Payment, approve: Approve) -> None:
        super().__init__()
        self.payment = payment
        self.approve = approve  # a worker that answers with `show_error` or `dismiss`
        self.busy = False

    def describe(self) -> tuple[str, str]:
        """The dialog's title and what the manager approves (subclasses say theirs)."""
        payment = self.payment
        amount = format_money(payment.money)
        if void_kind(payment) == "refund":
            left = format_money(Money(payment.refundable, payment.currency))
            to = (
                "card" if payment.card else "customer, from the drawer" if payment.cash else "payer"
            )
            what = (
                f"This sale ({amount}, {paid_with(payment)}) is already captured: "
                f"voiding it refunds {left} to the {to}."
            )
            return "Void: full refund", what
        return "Void", f"Void {amount} on {paid_with(payment)}: the hold goes back to the card."

    def compose(self) -> ComposeResult:
        title, what = self.describe()
        with Vertical(id="manager", classes="dialog") as box:
            box.border_title = f"{title} - manager approval"
            yield Line(what, classes="dialog-text")
            yield Label("Manager ID", classes="field-label")
            yield Field(id="manager-id", placeholder="e.g. meera", max_length=32, compact=True)
            yield Label("Manager PIN", classes="field-label")
            yield secret_digits(
                "manager-pin",
                8,
                "a PIN is 4 to 8 digits",
                placeholder="4 to 8 digits",
                compact=True,
            )
            yield Line("", id="manager-error", classes="field-error")
            yield Line("Enter: next / approve · Esc: cancel", classes="dialog-hint")
        yield Footer(compact=True, show_command_palette=False)

    @while_shown
    def on_mount(self) -> None:
        self.set_focus(self.query_one("#manager-id", Field))

    def on_field_refused(self, event: Field.Refused) -> None:
        self.show_error(event.note)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.value and not self.busy:
            self.query_one("#manager-error", Line).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        user = self.query_one("#manager-id", Field)
        pin = self.query_one("#manager-pin", Field)
        if event.input is user:
            self.set_focus(pin)
            return
        if not user.value.strip():
            self.show_error("Enter the manager's ID")
            self.set_focus(user)
            return
        if not pin.value:
            self.show_error("Enter the manager's PIN")
            return
        if self.busy:
            return
        self.busy = True
        self.query_one("#manager-error", Line).update("Checking…")
        self.approve(Approval(user.value.strip(), pin.value), self)
        pin.value = ""

    @while_shown
    def show_error(self, text: str) -> None:
        self.busy = False
        self.query_one("#manager-error", Line).update(text[:1].upper() + text[1:])
        self.set_focus(self.query_one("#manager-pin", Field))

    def action_cancel(self) -> None:
        if self.busy:
            return
        self.dismiss(None)
