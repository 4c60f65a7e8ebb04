"""The plain-text forms of a day's report and of a reconciliation, as the CLI prints them
and the merchant console shows them (words from `gateway_core.presentation`)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from gateway_core.payments import reason_for
from gateway_core.presentation import brand_name, method_name, money_text, stamp_text
from gateway_core.settings import Settings
from gateway_core.settlement.models import (
    ALL,
    CARD,
    CASH,
    NETBANKING,
    ROUNDING,
    UPI,
    DayReport,
    FeeLine,
    Line,
    Payout,
    day_figures,
)
from gateway_core.settlement.reconciliation import Entry, Reconciliation
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


def tender_label(method: str, brand: str) -> str:
    """A (method, brand) line as people read it: a card brand ("Visa"), a bank of net
    banking ("Net banking DEMOA"), cash's rounding ("Cash rounding"), a method ("UPI")."""
    if method == CARD:
        return brand_name(brand)
    if method == NETBANKING and brand != method:
        return f"{method_name(method)} {brand}"
    if method == CASH and brand == ROUNDING:
        return "Cash rounding"
    return method_name(method)


def line_label(line: Line) -> str:
    """A line as the report's first column names it: a card brand ("Visa"), a bank, a
    method without brands ("UPI"), a method's subtotal ("Card total") or "TOTAL"."""
    if line.brand != "total":
        return tender_label(line.method, line.brand)
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


def _line_row(ln: Line, label: str | None = None, drawer: bool = False) -> tuple[str, ...]:
    c = ln.currency
    kept = (money_text(ln.kept, c),) if drawer else ()
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
        *kept,
    )


def _currency_rows(report: DayReport, total: Line, drawer: bool) -> list[tuple[str, ...]]:
    """The rows of a currency's table: its lines by method and brand, a subtotal after a
    method of several lines when other methods follow, and the total (`drawer`: with the
    cash kept in the drawer)."""
    cur = total.currency
    lines = [ln for ln in report.brands if ln.currency == cur]
    subtotals = {ln.method: ln for ln in report.methods if ln.currency == cur}
    rows = []
    for i, ln in enumerate(lines):
        rows.append(_line_row(ln, drawer=drawer))
        last_of_method = i + 1 == len(lines) or lines[i + 1].method != ln.method
        several = sum(1 for other in lines if other.method == ln.method) > 1
        if last_of_method and several and len(subtotals) > 1 and ln.method in subtotals:
            rows.append(_line_row(subtotals[ln.method], drawer=drawer))
    rows.append(_line_row(total, "TOTAL", drawer))
    return rows


def _fee_text(f: FeeLine) -> str:
    card = f.method == CARD
    what = f"{_brand(f.brand)} {f.funding}" if card else tender_label(f.method, f.brand)
    rate = _rate(f.rate_bps)
    if f.flat:
        each = f"{money_text(f.flat, f.currency)} each"
        rate = each if f.rate_bps == 0 else f"{rate} + {each}"
    return (
        f"  {what} {rate} on {money_text(f.amount, f.currency)} ({f.count}): "
        f"{money_text(f.fees, f.currency)} + GST {money_text(f.gst, f.currency)}"
    )


def _payout_label(p: Payout) -> str:
    """Whose payout: the method ("UPI"), a bank's for net banking."""
    return tender_label(p.method, p.bank or p.method)


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
    drawer = any(ln.method == CASH for ln in report.brands)
    for total in report.totals:
        cur = total.currency
        rows = _currency_rows(report, total, drawer)
        lines.append("")
        tail = (f"PAYOUT {cur}", "IN DRAWER") if drawer else (f"PAYOUT {cur}",)
        table = _table((*header, *tail), rows)
        if width is not None and max(map(len, table)) > width:
            table = [
                *_table(header[:7], [row[:7] for row in rows]),
                "",
                *_table((header[0], *header[6:], *tail), [(row[0], *row[6:]) for row in rows]),
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
        method = f"{_payout_label(p)}: " if mixed else ""
        lines.append(
            f"{method}{verb} {money_text(abs(p.amount), p.currency)} on {p.date:%a %Y-%m-%d} "
            f"(T+{settings.fees.payout_days} business day)  reference {p.reference}"
        )
    for sub in report.methods:
        if sub.method == CASH:
            lines.append(
                f"Cash: {money_text(sub.kept, sub.currency)} kept in the drawer (no payout)"
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
    """How each payout adds up: per currency (and method, when there are several; and
    bank, for net banking), net sales − fees − GST = payout, its date and reference. Cash
    has none (it is in the drawer)."""
    mixed = len({line.method for line in report.subtotals}) > 1
    lines = []
    for payout in report.payouts:
        line = report.paid_by(payout)
        c = line.currency
        label = f"{c} {_payout_label(payout)}" if mixed else c
        lines.append(
            f"PAYOUT {label}: net sales {money_text(line.net_sales, c)} − fees "
            f"{money_text(line.fees, c)} − GST {money_text(line.gst, c)} = "
            f"{money_text(payout.amount, c)}, on {payout.date:%a %Y-%m-%d}, "
            f"reference {payout.reference}"
        )
    return lines


THEIRS = {CARD: "acquirer", UPI: "switch", NETBANKING: "bank", CASH: "drawer"}
"""Who holds the other side of each tender's entries, as a break names it."""


def _sources(rec: Reconciliation) -> str:
    """What the gateway was reconciled against, in words."""
    parts = ["the acquirer's clearing file"]
    if rec.switch:
        parts.append("the UPI switch's settlement file")
    if rec.banks:
        parts.append(f"the settlement files of {', '.join(rec.banks)}")
    if rec.drawers:
        parts.append(f"the drawers of {len(rec.drawers)} shift(s)")
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]


def _tender_rows(rec: Reconciliation) -> list[str]:
    """Matched and breaks per tender (when more than cards were reconciled)."""
    tenders = rec.tenders()
    if not (rec.switch or rec.banks or rec.drawers):
        return []
    order = [CARD, *([UPI] if rec.switch else []), *(f"{NETBANKING} {b}" for b in rec.banks)]
    if rec.drawers:
        order.append(CASH)
    order += sorted(k for k in tenders if k not in order)
    rows = []
    for key in order:
        method, _, bank = key.partition(" ")
        counts = tenders.get(key, {"matched": 0, "breaks": 0})
        label = tender_label(method, bank or method)
        rows.append((label, str(counts["matched"]), str(counts["breaks"])))
    return ["", *_table(("TENDER", "MATCHED", "BREAKS"), rows)]


def _entry_name(method: str, brand: str | None) -> str:
    return tender_label(method, brand or method) if method != CARD else _brand(brand or "?")


def _drawer_lines(rec: Reconciliation) -> list[str]:
    """Each shift's drawer: expected, counted, over / short, or not counted yet."""
    lines = []
    for d in rec.drawers or ():
        c, diff = d.currency, d.over_short
        head = f"  {d.shift_id} {d.terminal_id} ({d.cashier}): expected {money_text(d.expected, c)}"
        if d.counted is None:
            lines.append(f"{head}; {'open, ' if d.status == 'open' else ''}not counted yet")
            continue
        word = "balanced" if not diff else "short" if diff < 0 else "over"
        shown = f" {money_text(abs(diff), c)}" if diff else ""
        lines.append(f"{head}, counted {money_text(d.counted, c)}: {word}{shown}")
    return lines


def format_reconciliation(rec: Reconciliation) -> list[str]:
    """The counts and amounts per category, per tender, the drawers, then every break
    in the tender's words (missing at the acquirer, the switch, a bank, the drawer)."""
    summary = rec.summary()
    lines = [f"reconciliation {rec.day}: gateway against {_sources(rec)}"]
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
    if rec.at_processors:
        amounts = summary["at_processors"]["amount"]
        shown = ", ".join(money_text(v, c) for c, v in sorted(amounts.items()))
        rows.append(("at processors", str(len(rec.at_processors)), shown))
    lines.extend(_table(("", "COUNT", "AMOUNT"), rows))
    lines.extend(_tender_rows(rec))
    if rec.at_processors:
        taken_at = sorted({e.processor or "?" for e in rec.at_processors})
        lines.append(
            f"taken at {', '.join(taken_at)}: not in these files (no break); each is in its "
            "processor's own report"
        )
    if rec.drawers:
        lines += ["", "cash drawers:", *_drawer_lines(rec)]
    if rec.ok:
        lines.append("no breaks: every capture and refund is on the other side, once")
        return lines
    lines.append("")
    lines.append(f"{rec.breaks} break(s):")
    for e in rec.missing_at_acquirer:
        lines.append(_break_line(f"missing at {THEIRS.get(e.method, 'acquirer')}", e))
    for e in rec.missing_at_gateway:
        lines.append(_break_line("missing at gateway", e))
    for m in rec.amount_mismatch:
        g, q = m.gateway, m.acquirer
        diff = (
            "" if m.difference is None else f" (difference {money_text(m.difference, g.currency)})"
        )
        lines.append(
            f"  {'amount mismatch':<20} {g.kind:<8} {g.ref}  {_entry_name(g.method, g.brand)}  "
            f"gateway {money_text(g.amount, g.currency)}, {THEIRS.get(g.method, 'acquirer')} "
            f"{money_text(q.amount, q.currency)}{diff}"
        )
    for d in rec.drawer_breaks:
        word = "drawer short" if (d.over_short or 0) < 0 else "drawer over"
        lines.append(
            f"  {word:<20} {'count':<8} {d.shift_id}  Cash  expected "
            f"{money_text(d.expected, d.currency)}, counted "
            f"{money_text(d.counted or 0, d.currency)} "
            f"({money_text(abs(d.over_short or 0), d.currency)})"
        )
    return lines


def _break_line(label: str, e: Entry) -> str:
    rrn = f"  rrn {e.rrn}" if e.rrn else ""
    return (
        f"  {label:<20} {e.kind:<8} {e.ref}  {_entry_name(e.method, e.brand)}  "
        f"{money_text(e.amount, e.currency)}{rrn}"
    )
