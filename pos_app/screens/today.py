"""Today on this terminal: the day's payments, newest first, and the receipt of any."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable

from gateway_core.money import Money
from gateway_core.payments import Payment
from gateway_core.presentation import brand_name, format_money, time_text
from pos_app.screens.base import PosScreen, while_shown
from pos_app.screens.hosts import SaleDesk
from pos_app.screens.receipt import paid_with
from pos_app.widgets.line import Line
from pos_app.widgets.table import MeasuredTable

PAYMENT_ID_WIDTH = len("pay_YYYYMMDD_") + 10  # whole, whatever the table has measured


class TodayScreen(PosScreen):
    """The payments of today's business day taken on this terminal."""

    TITLE_TEXT = "Today"
    BINDINGS = [
        Binding("enter", "open", "Receipt", id="today.open", tooltip="Show the payment's receipt"),
        Binding(
            "c",
            "capture",
            "Capture",
            id="today.capture",
            tooltip="Capture a pre-authorization (the whole amount)",
        ),
        Binding(
            "i",
            "inspect",
            "Frames",
            id="today.inspect",
            tooltip="The ISO 8583 frames of this payment",
        ),
        Binding("r", "reload", "Refresh", id="today.refresh", tooltip="Read the list again"),
        Binding("escape", "back", "Back", id="today.back", tooltip="Back to the sale"),
    ]

    def __init__(self, desk: SaleDesk) -> None:
        super().__init__()
        self.desk = desk
        self.payments: list[Payment] = []

    def compose_body(self) -> ComposeResult:
        with Vertical(id="today", classes="panel") as panel:
            panel.border_title = f"Today on {self.desk.settings.terminal_id}"
            yield MeasuredTable(id="today-table", cursor_type="row", zebra_stripes=True)
            yield Line("Loading…", id="today-summary")

    @while_shown
    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # The whole payment id fits at 80 columns: the response code goes with the
        # status ("declined 51"), the cashier last.
        table.add_column("Time", key="time")
        table.add_column("Status", key="status")
        table.add_column("Amount", key="amount")
        table.add_column("Card", key="card")
        table.add_column("Payment id", key="id", width=PAYMENT_ID_WIDTH)
        table.add_column("By", key="by")
        table.focus()
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.desk.load_today(self)

    @while_shown
    def show_payments(self, payments: list[Payment]) -> None:
        terminal = self.desk.settings.terminal_id
        mine = [p for p in payments if p.terminal_id == terminal]
        mine.sort(key=lambda p: (p.created_at, p.id), reverse=True)
        self.payments = mine
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        tz = self.desk.settings.tz
        for p in mine:
            status = p.status_word
            if p.status == "declined" and p.response_code:
                status += f" {p.response_code}"
            table.add_row(
                time_text(p.created_at, tz, seconds=False),
                status,
                format_money(p.money),
                f"{brand_name(p.card.brand)} ••{p.card.last4}" if p.card else paid_with(p),
                p.id,
                p.operator,
                key=p.id,
            )
        if mine:
            table.move_cursor(row=min(keep, len(mine) - 1))
        # DataTable sizes its columns to the new rows when it next goes idle: rows that
        # come while it has nothing else to do would stay cut to the headers' width.
        table.check_idle()
        self.query_one("#today-summary", Line).update(self._summary(mine))

    def _summary(self, payments: list[Payment]) -> str:
        if not payments:
            return "No payments yet today on this terminal."
        currency = self.desk.settings.currency
        taken = [p for p in payments if p.status == "succeeded" and p.currency == currency]
        net = sum(p.amount_captured - p.amount_refunded for p in taken)
        declined = sum(1 for p in payments if p.status == "declined")
        count = "1 payment" if len(payments) == 1 else f"{len(payments)} payments"
        return (
            f"{count} · {len(taken)} approved, net {format_money(Money(net, currency))} · "
            f"{declined} declined · Enter: receipt"
        )

    @while_shown
    def selected(self) -> Payment | None:
        table = self.query_one(DataTable)
        if not self.payments or table.cursor_row < 0:
            return None
        return self.payments[min(table.cursor_row, len(self.payments) - 1)]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        payment = self.selected()
        if payment is not None:
            self.desk.open_payment(payment)

    def action_capture(self) -> None:
        payment = self.selected()
        if payment is None:
            return
        if payment.status != "requires_capture":
            self.notify("Only a pre-authorization can be captured.", severity="warning")
            return
        self.desk.capture_payment(payment, self)

    def action_inspect(self) -> None:
        payment = self.selected()
        if payment is not None:
            self.desk.open_inspector(payment.id)

    def action_back(self) -> None:
        self.dismiss()
