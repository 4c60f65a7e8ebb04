"""The console's audit tab: the audit log filtered; the chain verified, the first broken
event marked."""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input
from textual.worker import get_current_worker

from gateway_core.dashboard import Record, filter_events
from gateway_core.errors import PaygateError
from gateway_core.settlement import parse_day
from pos_app.screens.base import sentence, while_shown
from pos_app.screens.merchant_parts import FilterKeys, event_time, leave_filter_binding
from pos_app.widgets.fields import Field
from pos_app.widgets.line import Line
from pos_app.widgets.table import MeasuredTable

AUDIT_SHOWN = 500  # newest matching audit events in the table


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
        office = self.console.office
        try:
            actor, action, day = self.filters()
        except PaygateError as exc:
            self.app.call_from_thread(self.verdict, str(exc), "error")
            return
        events = office.audit_events()
        found = filter_events(events, actor=actor, action=action, day=day, tz=office.settings.tz)
        found.reverse()  # newest first
        shown = found[:AUDIT_SHOWN]
        more = f" (newest {len(shown)} shown)" if len(found) > len(shown) else ""
        verdict, tone = f"{len(found):,} events{more} · v: verify the chain", ""
        if verify:
            checked = office.verify_audit()
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
        tz = self.console.office.settings.tz
        broken_row, day = None, None
        for e in events:
            when = event_time(e.get("time"), tz)
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
