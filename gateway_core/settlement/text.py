"""The plain-text forms of a day's report and of a reconciliation, as the CLI prints them
and the merchant console shows them (words from `gateway_core.presentation`)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from gateway_core.payments import reason_for
from gateway_core.presentation import brand_name, method_name, money_text, stamp_text
from gateway_core.settings import Settings
from gateway_core.settlement.models import ALL, CARD, DayReport, FeeLine, Line, day_figures
from gateway_core.settlement.reconciliation import Reconciliation
from gateway_core.upi_api import UPI_CODES, upi_reason

HEADER = ("BRAND", "SALES", "GROSS", "TIPS", "VOIDS", "REFUNDS", "NET SALES", "FEES", "GST")
MIXED = "METHOD / BRAND"  # the first column's header when a report has other methods


def decline_text(code: str) -> str:
    """What a decline key of `Activity.declines` means."""
    if code == "risk":
        return "blocked by a risk rule"
    if code == "other":
        return "declined"
    if code in UPI_CODES:  # NPCI's codes never clash with ISO 8583's (but "00": no decline)
        return upi_reason(code).text
    return reason_for(code).text


def line_label(line: Line) -> str:
    """A line as the report's first column names it: a card brand ("Visa"), a method
    without brands ("UPI"), a method's subtotal ("Card total") or "TOTAL"."""
    if line.method != CARD and line.brand == line.method:
        return method_name(line.method)
    if line.brand != "total":
        return brand_name(line.brand)
    return "TOTAL" if line.method == ALL else f"{method_name(line.method)} total"


def _brand(brand: str) -> str:
    return brand_name(brand) if brand != "total" else "TOTAL"


def _rate(bps: int) -> str:
    return f"{bps // 100}.{bps % 100:02d}%"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Columns: the first left-aligned, the rest right-aligned (money)."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    out = []
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        out.append("  ".join(cells).rstrip())
    return out


def _line_row(ln: Line, label: str | None = None) -> tuple[str, ...]:
    c = ln.currency
    return (
        label or line_label(ln),
        str(ln.count),
        money_text(ln.gross, c),
        money_text(ln.tips, c),
        money_text(ln.voids, c),
        money_text(ln.refunds, c),
        money_text(ln.net_sales, c),
        money_text(ln.fees, c),
        money_text(ln.gst, c),
        money_text(ln.payout, c),
    )


def _currency_rows(report: DayReport, total: Line) -> list[tuple[str, ...]]:
    """The rows of a currency's table: its lines by method and brand, a subtotal after a
    method of several lines when other methods follow, and the total."""
    cur = total.currency
    lines = [ln for ln in report.brands if ln.currency == cur]
    subtotals = {ln.method: ln for ln in report.methods if ln.currency == cur}
    rows = []
    for i, ln in enumerate(lines):
        rows.append(_line_row(ln))
        last_of_method = i + 1 == len(lines) or lines[i + 1].method != ln.method
        several = sum(1 for other in lines if other.method == ln.method) > 1
        if last_of_method and several and len(subtotals) > 1 and ln.method in subtotals:
            rows.append(_line_row(subtotals[ln.method]))
    rows.append(_line_row(total, "TOTAL"))
    return rows


def _fee_text(f: FeeLine) -> str:
    what = method_name(f.method) if f.method != CARD else f"{_brand(f.brand)} {f.funding}"
    return (
        f"  {what} {_rate(f.rate_bps)} on {money_text(f.amount, f.currency)} ({f.count}): "
        f"{money_text(f.fees, f.currency)} + GST {money_text(f.gst, f.currency)}"
    )


def format_report(report: DayReport, settings: Settings, width: int | None = None) -> list[str]:
    """The report as a merchant reads it: who and when, the attempts, a table per
    currency (methods and brands, and total), fees by rate, declines by reason, the
    payouts. Within a `width`: a table wider comes as two (sales to net sales, then net
    sales to payout), a longer line wraps."""
    tz = settings.tz
    table_rows: set[str] = set()  # the lines of the money tables
    title = f"Z REPORT {report.number}" if report.kind == "Z" else "X REPORT"
    lines = [f"{title}  {report.merchant_name} ({report.merchant_id})"]
    when = f"business day {report.day:%a %Y-%m-%d}"
    if report.kind == "Z" and report.closed_at:
        closed = stamp_text(report.closed_at, tz, seconds=False)
        when += f"  closed {closed} by {report.closed_by}"
    else:
        when += f"  printed {report.generated_at.astimezone(tz):%Y-%m-%d %H:%M}"
        if report.closed_as:
            when += f"  (closed: Z report {report.closed_as})"
    lines.append(when)
    a, figures = report.activity, day_figures(report, settings.currency)
    lines += [figures.attempts, figures.approval]
    if a.moved_later:
        lines.append(f"{a.moved_later} payment(s) taken this day were captured or voided later")
    if a.open:
        held = ", ".join(money_text(v, c) for c, v in sorted(a.open_amount.items()))
        lines.append(f"open: {a.open} payment(s), {held} authorized and not yet captured")
    if not report.totals:
        lines.append("no money moved on this day")
    mixed = any(ln.method != CARD for ln in report.brands)
    header = (MIXED, *HEADER[1:]) if mixed else HEADER
    for total in report.totals:
        cur = total.currency
        rows = _currency_rows(report, total)
        lines.append("")
        table = _table((*header, f"PAYOUT {cur}"), rows)
        if width is not None and max(map(len, table)) > width:
            table = [
                *_table(header[:7], [row[:7] for row in rows]),
                "",
                *_table(
                    (header[0], *header[6:], f"PAYOUT {cur}"), [(row[0], *row[6:]) for row in rows]
                ),
            ]
        lines.extend(table)
        table_rows.update(table)
        f = day_figures(report, cur)
        lines.append(
            f"voids {f.voids_count} ({money_text(f.voids, cur)}, not sales)  refunds "
            f"{f.refunds_count}  average sale {money_text(f.average, cur)}"
        )
    if report.fees:
        lines.append("")
        lines.append("fees (merchant discount rate, GST on the fee):")
        lines.extend(_fee_text(f) for f in report.fees)
    if a.declines:
        lines.append("")
        lines.append("declines by reason:")
        for code, n in sorted(a.declines.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {n:>4}  {code:<4} {decline_text(code)}")
    lines.append("")
    for p in report.payouts:
        verb = "payout" if p.amount >= 0 else "the acquirer debits"
        method = f"{method_name(p.method)}: " if mixed else ""
        lines.append(
            f"{method}{verb} {money_text(abs(p.amount), p.currency)} on {p.date:%a %Y-%m-%d} "
            f"(T+{settings.fees.payout_days} business day)  reference {p.reference}"
        )
    if report.kind == "Z" and report.audit_head:
        head = report.audit_head
        lines.append(f"audit anchor: seq {head['seq']}  mac {str(head['mac'])[:16]}…")
        lines.append(f"digest {report.digest}")
    if width is None:
        return lines
    return [  # a table row stays whole: its table was split to fit
        part
        for line in lines
        for part in (
            [line]
            if len(line) <= width or line in table_rows
            else textwrap.wrap(line, width, subsequent_indent="    ")
        )
    ]


def payout_lines(report: DayReport) -> list[str]:
    """How each payout adds up: per currency (and method, when there are several), net
    sales − fees − GST = payout, its date and reference."""
    subtotals = report.subtotals
    mixed = len({line.method for line in subtotals}) > 1
    lines = []
    for line, payout in zip(subtotals, report.payouts, strict=True):
        c = line.currency
        label = f"{c} {method_name(line.method)}" if mixed else c
        lines.append(
            f"PAYOUT {label}: net sales {money_text(line.net_sales, c)} − fees "
            f"{money_text(line.fees, c)} − GST {money_text(line.gst, c)} = "
            f"{money_text(payout.amount, c)}, on {payout.date:%a %Y-%m-%d}, "
            f"reference {payout.reference}"
        )
    return lines


def format_reconciliation(rec: Reconciliation) -> list[str]:
    """The counts and amounts per category, then every break."""
    summary = rec.summary()
    lines = [f"reconciliation {rec.day}: gateway against the acquirer's clearing file"]
    if rec.switch:
        lines[0] += " and the UPI switch's settlement file"
    names = {
        "matched": "matched",
        "missing_at_acquirer": "missing at acquirer",
        "missing_at_gateway": "missing at gateway",
        "amount_mismatch": "amount mismatch",
    }
    rows = []
    for key, label in names.items():
        amounts = summary[key]["amount"]
        shown = ", ".join(money_text(v, c) for c, v in sorted(amounts.items())) or "-"
        rows.append((label, str(summary[key]["count"]), shown))
    if rec.switch:
        reversed_ = ", ".join(
            money_text(v, c) for c, v in sorted(summary["reversals"]["amount"].items())
        )
        rows.append(("UPI reversals", str(len(rec.reversals)), reversed_ or "-"))
    lines.extend(_table(("", "COUNT", "AMOUNT"), rows))
    if rec.ok:
        lines.append("no breaks: every capture and refund is in the clearing file, once")
        return lines
    lines.append("")
    lines.append(f"{rec.breaks} break(s):")
    for label, entries in (
        ("missing at acquirer", rec.missing_at_acquirer),
        ("missing at gateway", rec.missing_at_gateway),
    ):
        for e in entries:
            rrn = f"  rrn {e.rrn}" if e.rrn else ""
            lines.append(
                f"  {label:<20} {e.kind:<8} {e.ref}  {_brand(e.brand or '?')}  "
                f"{money_text(e.amount, e.currency)}{rrn}"
            )
    for m in rec.amount_mismatch:
        g, q = m.gateway, m.acquirer
        diff = (
            "" if m.difference is None else f" (difference {money_text(m.difference, g.currency)})"
        )
        lines.append(
            f"  {'amount mismatch':<20} {g.kind:<8} {g.ref}  {_brand(g.brand or '?')}  "
            f"gateway {money_text(g.amount, g.currency)}, acquirer "
            f"{money_text(q.amount, q.currency)}{diff}"
        )
    return lines
