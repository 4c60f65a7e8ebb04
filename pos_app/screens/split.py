"""The split bill: the bill, what is paid and the balance due, each tender's line (a
declined part stays listed), and the next part: its amount keyed (the whole balance
when none is keyed) and its tender chosen by key (Enter card, u UPI, c cash). x cancels
the bill: what was taken is voided or refunded (a manager approves refunds). Once paid,
the bill's receipt lists every tender."""

from __future__ import annotations

from typing import Any, Protocol

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Digits

from gateway_core.bill_models import Bill
from gateway_core.money import Money, MoneyError
from gateway_core.ports import Approval
from gateway_core.presentation import format_money
from gateway_core.settings import Settings
from pos_app.screens.base import PosScreen, sentence, while_shown
from pos_app.screens.modals import ConfirmScreen, ReceiptDialog
from pos_app.screens.receipt import bill_receipt_text, part_line
from pos_app.screens.shift import ApprovalDialog
from pos_app.screens.state import SaleDraft, typed_display
from pos_app.widgets.bigtext import BigText
from pos_app.widgets.line import Line

TENDERS = {"to_card": "card", "to_upi": "upi", "to_cash": "cash"}


class BillDesk(Protocol):
    """What the Split screen reads and asks for."""

    settings: Settings

    def pay_part(self, view: BillView, tender: str, amount: int) -> None: ...

    def cancel_bill(self, view: BillView, approval: Approval | None, dialog: Any) -> None: ...

    def close_bill(self) -> None: ...


class BillView(Protocol):
    """The Split screen as the desk answers it."""

    bill: Bill

    def show_bill(self, bill: Bill) -> None: ...

    def note(self, text: str, tone: str = "") -> None: ...

    def needs_approval(self, text: str) -> None: ...


def _digit_bindings() -> list[Binding]:
    keys = [(str(d), str(d)) for d in range(10)]
    keys += [("full_stop", "."), ("backspace", "backspace"), ("delete", "clear")]
    names = {".": "decimal", "backspace": "backspace", "clear": "clear"}
    return [
        Binding(
            key,
            f"key('{what}')",
            what,
            show=False,
            id=f"split.{names.get(what, 'digit_' + what)}",
            tooltip="Key the amount of the next part (none: the whole balance)",
        )
        for key, what in keys
    ]


class SplitScreen(PosScreen):
    """One bill, several tenders: the balance, the parts, the next tender."""

    TITLE_TEXT = "Split bill"
    AUTO_FOCUS = ""
    BINDINGS = [
        Binding("enter", "tender('to_card')", "Card", id="split.card", tooltip="Pay it by card"),
        Binding("enter", "done", "New sale", id="split.done", tooltip="Paid or canceled: next"),
        Binding("u", "tender('to_upi')", "UPI", id="split.upi", tooltip="Pay the next part by UPI"),
        Binding("c", "tender('to_cash')", "Cash", id="split.cash", tooltip="Pay it in cash"),
        Binding(
            "x",
            "cancel_bill",
            "Cancel bill",
            id="split.cancel",
            tooltip="Cancel the bill: what was taken is voided or refunded (manager)",
        ),
        Binding("p", "reprint", "Reprint", id="split.reprint", tooltip="Print the bill again"),
        Binding("escape", "back", "Back", show=False, id="split.back", tooltip="Clear the amount"),
        *_digit_bindings(),
    ]

    def __init__(self, desk: BillDesk, bill: Bill) -> None:
        super().__init__()
        self.desk = desk
        self.bill = bill
        self.amount = SaleDraft(bill.currency, desk.settings.max_minor(bill.currency))
        self.busy = False

    def money(self, minor: int) -> str:
        return format_money(Money(minor, self.bill.currency))

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="split"):
            with Vertical(id="split-left", classes="panel") as left:
                left.border_title = f"Bill {self.bill.id}"
                yield Line("", id="split-totals")
                yield Line("Balance due", classes="field-label", id="split-balance-label")
                yield Digits("", id="split-balance")
                yield BigText("", id="split-word")
                yield Line("", id="split-parts")
                yield Line("", id="split-note", classes="field-note")
            with Vertical(id="split-right", classes="panel") as right:
                right.border_title = "Next part"
                yield Line("Amount  (0-9 . ⌫ Del)", classes="field-label", id="split-amount-label")
                yield Digits("", id="split-amount")
                yield Line("", id="split-keys")
                with VerticalScroll(id="split-receipt-box"):
                    yield Line("", id="split-receipt")

    @while_shown
    def on_mount(self) -> None:
        self.show_bill(self.bill)

    def on_screen_resume(self) -> None:
        self.busy = False

    # -- the bill, as the desk answers ---------------------------------------------------
    @while_shown
    def show_bill(self, bill: Bill) -> None:
        self.bill = bill
        self.query_one("#split-totals", Line).update(
            f"Total {self.money(bill.amount)} · paid {self.money(bill.paid)}"
        )
        self.query_one("#split-balance", Digits).update(self.money(bill.balance))
        parts = [part_line(p, bill.currency) for p in bill.parts] or ["No part paid yet"]
        self.query_one("#split-parts", Line).update("\n".join(parts))
        open_ = bill.status == "open"
        word = {"paid": "PAID", "canceled": "CANCELED", "canceling": "CANCELING"}
        big = self.query_one("#split-word", BigText)
        big.update(word.get(bill.status, ""))
        big.set_class(bill.status == "paid", "-success")
        big.set_class(bill.status != "paid", "-warning")
        big.display = not open_
        self.query_one("#split-balance", Digits).display = open_
        self.query_one("#split-balance-label").display = open_
        for selector in ("#split-amount-label", "#split-amount", "#split-keys"):
            self.query_one(selector).display = open_
        box = self.query_one("#split-receipt-box")
        box.display = not open_
        self.query_one("#split-receipt", Line).update("" if open_ else self.receipt())
        right = self.query_one("#split-right")
        right.border_title = "Next part" if open_ else "Receipt"
        declined = bill.parts and bill.parts[-1].status in ("declined", "canceled", "expired")
        if bill.status == "paid":
            self.note("Paid in full · Enter: new sale · p: print again", "ok")
        elif bill.status == "canceled":
            self.note("Canceled: what was taken was given back · Enter: new sale", "info")
        elif declined:
            self.note("The last part was not paid: choose another tender", "error")
        else:
            self.note("")
        self.amount.amount_text = ""
        self.refresh_amount()
        self.refresh_bindings()

    def receipt(self, copy: str = "CUSTOMER COPY") -> str:
        return bill_receipt_text(self.bill, self.desk.settings, copy=copy)

    @while_shown
    def refresh_amount(self) -> None:
        text = self.amount.amount_text
        shown = typed_display(text, self.bill.currency) if text else self.money(self.bill.balance)
        self.query_one("#split-amount", Digits).update(shown)
        self.query_one("#split-keys", Line).update(
            "Enter  card\nu      UPI\nc      cash\n\nx      cancel the bill\n"
            "(no amount keyed: the whole balance)"
        )

    @while_shown
    def note(self, text: str, tone: str = "") -> None:
        line = self.query_one("#split-note", Line)
        line.update(sentence(text) if text else "")
        for t in ("error", "ok", "info"):
            line.set_class(t == tone and bool(text), f"-{t}")

    # -- keys ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        status = self.bill.status
        if action in ("tender", "key", "cancel_bill"):
            return status == "open"
        if action == "done":
            return status != "open"
        if action == "reprint":
            return status == "paid"
        return True

    def action_key(self, key: str) -> None:
        problem = self.amount.key(key)
        self.note(problem or "", "error")
        self.refresh_amount()

    def action_back(self) -> None:
        if self.bill.status != "open":
            self.desk.close_bill()
        else:
            self.action_key("clear")

    def action_done(self) -> None:
        self.desk.close_bill()

    def action_tender(self, tender: str) -> None:
        if self.busy:
            return
        balance = self.bill.balance
        try:
            amount = self.amount.amount().minor if self.amount.amount_text else balance
        except MoneyError as exc:
            self.note(str(exc), "error")
            return
        if amount > balance:
            self.note(f"{self.money(amount)} is more than the {self.money(balance)} due", "error")
            return
        self.busy = True
        self.note("")
        self.desk.pay_part(self, TENDERS[tender], amount)

    def action_cancel_bill(self) -> None:
        if self.busy:
            return
        taken = self.money(self.bill.paid)
        text = (
            f"Cancel bill {self.bill.id}? The {taken} taken is given back."
            if self.bill.paid
            else f"Cancel bill {self.bill.id}? Nothing was taken."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.note("Canceling the bill…", "info")
                self.desk.cancel_bill(self, None, None)

        self.app.push_screen(
            ConfirmScreen("Cancel the bill", text, yes="Cancel it", no="Keep it"), answered
        )

    def needs_approval(self, text: str) -> None:
        """Refunds need a manager: the cancel goes again with their approval."""
        self.note(text, "error")

        def approve(approval: Approval, dialog: Any) -> None:
            self.desk.cancel_bill(self, approval, dialog)

        taken = self.money(self.bill.paid)
        what = f"Canceling bill {self.bill.id} refunds the {taken} taken."
        self.app.push_screen(ApprovalDialog("Cancel the bill", what, approve))

    def action_reprint(self) -> None:
        self.app.push_screen(ReceiptDialog(self.receipt("DUPLICATE")))
