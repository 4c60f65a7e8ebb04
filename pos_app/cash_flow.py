"""The cash part of the sale desk (a base of `pos_app.sale_flow.SaleFlow`): a cash sale
needs an open shift on the terminal (the cashier opens one first, counting the float),
the cash tendered is taken through the gateway's cash tender, and the shift is closed
with the drawer counted (a manager approves a short over the limit). Every gateway
call runs in a worker of the app; the answers go to the screens' views."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import App

from gateway_core.access import NotPermitted, User
from gateway_core.errors import PaygateError
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.money import Money, MoneyError
from gateway_core.payments import CashInput, Payment
from gateway_core.ports import Approval
from gateway_core.presentation import format_money
from gateway_core.settings import Settings
from gateway_core.shift_models import Count, Shift, ShiftError
from pos_app.navigation import Navigator
from pos_app.screens.cash import CashScreen, CashView
from pos_app.screens.hosts import Dialog
from pos_app.screens.messages import FlowDone
from pos_app.screens.shift import (
    MOVE_WORDS,
    ApprovalDialog,
    CountView,
    DrawerMoveDialog,
    ShiftCloseScreen,
    ShiftOpenScreen,
    ShiftReportScreen,
    Way,
    opened_note,
)
from pos_app.screens.state import SaleDraft, SaleExtras

log = logging.getLogger("paygate.terminal")

# Worker groups whose end changes the screen (pos_app.typeahead holds the next keys):
# the shift looked up before the cash screen or a count screen opens; a cash payment
# (no bank to wait for: the keys typed meanwhile are for its result, not for a
# processing screen, however long its write takes to reach the disk).
CASH_START = "cash-start"
CASH_PAYMENT = "cash-payment"
SHIFT_START = "shift-start"


class CashSale:
    """What the sale desk does for cash and the cashier's shift (on `SaleFlow`'s
    gateway, workers, navigation and draft)."""

    app: App[int]
    nav: Navigator
    settings: Settings
    draft: SaleDraft
    user: User | None
    busy: str | None
    pending_extras: SaleExtras | None
    gateway: Gateway
    _run: Callable[..., None]
    read: Callable[..., Any]
    sale_request: Callable[..., tuple[ChargeRequest, Money, SaleExtras] | None]
    new_sale: Callable[[], None]
    operator: Callable[[], str]
    send: Callable[[ChargeRequest], Awaitable[Payment]]
    back_to_bill: Callable[[], bool]
    part: Any  # the part of a split bill being paid (`pos_app.bill_flow.Part`), if any

    def _shift_now(self) -> Any:
        """The open shift on this terminal (a read: in a thread when remote)."""
        return self.read(self.gateway.shifts.current_shift, self.settings.terminal_id)

    # -- the cash sale --------------------------------------------------------------------
    def start_cash(self) -> None:
        """The cash screen for the sale's total; the shift's float first when none is
        open on this terminal."""
        if self.busy or self.user is None:
            return
        try:
            total = self.draft.total()
        except MoneyError as exc:
            self.app.notify(str(exc), severity="error")
            return
        self._run(self._start_cash(total), CASH_START, name="cash")

    async def _start_cash(self, total: Money) -> None:
        try:
            shift = await self._shift_now()
        except PaygateError as exc:
            self.app.notify(f"Cannot read the shift: {exc}", severity="error")
            return
        if shift is None:
            self.nav.flow_to(ShiftOpenScreen(self, total.currency, then_cash=True))
        else:
            self.nav.flow_to(self._cash_screen(total))

    def _cash_screen(self, total: Money) -> CashScreen:
        return CashScreen(self, total, bill_id=self.part.bill_id if self.part else None)

    def take_cash(self, view: CashView, tendered: int) -> None:
        """The cash handed over: the gateway takes it (the drawer's move is its own)."""
        made = self.sale_request(method="cash", cash=CashInput(tendered=tendered))
        if made is None:
            view.refused("a payment is already under way")
            return
        request, _total, extras = made
        self.busy = "charge"
        self._run(
            self._take_cash(request, extras, view), CASH_PAYMENT, exclusive=False, name="cash"
        )

    async def _take_cash(self, request: ChargeRequest, extras: SaleExtras, view: CashView) -> None:
        try:
            payment = await self.send(request)
        except ShiftError as exc:
            await self._no_shift(view, str(exc))
            return
        except PaygateError as exc:
            view.refused(str(exc))
            return
        except Exception as exc:  # never a traceback on the cashier's screen
            log.error("cash charge failed: %s", type(exc).__name__)
            view.refused(f"Something went wrong ({type(exc).__name__})")
            return
        finally:
            self.busy = None
        self.pending_extras = extras
        self.app.post_message(FlowDone(payment, "charge"))

    async def _no_shift(self, view: CashView, why: str) -> None:
        """The shift was closed meanwhile (another screen, the console): open one."""
        try:
            shift = await self._shift_now()
        except PaygateError:
            shift = None
        if shift is None:
            self.app.notify(why[:1].upper() + why[1:], title="Cash", severity="warning")
            self.nav.flow_to(ShiftOpenScreen(self, view.total.currency, then_cash=True))
        else:
            view.refused(why)

    def leave_cash(self, view: CashView) -> None:
        if not self.back_to_bill():
            self.nav.back_to_sale(lambda: None)

    # -- the shift ------------------------------------------------------------------------
    def open_shift_screens(self) -> None:
        """o on the sale screen: open a shift, or close the one open on this terminal."""
        if self.busy or self.user is None:
            return
        self._run(self._shift_screens(), SHIFT_START, name="shift")

    async def _shift_screens(self) -> None:
        try:
            shift: Shift | None = await self._shift_now()
            report = None
            if shift is not None:
                report = await self.read(self.gateway.shifts.shift_report, shift.id)
        except PaygateError as exc:
            self.app.notify(f"Cannot read the shift: {exc}", severity="error")
            return
        if shift is None or report is None:
            self.nav.flow_to(ShiftOpenScreen(self, self.settings.currency))
        else:
            self.nav.flow_to(ShiftCloseScreen(self, shift, report.expected))

    def open_shift(self, view: CountView, count: Count) -> None:
        self._run(self._open_shift(view, count), SHIFT_START, name="shift-open")

    async def _open_shift(self, view: CountView, count: Count) -> None:
        try:
            shift = await self.gateway.shifts.open_shift(
                count=count, cashier=self.operator(), terminal_id=self.settings.terminal_id
            )
        except PaygateError as exc:
            view.refused(str(exc))
            return
        self.app.notify(opened_note(shift), title="Shift")
        if isinstance(view, ShiftOpenScreen) and view.then_cash:
            self.nav.flow_to(self._cash_screen(self.draft.total()))
        else:
            self.nav.back_to_sale(lambda: None)

    def close_shift(self, view: CountView, count: Count) -> None:
        self._run(self._close_shift(view, count, None, None), SHIFT_START, name="shift-close")

    def close_shift_approved(
        self, view: CountView, count: Count, approval: Approval, dialog: Dialog
    ) -> None:
        self._run(self._close_shift(view, count, approval, dialog), "shift-approval")

    async def _close_shift(
        self, view: CountView, count: Count, approval: Approval | None, dialog: Dialog | None
    ) -> None:
        assert view.shift is not None
        try:
            report = await self.gateway.shifts.close_shift(
                view.shift.id, count=count, operator=self.operator(), approval=approval
            )
        except NotPermitted as exc:
            if dialog is None:
                view.needs_approval(str(exc))
            else:
                dialog.show_error(str(exc))
            return
        except PaygateError as exc:
            if dialog is not None:
                dialog.show_error(str(exc))
            else:
                view.refused(str(exc))
            return
        if dialog is not None:
            dialog.dismiss(None)
        self.nav.flow_to(ShiftReportScreen(self, report))

    # -- paid in / paid out ---------------------------------------------------------------
    def open_drawer_move(self) -> None:
        """m on the sale screen: cash paid into or out of the open shift's drawer."""
        if self.busy or self.user is None:
            return
        self._run(self._drawer_move(), SHIFT_START, name="drawer")

    async def _drawer_move(self) -> None:
        try:
            shift: Shift | None = await self._shift_now()
            report = await self.read(self.gateway.shifts.shift_report, shift.id) if shift else None
        except PaygateError as exc:
            self.app.notify(f"Cannot read the shift: {exc}", severity="error")
            return
        if shift is None or report is None:
            self.app.notify("No shift is open on this terminal: o opens one.", title="Drawer")
            return

        def chosen(move: tuple[Way, int, str] | None) -> None:
            if move is None:
                return
            kind, amount, reason = move
            what = f"{MOVE_WORDS[kind]} {format_money(Money(amount, shift.currency))}: {reason}"

            def approve(approval: Approval, dialog: Dialog) -> None:
                self._run(self._move(shift, kind, amount, reason, approval, dialog), "drawer")

            self.app.push_screen(ApprovalDialog(MOVE_WORDS[kind], what, approve))

        await self.app.push_screen(DrawerMoveDialog(shift, report.expected), chosen)

    async def _move(
        self, shift: Shift, kind: Way, amount: int, reason: str, approval: Approval, dialog: Dialog
    ) -> None:
        try:
            move = await self.gateway.shifts.move_cash(
                shift.id,
                kind=kind,
                amount=amount,
                reason=reason,
                operator=self.operator(),
                approval=approval,
            )
        except PaygateError as exc:
            dialog.show_error(str(exc))
            return
        dialog.dismiss(None)
        money = format_money(Money(move.amount, shift.currency))
        self.app.notify(f"{MOVE_WORDS[kind]} {money} (approved by {move.approver})", title="Drawer")

    def leave_shift(self) -> None:
        if not self.back_to_bill():
            self.nav.back_to_sale(lambda: None)
