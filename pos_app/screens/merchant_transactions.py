"""The console's transactions tab: the day's payments a page (200 rows) at a time, newest
first, read from the store a page at a time as the cursor reaches the end (a day of
100,000 payments opens at once); a search or another order reads the whole day once
(in a thread), then pages through what matches."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import DataTable, Input
from textual.worker import get_current_worker

from gateway_core.dashboard import PAGE_SIZE, SORTS, Record, page, record_word
from gateway_core.presentation import money_text
from pos_app.screens.base import while_shown
from pos_app.screens.hosts import DayData
from pos_app.screens.merchant_parts import (
    FilterKeys,
    card_text,
    clock_time,
    leave_filter_binding,
)
from pos_app.widgets.fields import Field
from pos_app.widgets.line import Line
from pos_app.widgets.table import MeasuredTable

SEARCH_PAUSE = 0.25  # seconds of no typing before the transactions are searched


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
        self.data: DayData | None = None
        self.rows: list[Record] = []  # the matching records, sorted (read so far, paging)
        self.matching = 0  # how many records match (the day's count, paging)
        self.paging = False  # newest first, no search: pages come from the store
        self.shown = 0  # how many of them are in the table
        self.sort = "time"
        self.descending = True
        self._typing: Timer | None = None
        self.searched: str | None = None  # the search the table shows
        self.stale = False  # the day was loaded since the table was filled

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

    def show(self, data: DayData, *, shown: bool) -> None:
        """The day, loaded: its rows are read now if the tab is `shown`, else when it is."""
        self.data = data
        self.stale = True
        if shown:
            self.select()

    def revealed(self) -> None:
        """The tab is shown: read the rows if the day changed since."""
        if self.stale:
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
        """The table's first page: the day's newest payments as loaded; for a search or
        another order, the whole day read once (in this thread), searched and sorted."""
        data = self.data
        if data is None:
            return
        self.stale = False
        query = self.query_one("#txn-search", Field).value
        if not query and self.sort == "time" and self.descending:
            if data.first is None:
                data.first = self.console.office.page(data.day, None)
            rows, matching, paging = list(data.first), data.payments, True
        else:
            if data.ledger is None:
                data.ledger = self.console.office.ledger(data.day)
            rows = data.ledger.select(query, self.sort, self.descending)
            matching, paging = len(rows), False
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._fill, rows, query, matching, paging)

    @while_shown
    def _fill(self, rows: list[Record], query: str, matching: int, paging: bool) -> None:
        self.rows, self.shown, self.searched = rows, 0, query
        self.matching, self.paging = matching, paging
        table = self.query_one(DataTable)
        table.clear()
        self._more()

    def _more(self) -> None:
        """Add the next page of rows to the table (paging: read it first, when the rows
        read so far are all shown)."""
        data = self.data
        if data is None:
            return
        if self.paging and self.shown == len(self.rows) and self.shown < self.matching:
            last = self.rows[-1]
            self._next_page(data, (last["created_at"], last["id"]))
            return
        table = self.query_one(DataTable)
        tz = self.console.office.settings.tz
        batch = page(self.rows, self.shown // PAGE_SIZE)
        table.add_rows(
            (
                clock_time(r["created_at"], tz),
                record_word(r, data.refunded.get(r["id"], 0)),
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

    @work(thread=True, exclusive=True, group="txn-page", exit_on_error=False)
    def _next_page(self, data: DayData, cursor: tuple[str, str]) -> None:
        """Read the page after `cursor` from the store, in a thread."""
        batch = self.console.office.page(data.day, cursor)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._paged, data, cursor, batch)

    @while_shown
    def _paged(self, data: DayData, cursor: tuple[str, str], batch: list[Record]) -> None:
        last = self.rows[-1] if self.rows else None
        if not self.paging or data is not self.data or last is None:
            return  # the day was read again, or a search began: this page is not wanted
        if (last["created_at"], last["id"]) != cursor or not batch:
            return
        self.rows.extend(batch)
        self._more()

    def _count(self) -> None:
        total = self.data.payments if self.data else 0
        arrow = "↓" if self.descending else "↑"
        if not self.matching:
            what = "No payments match." if total else "No payments yet today."
        else:
            what = f"{self.shown:,} of {self.matching:,} shown"
            if self.matching != total:
                what += f" (matching, of {total:,})"
        self.query_one("#txn-count", Line).update(
            f"{what} · sorted by {self.sort} {arrow} · Enter: details · s: sort · o: order"
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.cursor_row >= self.shown - 1 and self.shown < self.matching:
            self._more()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < self.shown:
            self.console.open_payment(self.rows[event.cursor_row]["id"])
