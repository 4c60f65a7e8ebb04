"""The merchant console (F4): dashboard, transactions, settlement, audit and risk, in tabs.

A manager or admin opens it with their ID and PIN (`ConsoleApproval`, the manager
approval dialog). Everything it reads runs in thread workers (the arithmetic lives in
`gateway_core.dashboard` and `gateway_core.settlement`); what it changes (capture, void,
refund, closing the day, the export) runs in workers of the app. A day of 100,000
payments opens: the transaction table is filled a page (200 rows) at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import cast

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import DataTable, Input, Sparkline, TabbedContent, TabPane
from textual.worker import get_current_worker

from gateway_core.access import User
from gateway_core.dashboard import (
    PAGE_SIZE,
    SORTS,
    DayStats,
    Ledger,
    Record,
    audit_events,
    day_stats,
    filter_events,
    ledger_of,
    opening_hours,
    page,
    read_day,
)
from gateway_core.errors import PaygateError
from gateway_core.ports import Approval
from gateway_core.presentation import brand_name, money_text
from gateway_core.risk_models import Block
from gateway_core.settlement import DayReport, Reconciliation, parse_day
from gateway_core.settlement.text import format_reconciliation, format_report
from pos_app.screens.base import PosScreen, sentence, while_shown
from pos_app.screens.merchant_payment import PaymentScreen
from pos_app.screens.modals import ConfirmScreen, ManagerApprovalScreen
from pos_app.widgets.fields import Field
from pos_app.widgets.line import Line
from pos_app.widgets.table import MeasuredTable

TABS = ("dashboard", "transactions", "settlement", "audit", "risk")
AUDIT_SHOWN = 500  # newest matching audit events in the table
SEARCH_PAUSE = 0.25  # seconds of no typing before the transactions are searched


class ConsoleApproval(ManagerApprovalScreen):
    """The manager approval dialog, asking to open the merchant console."""

    def __init__(self) -> None:
        super().__init__(None)  # type: ignore[arg-type]

    def describe(self) -> tuple[str, str]:
        return (
            "Merchant console",
            "Sales, settlement and the audit log of the shop: a manager or admin signs in.",
        )

    def submit(self, approval: Approval) -> None:
        self.pos.approve_console(approval, self)


class ConsolePart:
    """A tab of the console: it reaches the app through its screen."""

    @property
    def console(self) -> MerchantScreen:
        """The console this tab is on."""
        return cast("MerchantScreen", self.screen)  # type: ignore[attr-defined]


def leave_filter_binding(name: str, table: str) -> Binding:
    """Esc in a tab's search or filter field: it clears the field, or (empty) goes to the
    tab's table (`merchant.<name>`). Esc elsewhere leaves the console, as before."""
    return Binding(
        "escape",
        f"leave_filter('{table}')",
        "Clear",
        id=f"merchant.{name}",
        tooltip=f"Clear the {name.replace('_', ' ')} typed; once empty, back to the table",
    )


class FilterKeys(ConsolePart):
    """A tab with filter fields (`Field`s) over a table: Esc stays in the tab."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_filter":  # only while a filter field has the focus
            focused = self.screen.focused  # type: ignore[attr-defined]
            return isinstance(focused, Field) and self in focused.ancestors  # type: ignore[operator]
        return True

    def action_leave_filter(self, table: str) -> None:
        field = cast(Field, self.screen.focused)  # type: ignore[attr-defined]
        if field.value:
            field.value = ""
            self.filter_cleared()
        else:
            self.query_one(table).focus()  # type: ignore[attr-defined]

    def filter_cleared(self) -> None:
        """A filter field was cleared: show what the filters select now."""


@dataclass
class DayData:
    """What a load of the day gives every tab."""

    day: date
    stats: DayStats
    ledger: Ledger
    report: DayReport  # the X report
    closing: DayReport | None  # the Z report, once the day is closed
    blocks: list[Block]


def card_text(record: Record) -> str:
    """The card of a payment record as the table shows it: last-4, then the brand (at
    80 columns the brand's tail is what the edge cuts)."""
    return f"••{record['card']['last4']} {brand_name(record['card']['brand'])}"


# ---------------------------------------------------------------------------- dashboard
class DashboardPane(ConsolePart, VerticalScroll):
    """Today at a glance."""

    hours: range = range(9, 22)

    def on_resize(self) -> None:
        self._axis()

    def _axis(self) -> None:
        """Hour labels under the chart, each under the start of its hour's bars."""
        width = self.query_one(Sparkline).content_size.width
        if width <= 0:
            return
        cells = [" "] * width
        for n, hour in enumerate(self.hours):
            col = -(-n * width // len(self.hours))  # where the chart starts the hour
            if col + 2 <= width and cells[max(col - 1, 0)] == " ":
                cells[col : col + 2] = f"{hour:02d}"
        self.query_one("#hour-axis", Line).update("".join(cells))

    def compose(self) -> ComposeResult:
        with Horizontal(id="figures"):
            for name in ("gross", "net", "count", "rate", "average"):
                yield Line("", id=f"fig-{name}", classes="figure")
        yield Line("", id="attempts")
        yield Line("Sales by hour", id="hour-caption", classes="caption")
        yield Sparkline([], id="by-hour", summary_function=max)
        yield Line("", id="hour-axis")
        with Horizontal(id="splits"):
            yield Line("", id="brand-split", classes="split")
            yield Line("", id="decline-split", classes="split")

    def show(self, data: DayData) -> None:
        s, f = data.stats, data.stats.figures
        cur = f.currency
        figures = {  # the X report's words for the X report's figures
            "gross": ("Gross sales", money_text(f.gross, cur)),
            "net": ("Net sales", money_text(f.net, cur)),
            "count": ("Sales", f"{f.sales:,}"),
            "rate": ("Approval rate", f.rate),
            "average": ("Average sale", money_text(f.average, cur)),
        }
        for name, (label, value) in figures.items():
            self.query_one(f"#fig-{name}", Line).update(
                Text.assemble((label, "dim"), "\n", (value, "bold"))
            )
        self.query_one("#attempts", Line).update(f.attempts)
        self.hours = hours = opening_hours(s.by_hour)
        self.query_one(Sparkline).data = [s.by_hour[h] for h in hours]
        best = max(hours, key=lambda h: s.by_hour[h])
        self.query_one("#hour-caption", Line).update(
            f"Sales by hour · busiest {best:02d}:00-{best + 1:02d}:00 "
            f"({money_text(s.by_hour[best], cur)})"
        )
        self._axis()
        brands = Table(
            box=None, expand=True, pad_edge=False, title="By brand", title_justify="left"
        )
        brands.add_column("Brand", no_wrap=True)
        brands.add_column("Sales", justify="right")
        brands.add_column("Amount", justify="right", no_wrap=True)
        brands.add_column("Share", ratio=1, no_wrap=True, overflow="crop")
        for brand, count, amount in s.brands:
            share = max(amount * 12 // f.gross, 1) if amount > 0 and f.gross else 0
            brands.add_row(brand_name(brand), str(count), money_text(amount, cur), "█" * share)
        if not s.brands:
            brands.add_row("no sales yet", "", "", "")
        declines = Table(
            box=None, expand=True, pad_edge=False, title="Declines", title_justify="left"
        )
        declines.add_column("Code", no_wrap=True)
        declines.add_column("N", justify="right")
        declines.add_column("Reason", ratio=1)
        for code, n, meaning in s.declines:
            declines.add_row(code, str(n), meaning)
        if not s.declines:
            declines.add_row("", "", "none today")
        self.query_one("#brand-split", Line).update(brands)
        self.query_one("#decline-split", Line).update(declines)


# ---------------------------------------------------------------------------- transactions
class TransactionsPane(FilterKeys, Vertical):
    """The day's payments: search, sort, a page at a time; Enter opens one."""

    BINDINGS = [
        leave_filter_binding("clear_search", "#txn-table"),
        Binding("slash", "search", "Search", id="merchant.search", tooltip="Search the day"),
        Binding(
            "s",
            "sort",
            "Sort",
            id="merchant.sort",
            tooltip="Sort by the next column (time, amount, status, brand, card)",
        ),
        Binding("o", "order", "Order", id="merchant.order", tooltip="Reverse the sort order"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ledger: Ledger | None = None
        self.rows: list[Record] = []  # the matching records, sorted
        self.shown = 0  # how many of them are in the table
        self.sort = "time"
        self.descending = True
        self._typing: Timer | None = None
        self.searched: str | None = None  # the search the table shows

    def compose(self) -> ComposeResult:
        yield Field(
            id="txn-search",
            placeholder="/ search: last-4, id, amount, status or brand",
            compact=True,
            max_length=60,
        )
        yield MeasuredTable(id="txn-table", cursor_type="row", zebra_stripes=True)
        yield Line("Loading…", id="txn-count")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key in (
            ("Time", "time"),
            ("Status", "status"),
            ("Amount", "amount"),
            ("Payment id", "id"),  # whole at 80 columns
            ("Card", "card"),
            ("Code", "code"),
            ("Terminal", "terminal"),
            ("By", "by"),
        ):
            table.add_column(label, key=key)

    def show(self, data: DayData) -> None:
        self.ledger = data.ledger
        self.select()

    def action_search(self) -> None:
        self.query_one("#txn-search", Field).focus()

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.select()

    def action_order(self) -> None:
        self.descending = not self.descending
        self.select()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Search once the typing pauses (a day of 100,000 takes a moment to search)."""
        event.stop()
        if self._typing is not None:
            self._typing.stop()
        self._typing = self.set_timer(SEARCH_PAUSE, self.select)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(DataTable).focus()

    @work(thread=True, exclusive=True, group="txn-select", exit_on_error=False)
    def select(self) -> None:
        """Search and sort the day in a thread; the table gets the first page."""
        ledger = self.ledger
        if ledger is None:
            return
        query = self.query_one("#txn-search", Field).value
        rows = ledger.select(query, self.sort, self.descending)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._fill, rows, query)

    @while_shown
    def _fill(self, rows: list[Record], query: str) -> None:
        self.rows, self.shown, self.searched = rows, 0, query
        table = self.query_one(DataTable)
        table.clear()
        self._more()

    def _more(self) -> None:
        """Add the next page of rows to the table."""
        ledger = self.ledger
        if ledger is None:
            return
        table = self.query_one(DataTable)
        tz = self.console.pos.settings.tz
        batch = page(self.rows, self.shown // PAGE_SIZE)
        table.add_rows(
            (
                _time(r["created_at"], tz),
                ledger.word(r),
                money_text(r["amount"], r["currency"]),
                r["id"],
                card_text(r),
                r.get("response_code") or "--",
                r.get("terminal_id") or "",
                r.get("operator") or "",
            )
            for r in batch
        )
        self.shown += len(batch)
        self._count()

    def _count(self) -> None:
        total = len(self.ledger.records) if self.ledger else 0
        arrow = "↓" if self.descending else "↑"
        if not self.rows:
            what = "No payments match." if total else "No payments yet today."
        else:
            what = f"{self.shown:,} of {len(self.rows):,} shown"
            if len(self.rows) != total:
                what += f" (matching, of {total:,})"
        self.query_one("#txn-count", Line).update(
            f"{what} · sorted by {self.sort} {arrow} · Enter: details · s: sort · o: order"
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.cursor_row >= self.shown - 1 and self.shown < len(self.rows):
            self._more()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < self.shown:
            self.console.open_payment(self.rows[event.cursor_row]["id"])


def _time(iso: str, tz: tzinfo | None) -> str:
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%H:%M:%S")


def _when(stamp: object, tz: tzinfo | None) -> datetime | None:
    """An audit event's time in the merchant's timezone (None when it is garbled)."""
    try:
        return datetime.fromisoformat(stamp).astimezone(tz) if isinstance(stamp, str) else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------- settlement
class SettlementPane(ConsolePart, Vertical):
    """The X report live; close the day; reconcile; export."""

    BINDINGS = [
        Binding("z", "close_day", "Close day", id="merchant.close", tooltip="Z report: close"),
        Binding(
            "r",
            "reconcile",
            "Reconcile",
            id="merchant.reconcile",
            tooltip="The day against the acquirer's clearing file",
        ),
        Binding("e", "export", "Export", id="merchant.export", tooltip="The day as a CSV file"),
    ]
    report: DayReport | None = None  # the report shown (the X, or the Z of a closed day)

    def compose(self) -> ComposeResult:
        yield Line("Loading…", id="settle-summary")
        yield Line("", id="settle-note")
        with ScrollableContainer(id="settle-report"):
            yield Line("", id="report-text")
            yield Line("", id="recon-text")

    def show(self, data: DayData) -> None:
        report = data.report
        payouts = " · ".join(
            f"payout {money_text(p.amount, p.currency)} on {p.date:%a %d %b} (ref {p.reference})"
            for p in report.payouts
        )
        fees = " · ".join(
            f"fees {money_text(t.fees, t.currency)} + GST {money_text(t.gst, t.currency)}"
            for t in report.totals
        )
        state = f"closed: Z report {report.closed_as}" if report.closed_as else "open"
        self.query_one("#settle-summary", Line).update(
            f"Business day {report.day:%a %Y-%m-%d} ({state}) · {fees or 'no fees'} · "
            f"{payouts or 'no payout'}"
        )
        self.report = data.closing or report  # a closed day: its Z report as it was taken
        self.show_report(self.report)

    def show_report(self, report: DayReport) -> None:
        """The report, its tables as wide as the tab (two tables where one does not fit)."""
        width = self.screen.size.width - 4  # the tab's padding and the scroll bar
        lines = format_report(report, self.console.pos.settings, width)
        self.query_one("#report-text", Line).update("\n".join(lines))

    def on_resize(self) -> None:
        if self.report is not None:
            self.show_report(self.report)

    def note(self, text: str, tone: str = "") -> None:
        line = self.query_one("#settle-note", Line)
        line.set_class(tone == "error", "-error")
        line.set_class(tone == "ok", "-ok")
        line.update(sentence(text))

    def action_close_day(self) -> None:
        self.console.preview_close()

    def action_reconcile(self) -> None:
        self.note("Asking the acquirer for its clearing file…")
        self.console.pos.reconcile_day(self, self.console.day)

    def action_export(self) -> None:
        self.note("Exporting…")
        self.console.pos.export_day(self, self.console.day)

    @while_shown
    def show_reconciliation(self, rec: Reconciliation) -> None:
        text = self.query_one("#recon-text", Line)
        text.set_class(not rec.ok, "-breaks")
        text.update("\n" + "\n".join(format_reconciliation(rec)))
        if rec.ok:
            self.note("Reconciled: no breaks", "ok")
        else:
            self.note(f"{rec.breaks} reconciliation break(s): see below the report", "error")


# ---------------------------------------------------------------------------- audit
class AuditPane(FilterKeys, Vertical):
    """The audit log, filtered; the chain verified, the first broken event marked."""

    BINDINGS = [
        leave_filter_binding("clear_filter", "#audit-table"),
        Binding(
            "v",
            "verify",
            "Verify",
            id="merchant.verify",
            tooltip="Check the audit chain (MACs and order) from the first event",
        ),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bad_seq: int | None = None
        self.events: list[Record] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="audit-filters"):
            yield Field(id="audit-actor", placeholder="actor", compact=True, max_length=32)
            yield Field(id="audit-action", placeholder="action", compact=True, max_length=32)
            yield Field(
                id="audit-date",
                placeholder="YYYY-MM-DD",
                compact=True,
                max_length=10,
                restrict=r"[0-9-]*",
            )
        yield MeasuredTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Line("v: verify the chain · filters: Enter", id="audit-verdict")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label in ("Seq", "Time", "Actor", "Action", "Subject"):
            table.add_column(label, key=label.lower())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.load()

    def filter_cleared(self) -> None:
        self.load()

    def filters(self) -> tuple[str, str, date | None]:
        """The actor, action and day typed (a malformed day raises InputError)."""
        typed = self.query_one("#audit-date", Field).value.strip()
        return (
            self.query_one("#audit-actor", Field).value,
            self.query_one("#audit-action", Field).value,
            parse_day(typed) if typed else None,
        )

    @work(thread=True, exclusive=True, group="audit", exit_on_error=False)
    def load(self, verify: bool = False) -> None:
        """Read (and, with `verify`, check) the log in a thread."""
        rt = self.console.pos.rt
        try:
            actor, action, day = self.filters()
        except PaygateError as exc:
            self.app.call_from_thread(self.verdict, str(exc), "error")
            return
        events = audit_events(rt.store)
        found = filter_events(events, actor=actor, action=action, day=day, tz=rt.settings.tz)
        found.reverse()  # newest first
        shown = found[:AUDIT_SHOWN]
        more = f" (newest {len(shown)} shown)" if len(found) > len(shown) else ""
        verdict, tone = f"{len(found):,} events{more} · v: verify the chain", ""
        if verify:
            checked = rt.audit.verify()
            self.bad_seq = checked.bad_seq
            verdict, tone = str(checked), "ok" if checked.ok else "error"
        broken = next((e for e in events if e.get("seq") == self.bad_seq), None)
        if broken is not None and broken not in shown:
            shown.insert(0, broken)
        if not get_current_worker().is_cancelled:  # a newer load (or check) took over
            self.app.call_from_thread(self._fill, shown)
            self.app.call_from_thread(self.verdict, verdict, tone)

    @while_shown
    def _fill(self, events: list[Record]) -> None:
        """The events, newest first, under a row giving their date in the Time column:
        the log (filtered or not) spans days, and a column of dates beside the times
        would not fit 80 columns with whole payment ids."""
        self.events = events
        table = self.query_one(DataTable)
        table.clear()
        tz = self.console.pos.settings.tz
        broken_row, day = None, None
        for e in events:
            when = _when(e.get("time"), tz)
            if when is not None and when.date() != day:
                day = when.date()
                date = (f"{day:%d %b}", "", f"── {day:%A %Y-%m-%d}", "")
                table.add_row("", *(Text(cell, style="bold") for cell in date))
            cells = [
                str(e.get("seq", "?")),
                "?" if when is None else f"{when:%H:%M:%S}",
                str(e.get("actor", "")),
                str(e.get("action", "")),
                str(e.get("subject", "")),
            ]
            if self.bad_seq is not None and e.get("seq") == self.bad_seq:
                broken_row = table.row_count
                cells[0] = f"⚠ {cells[0]}"
                table.add_row(*(Text(c, style="bold reverse") for c in cells))
            else:  # as recorded: a subject like "[/]" is text, not markup
                table.add_row(*(Text(c) for c in cells))
        if broken_row is not None:  # once the table has its rows and its size
            table.call_after_refresh(table.move_cursor, row=broken_row)

    @while_shown
    def verdict(self, text: str, tone: str) -> None:
        line = self.query_one("#audit-verdict", Line)
        line.set_class(tone == "error", "-error")
        line.set_class(tone == "ok", "-ok")
        line.update(sentence(text))

    def action_verify(self) -> None:
        self.verdict("Verifying the audit chain…", "")
        self.load(verify=True)


# ---------------------------------------------------------------------------- risk
class RiskPane(ConsolePart, VerticalScroll):
    """Blocks in force and the rules that fired today."""

    def compose(self) -> ComposeResult:
        yield Line("", id="risk-blocks")
        yield Line("", id="risk-rules")

    def show(self, data: DayData) -> None:
        tz = self.console.pos.settings.tz
        blocks = Table(
            box=None, expand=True, pad_edge=False, title="Blocked now", title_justify="left"
        )
        for column in ("Scope", "What", "Until", "Rule", "Why"):
            blocks.add_column(column, no_wrap=column != "Why", ratio=1 if column == "Why" else None)
        for b in data.blocks:
            what = b.key if b.scope == "terminal" else f"card {b.key[:12]}…"
            until = b.until.astimezone(tz).strftime("%d %b %H:%M")
            blocks.add_row(b.scope, what, until, b.rule, b.reason)
        if not data.blocks:
            blocks.add_row("", "nothing is blocked now", "", "", "")
        rules = Table(
            box=None, expand=True, pad_edge=False, title="Rules fired today", title_justify="left"
        )
        rules.add_column("Rule", no_wrap=True)
        rules.add_column("Payments", justify="right")
        for rule, n in data.stats.rules:
            rules.add_row(rule, f"{n:,}")
        if not data.stats.rules:
            rules.add_row("no rule fired today", "")
        self.query_one("#risk-blocks", Line).update(blocks)
        self.query_one("#risk-rules", Line).update(rules)


# ---------------------------------------------------------------------------- the screen
class MerchantScreen(PosScreen):
    """The merchant console, opened by a manager or admin."""

    TITLE_TEXT = "Merchant"
    BINDINGS = [
        Binding("escape", "back", "Back", id="merchant.back", tooltip="Back to the terminal"),
        Binding("f5", "reload", "Refresh", id="merchant.refresh", tooltip="Read the day again"),
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

    def __init__(self, manager: User) -> None:
        super().__init__()
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
        self.day = self.pos.now().date()
        self.query_one(DashboardPane).focus()  # the day is read on resume, shown first too

    def action_tab(self, name: str) -> None:
        self.query_one(TabbedContent).active = name
        self._focus_tab(name)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "audit" and not self.query_one(AuditPane).events:
            self.query_one(AuditPane).load()

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

    @work(thread=True, exclusive=True, group="merchant-day", exit_on_error=False)
    def load(self) -> None:
        """Read the day and add it up, in a thread; every tab gets the result."""
        rt = self.pos.rt
        settings = rt.settings
        settlement = self.pos.settlement()
        payments, refunds = read_day(rt.store, settlement, self.day)
        report = settlement.report_of(self.day, payments, refunds)
        stats = day_stats(report, payments, settings)
        ledger = ledger_of(self.day, payments, refunds, settings.currency)
        closing = settlement.closing(self.day)
        data = DayData(self.day, stats, ledger, report, closing, rt.gateway.risk.blocks())
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show, data)

    @while_shown
    def show(self, data: DayData) -> None:
        self.data = data
        self.query_one(DashboardPane).show(data)
        self.query_one(TransactionsPane).show(data)
        self.query_one(SettlementPane).show(data)
        self.query_one(RiskPane).show(data)

    def on_screen_resume(self) -> None:
        self.action_reload()

    def open_payment(self, payment_id: str) -> None:
        """The detail view of one payment, with its timeline and actions."""
        self.app.push_screen(PaymentScreen(payment_id, self.manager))

    # -- closing the day ------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="z-preview", exit_on_error=False)
    def preview_close(self) -> None:
        """The Z report closing would take, then the question."""
        settlement = self.pos.settlement()
        pane = self.query_one(SettlementPane)
        try:
            z = settlement.z_preview(self.day)
        except PaygateError as exc:  # DayNotReady: payments still open, or nothing to close
            self.app.call_from_thread(pane.note, str(exc), "error")
            return
        self.app.call_from_thread(self._ask_close, z)

    @while_shown
    def _ask_close(self, z: DayReport) -> None:
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

        def answered(yes: bool | None) -> None:
            if yes:
                pane.note("Closing the day…")
                self.pos.close_day(self, self.day, self.manager.id)
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

    def action_back(self) -> None:
        self.dismiss()
