"""The console's settlement tab: the X report live (a line per tender) and the day's
shift reports; close the day (Z), reconcile (each tender against its other side),
export."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer, Vertical

from gateway_core.presentation import money_text
from gateway_core.settlement import (
    DayReport,
    Reconciliation,
    format_reconciliation,
    format_report,
)
from gateway_core.settlement.shift_reports import format_shifts
from gateway_core.shift_models import ShiftReport
from pos_app.screens.base import sentence, while_shown
from pos_app.screens.hosts import DayData
from pos_app.screens.merchant_parts import ConsolePart
from pos_app.widgets.line import Line


class SettlementPane(ConsolePart, Vertical):
    """The X report live; close the day; reconcile; export."""

    BINDINGS = [
        Binding("z", "close_day", "Close day", id="merchant.close", tooltip="Z report: close"),
        Binding(
            "r",
            "reconcile",
            "Reconcile",
            id="merchant.reconcile",
            tooltip="The day against the acquirer's, the switch's and the banks' files, and "
            "the drawers",
        ),
        Binding("e", "export", "Export", id="merchant.export", tooltip="The day as a CSV file"),
    ]
    report: DayReport | None = None  # the report shown (the X, or the Z of a closed day)
    shifts: list[ShiftReport] = []  # the day's shift reports, shown under it

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
        self.shifts = data.stats.shifts
        self.show_report(self.report)

    def show_report(self, report: DayReport) -> None:
        """The report, its tables as wide as the tab (two tables where one does not fit),
        then the day's shifts (when there were any)."""
        width = self.screen.size.width - 4  # the tab's padding and the scroll bar
        settings = self.console.office.settings
        lines = format_report(report, settings, width)
        if self.shifts:
            lines += ["", *format_shifts(self.shifts, report.day, settings.tz)]
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
        self.note("Asking the acquirer, the switch and the banks for their files…")
        self.console.office.reconcile_day(self, self.console.day)

    def action_export(self) -> None:
        self.note("Exporting…")
        self.console.office.export_day(self, self.console.day)

    @while_shown
    def show_reconciliation(self, rec: Reconciliation) -> None:
        text = self.query_one("#recon-text", Line)
        text.set_class(not rec.ok, "-breaks")
        text.update("\n" + "\n".join(format_reconciliation(rec)))
        if rec.ok:
            self.note("Reconciled: no breaks", "ok")
        else:
            self.note(f"{rec.breaks} reconciliation break(s): see below the report", "error")
