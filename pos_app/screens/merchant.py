"""The merchant console (F4): dashboard, transactions, settlement, audit and risk, in tabs
(one module each: merchant_dashboard, merchant_transactions, merchant_settlement,
merchant_audit, merchant_risk).

A manager or admin opens it with their ID and PIN (`ConsoleApproval`, the manager
approval dialog). Everything it reads runs in thread workers over the back office
(pos_app.back_office: the arithmetic lives in `gateway_core.dashboard` and
`gateway_core.settlement`); what it changes (capture, void, refund, closing the day, the
export) runs in workers of the app.
"""

from __future__ import annotations

from datetime import date

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import TabbedContent, TabPane
from textual.worker import get_current_worker

from gateway_core.access import User
from gateway_core.errors import PaygateError
from gateway_core.presentation import money_text
from gateway_core.settlement import DayReport
from pos_app.screens.base import PosScreen, while_shown
from pos_app.screens.health import HealthScreen
from pos_app.screens.hosts import BackOffice, DayData
from pos_app.screens.merchant_audit import AuditPane
from pos_app.screens.merchant_dashboard import DashboardPane
from pos_app.screens.merchant_payment import PaymentScreen
from pos_app.screens.merchant_risk import RiskPane
from pos_app.screens.merchant_settlement import SettlementPane
from pos_app.screens.merchant_transactions import TransactionsPane
from pos_app.screens.modals import ConfirmScreen, ManagerApprovalScreen

TABS = ("dashboard", "transactions", "settlement", "audit", "risk")


class ConsoleApproval(ManagerApprovalScreen):
    """The manager approval dialog, asking to open the merchant console."""

    def __init__(self, office: BackOffice) -> None:
        super().__init__(None, office.approve_console)  # type: ignore[arg-type]  # no payment

    def describe(self) -> tuple[str, str]:
        return (
            "Merchant console",
            "Sales, settlement and the audit log of the shop: a manager or admin signs in.",
        )


class MerchantScreen(PosScreen):
    """The merchant console, opened by a manager or admin."""

    TITLE_TEXT = "Merchant"
    BINDINGS = [
        Binding("escape", "back", "Back", id="merchant.back", tooltip="Back to the terminal"),
        Binding("f5", "reload", "Refresh", id="merchant.refresh", tooltip="Read the day again"),
        Binding(
            "h",
            "health",
            "Health",
            show=False,
            id="merchant.health",
            tooltip="Live rates, approval per issuer, hop latencies",
        ),
        *(
            Binding(
                str(n),
                f"tab('{name}')",
                name.title(),
                show=False,
                id=f"merchant.{name}",
                tooltip=f"The {name} tab",
            )
            for n, name in enumerate(TABS, 1)
        ),
    ]

    def __init__(self, office: BackOffice, manager: User) -> None:
        super().__init__()
        self.office = office
        self.manager = manager
        self.day = date.min  # today's business day, from the app's clock once mounted
        self.data: DayData | None = None

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="merchant", initial="dashboard"):
            with TabPane("1 Dashboard", id="dashboard"):
                yield DashboardPane(id="dash")
            with TabPane("2 Transactions", id="transactions"):
                yield TransactionsPane(id="txns")
            with TabPane("3 Settlement", id="settlement"):
                yield SettlementPane(id="settle")
            with TabPane("4 Audit", id="audit"):
                yield AuditPane(id="audit-pane")
            with TabPane("5 Risk", id="risk"):
                yield RiskPane(id="risk-pane")

    @while_shown
    def on_mount(self) -> None:
        self.day = self.office.now().date()
        self.query_one(DashboardPane).focus()  # the day is read on resume, shown first too

    def action_tab(self, name: str) -> None:
        self.query_one(TabbedContent).active = name
        self._focus_tab(name)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "audit" and not self.query_one(AuditPane).events:
            self.query_one(AuditPane).load()
        if event.pane.id == "transactions":
            self.query_one(TransactionsPane).revealed()

    def _focus_tab(self, name: str) -> None:
        target = {
            "dashboard": "#dash",
            "transactions": "#txn-table",
            "settlement": "#settle-report",
            "audit": "#audit-table",
            "risk": "#risk-pane",
        }[name]
        self.query_one(target).focus()

    def action_reload(self) -> None:
        self.load()

    def action_health(self) -> None:
        self.app.push_screen(HealthScreen(self.office))

    @work(thread=True, exclusive=True, group="merchant-day", exit_on_error=False)
    def load(self) -> None:
        """Read the day and add it up, in a thread; every tab gets the result."""
        data = self.office.day_data(self.day)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show, data)

    @while_shown
    def show(self, data: DayData) -> None:
        self.data = data
        self.query_one(DashboardPane).show(data)
        shown = self.query_one(TabbedContent).active == "transactions"
        self.query_one(TransactionsPane).show(data, shown=shown)
        self.query_one(SettlementPane).show(data)
        self.query_one(RiskPane).show(data)

    def on_screen_resume(self) -> None:
        self.action_reload()

    def open_payment(self, payment_id: str) -> None:
        """The detail view of one payment, with its timeline and actions."""
        self.app.push_screen(PaymentScreen(self.office, payment_id, self.manager))

    # -- closing the day ------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="z-preview", exit_on_error=False)
    def preview_close(self) -> None:
        """The Z report closing would take, then the question."""
        settlement = self.office.settlement()
        pane = self.query_one(SettlementPane)
        try:
            z = settlement.z_preview(self.day)
            still_open = self.office.still_open_shifts(self.day)
        except PaygateError as exc:  # DayNotReady: payments still open, or nothing to close
            self.app.call_from_thread(pane.note, str(exc), "error")
            return
        self.app.call_from_thread(self._ask_close, z, still_open)

    @while_shown
    def _ask_close(self, z: DayReport, still_open: list[str]) -> None:
        pane = self.query_one(SettlementPane)
        if z.closed_at is not None:
            pane.note(f"Business day {z.day} is already closed (Z report {z.number})", "error")
            return
        pane.show_report(z)
        payout = " and ".join(
            f"{money_text(p.amount, p.currency)} on {p.date:%a %d %b}" for p in z.payouts
        )
        question = (
            f"Close business day {z.day:%a %Y-%m-%d} with Z report {z.number}? Payout "
            f"{payout or 'none'}. After this nothing can change the day."
        )
        if still_open:
            question += (
                f" Shifts still open ({'; '.join(still_open)}) are closed by you, not "
                "counted: their over / short stays unknown."
            )

        def answered(yes: bool | None) -> None:
            if yes:
                pane.note("Closing the day…")
                shifts = bool(still_open)
                self.office.close_day(self, self.day, self.manager.id, close_shifts=shifts)
            else:
                pane.note("The day stays open")
                self.action_reload()

        self.app.push_screen(
            ConfirmScreen("Close the day (Z report)", question, yes="Close"), answered
        )

    @while_shown
    def day_closed(self, z: DayReport) -> None:
        """After the Z: the day read again (the Z report then shows)."""
        self.query_one(SettlementPane).note(
            f"Business day {z.day} closed: Z report {z.number}", "ok"
        )
        self.action_reload()

    @while_shown
    def close_failed(self, text: str) -> None:
        """The Z report was refused: why, under the report."""
        self.query_one(SettlementPane).note(text, "error")

    def action_back(self) -> None:
        self.dismiss()
