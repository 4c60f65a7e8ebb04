"""The day's shift reports: read from the shifts (`ShiftsAPI`) for reconcile, the CLI's
`paygate report shifts` and the console, and as the console's Settlement tab lists them."""

from __future__ import annotations

from datetime import date, tzinfo
from typing import Protocol

from gateway_core.presentation import money_text, stamp_text
from gateway_core.shift_models import Shift, ShiftReport


class ShiftReader(Protocol):
    """What reading the day's shifts needs (`ShiftsAPI`'s reads)."""

    def shifts(self, day: date | None = None) -> list[Shift]: ...

    def shift_report(self, shift_id: str, /) -> ShiftReport: ...


def shift_reports(source: ShiftReader, day: date) -> list[ShiftReport]:
    """The reports of the shifts opened on `day` and of those still open, oldest first."""
    return [source.shift_report(shift.id) for shift in source.shifts(day)]


def count_text(shift: Shift) -> str:
    """How the drawer's count stands: balanced, short, over, or not counted (yet)."""
    c = shift.currency
    if shift.status == "open":
        return f"expected {money_text(shift.expected, c)} so far; open, not counted yet"
    if shift.counted is None:
        by = f" (approved by {shift.approved_by})" if shift.approved_by else ""
        return f"expected {money_text(shift.expected, c)}; closed not counted{by}"
    diff = shift.over_short or 0
    word = "balanced" if diff == 0 else "short" if diff < 0 else "over"
    shown = f" {money_text(abs(diff), c)}" if diff else ""
    approved = f" (approved by {shift.approved_by})" if shift.approved_by else ""
    return (
        f"expected {money_text(shift.expected, c)}, counted {money_text(shift.counted, c)}: "
        f"{word}{shown}{approved}"
    )


def format_shift(report: ShiftReport, tz: tzinfo | None) -> list[str]:
    """One shift's report: who, when, the drawer line by line, and its count."""
    s, c = report.shift, report.shift.currency
    closed = ""
    if s.closed_at is not None:
        closed = f", closed {stamp_text(s.closed_at, tz, seconds=False)} by {s.closed_by}"
    rounding = f" (rounding {money_text(report.rounding, c)})" if report.rounding else ""
    return [
        f"SHIFT {s.id}  {s.terminal_id}  {s.cashier}  {s.status}",
        f"  opened {stamp_text(s.opened_at, tz, seconds=False)}{closed}",
        f"  float {money_text(s.float_amount, c)}",
        f"  cash sales {report.sales_count}  {money_text(report.sales, c)}{rounding}",
        f"  cash refunds {report.refunds_count}  {money_text(report.refunds, c)}",
        f"  paid in {money_text(report.paid_in, c)}  paid out {money_text(report.paid_out, c)}",
        f"  {count_text(s)}",
    ]


def format_shifts(reports: list[ShiftReport], day: date, tz: tzinfo | None) -> list[str]:
    """The day's shift reports, one after another (a line when there are none)."""
    if not reports:
        return [f"no shifts on {day}"]
    lines = [f"SHIFTS business day {day:%a %Y-%m-%d}: {len(reports)}"]
    for report in reports:
        lines += ["", *format_shift(report, tz)]
    return lines
