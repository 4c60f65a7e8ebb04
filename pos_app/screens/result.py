"""The outcome in large type with the cashier's reason, and the receipt beside it."""

from __future__ import annotations

from functools import partial

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Digits

from gateway_core.payments import Payment
from gateway_core.presentation import format_money
from pos_app.screens.base import PosScreen, while_shown
from pos_app.screens.hosts import SaleDesk
from pos_app.screens.modals import ManagerApprovalScreen, ReceiptDialog
from pos_app.screens.receipt import brand_text, headline, paid_with, reason, receipt_text, tone
from pos_app.widgets.bigtext import BigText
from pos_app.widgets.line import Line


class ResultScreen(PosScreen):
    """APPROVED / DECLINED / ...; new sale, reprint, save, void."""

    TITLE_TEXT = "Result"
    AUTO_FOCUS = ""
    BINDINGS = [
        Binding("enter", "new_sale", "New sale", id="result.new_sale", tooltip="Start a new sale"),
        Binding("p", "reprint", "Reprint", id="result.reprint", tooltip="Print the receipt again"),
        Binding(
            "s",
            "save",
            "Save",
            id="result.save",
            tooltip="Save the receipt as a text file in the data dir's receipts/",
        ),
        Binding(
            "v",
            "void",
            "Void",
            id="result.void",
            tooltip="Void the payment (a manager approves with ID and PIN)",
        ),
        Binding(
            "a",
            "again",
            "Try again",
            id="result.again",
            tooltip="Same sale, same or another card",
        ),
        Binding(
            "c",
            "check",
            "Check",
            id="result.check",
            tooltip="Ask the bank again about a payment whose outcome is unknown",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            show=False,
            id="result.back",
            tooltip="Back (a new sale, or the list of today's payments)",
        ),
    ]

    def __init__(self, desk: SaleDesk, payment: Payment, *, from_today: bool = False) -> None:
        super().__init__()
        self.desk = desk
        self.payment = payment
        self.from_today = from_today
        self.copy = "CUSTOMER COPY"

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="result"):
            with Vertical(id="result-left", classes="panel") as left:
                left.border_title = "Payment"
                yield BigText("", id="headline")
                yield Line("", id="reason")
                yield Digits("", id="result-total")
                yield Line("", id="result-amount")
                yield Line("", id="result-next")
            with VerticalScroll(id="receipt-box", classes="panel") as box:
                box.border_title = "Receipt"
                box.can_focus = True
                yield Line("", id="receipt")

    @while_shown
    def on_mount(self) -> None:
        self.show(self.payment)

    @property
    def receipt(self) -> str:
        extras = self.desk.extras.get(self.payment.id)
        return receipt_text(self.payment, self.desk.settings, extras, copy=self.copy)

    @while_shown
    def show(self, payment: Payment) -> None:
        self.payment = payment
        word = headline(payment)
        big = self.query_one("#headline", BigText)
        big.update(word)
        for t in ("success", "warning", "error"):
            big.set_class(t == tone(payment), f"-{t}")
        shows_code = payment.status in ("succeeded", "requires_capture", "declined")
        code = f"{payment.response_code} · " if payment.response_code and shows_code else ""
        self.query_one("#reason", Line).update(f"{code}{reason(payment)}")
        self.query_one("#result-total", Digits).update(format_money(payment.money))
        self.query_one("#result-amount", Line).update(
            f"{paid_with(payment)} · {brand_text(payment)}\n{payment.id}"
            if payment.card is not None
            else f"{paid_with(payment)}\n{payment.id}"
        )
        self.query_one("#result-next", Line).update(self._next_steps())
        self.query_one("#receipt", Line).update(self.receipt)
        self.refresh_bindings()

    def _next_steps(self) -> str:
        payment = self.payment
        word = headline(payment)
        if word == "UNKNOWN":
            return (
                "The bank's answer is not known yet. c: check again (a hold is reversed). "
                "a: send the same payment again - it is never charged twice."
            )
        if payment.bill_id and not self.from_today:
            again = " · a: this part again" if word in ("DECLINED", "EXPIRED", "CANCELED") else ""
            return f"A part of bill {payment.bill_id}: Enter goes back to the bill{again}."
        if payment.method in ("upi", "link") and word in ("DECLINED", "EXPIRED", "CANCELED"):
            return "Nothing was taken. a: back to the sale, to take it by card or UPI again."
        if word == "DECLINED":
            return "Ask for another card or payment method: a to try again."
        if word == "AUTHORIZED":
            return "Held on the card; capture it from Today (F2, then c), or void it."
        if word == "OTP PENDING":
            return "Waiting for the cardholder's code: open it from Today (F2)."
        return ""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        payment = self.payment
        if action == "void":
            return payment.status == "requires_capture" or (
                payment.status == "succeeded" and payment.refundable > 0
            )
        if action == "again":
            return not self.from_today and payment.status in (
                "declined",
                "canceled",
                "expired",
                "unknown",
            )
        if action == "check":
            return payment.status == "unknown"
        if action == "new_sale":
            return not self.from_today
        return True

    # -- keys ---------------------------------------------------------------------------
    def action_new_sale(self) -> None:
        self.desk.new_sale()

    def action_back(self) -> None:
        if self.from_today:
            self.dismiss()
        else:
            self.desk.new_sale()

    @while_shown
    def action_reprint(self) -> None:
        self.copy = "DUPLICATE"
        self.query_one("#receipt", Line).update(self.receipt)
        self.app.push_screen(ReceiptDialog(self.receipt))

    def action_save(self) -> None:
        self.desk.save_receipt(self.payment, self.receipt)

    def action_void(self) -> None:
        def done(payment: Payment | None) -> None:
            if payment is not None:
                self.show(payment)

        approve = partial(self.desk.void_payment, self.payment)
        self.app.push_screen(ManagerApprovalScreen(self.payment, approve), done)

    def action_again(self) -> None:
        self.desk.try_again(self.payment)

    def action_check(self) -> None:
        self.desk.check_payment(self.payment)
