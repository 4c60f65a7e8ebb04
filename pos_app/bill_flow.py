"""The split bill part of the sale desk (a base of `pos_app.sale_flow.SaleFlow`): the
sale's total becomes a bill, each tender (card, UPI, cash) pays a part of its balance
through the gateway's bills (`pay_bill`), a declined part stays listed and another
tender is chosen, and canceling the bill gives back what was taken (a manager approves
refunds). While a bill is open, the sale desk's "back to the sale" is back to the bill:
the Split screen under the card, UPI or cash screens of a part."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.app import App

from gateway_core.access import NotPermitted, User
from gateway_core.bill_models import Bill
from gateway_core.errors import PaygateError
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.money import Money, MoneyError
from gateway_core.payments import Payment
from gateway_core.ports import Approval
from gateway_core.presentation import format_plain
from gateway_core.settings import Settings
from pos_app.navigation import Navigator
from pos_app.screens.hosts import Dialog
from pos_app.screens.split import BillView, SplitScreen
from pos_app.screens.state import SaleDraft

log = logging.getLogger("paygate.terminal")

SPLIT_START = "split-start"  # the bill opened before the Split screen shows it


@dataclass(frozen=True)
class Part:
    """The part of the bill the tender on screen pays."""

    bill_id: str
    amount: int


class BillSale:
    """What the sale desk does for a split bill (on `SaleFlow`'s gateway, workers,
    navigation and draft)."""

    app: App[int]
    nav: Navigator
    settings: Settings
    draft: SaleDraft
    user: User | None
    busy: str | None
    gateway: Gateway
    _run: Callable[..., None]
    read: Callable[..., Any]
    operator: Callable[[], str]
    bill: Bill | None = None  # the bill on the Split screen
    part: Part | None = None  # the part its tender on screen pays

    async def send(self, request: ChargeRequest) -> Payment:
        """A sale's payment, or a bill's part: the part checked against the balance and
        listed on the bill (`pay_bill`), its payment returned."""
        if request.bill_id is None:
            return await self.gateway.charge(request)
        bill = await self.gateway.bills.pay_bill(request.bill_id, request)
        self.bill = bill
        payment: Payment = await self.read(self.gateway.get, bill.parts[-1].payment_id)
        return payment

    def start_split(self) -> None:
        """The sale's total as a bill, on the Split screen."""
        if self.busy or self.user is None:
            return
        try:
            total = self.draft.total()
        except MoneyError as exc:
            self.app.notify(str(exc), severity="error")
            return
        self._run(self._open_bill(total.minor, total.currency), SPLIT_START, name="bill")

    async def _open_bill(self, amount: int, currency: str) -> None:
        try:
            bill = await self.gateway.bills.open_bill(
                amount=amount,
                currency=currency,
                operator=self.operator(),
                terminal_id=self.settings.terminal_id,
                idempotency_key=self.draft.idempotency_key,
            )
        except PaygateError as exc:
            self.app.notify(str(exc)[:1].upper() + str(exc)[1:], title="Split", severity="error")
            return
        self.draft.new_attempt()  # the parts' payments: keys of their own
        self.bill, self.part = bill, None
        self.nav.flow_to(SplitScreen(self, bill))

    def pay_part(self, view: BillView, tender: str, amount: int) -> None:
        """The cashier chose a tender for `amount` of the balance."""
        bill = view.bill
        self.bill, self.part = bill, Part(bill.id, amount)
        # The part as the sale on screen: the card, UPI and cash screens show and send it
        # (a draft of its own: its own idempotency key, kept while its outcome is unknown).
        part = SaleDraft(bill.currency, self.draft.max_minor)
        part.amount_text = format_plain(Money(amount, bill.currency))
        part.reference = self.draft.reference
        self.draft = part
        starts: dict[str, Callable[[], None]] = {
            "card": self.open_card,
            "upi": self.start_upi,
            "cash": self.start_cash,
        }
        starts[tender]()

    open_card: Callable[[], None]
    start_upi: Callable[[], None]
    start_cash: Callable[[], None]

    def back_to_bill(self) -> bool:
        """Back to the Split screen, the bill read again; False when no bill is open."""
        if self.bill is None:
            return False
        self.part = None
        bill_id = self.bill.id

        async def back() -> None:
            bill = await self.read(self.gateway.bills.get_bill, bill_id)  # as it stands now
            self.bill = bill
            while len(self.app.screen_stack) > 2 and not isinstance(self.app.screen, SplitScreen):
                await self.app.pop_screen()
            screen = self.app.screen
            if isinstance(screen, SplitScreen):
                screen.show_bill(bill)
            else:  # the Split screen was closed meanwhile: show the bill again
                await self.app.push_screen(SplitScreen(self, bill))

        self.nav.navigate(back)
        return True

    def cancel_bill(self, view: BillView, approval: Approval | None, dialog: Dialog | None) -> None:
        self._run(self._cancel_bill(view, approval, dialog), "bill-cancel")

    async def _cancel_bill(
        self, view: BillView, approval: Approval | None, dialog: Dialog | None
    ) -> None:
        try:
            bill = await self.gateway.bills.cancel_bill(
                view.bill.id, operator=self.operator(), approval=approval
            )
        except NotPermitted as exc:
            if dialog is None:
                view.needs_approval(str(exc))
            else:
                dialog.show_error(str(exc))
            return
        except PaygateError as exc:
            (dialog.show_error if dialog is not None else view.note)(str(exc))
            return
        except Exception as exc:  # never a traceback on the cashier's screen
            log.error("bill cancel failed: %s", type(exc).__name__)
            view.note(f"Something went wrong ({type(exc).__name__})", "error")
            return
        if dialog is not None:
            dialog.dismiss(None)
        self.bill = bill
        view.show_bill(bill)

    def close_bill(self) -> None:
        """The bill is paid or canceled: a new sale."""
        self.bill = self.part = None
        self.new_sale()

    new_sale: Callable[[], None]
