"""Shifts and cash as the command line reads and prints them: a denomination count
("500x2,100x5,1x3": major units × pieces), a cash payment's lines, a shift and its report.
"""

from __future__ import annotations

from datetime import tzinfo

from gateway_core.errors import InputError
from gateway_core.money import Money, currency_exponent, parse_amount
from gateway_core.payments import Payment
from gateway_core.presentation import format_plain, money_text, time_text
from gateway_core.shift_models import Count, Shift, ShiftReport
from gateway_core.shifts import check_count

MAX_COUNT_TEXT = 400  # characters: every denomination twice over, with room


def parse_count(text: str, currency: str) -> Count:
    """ "500x2,100x5,1x3" (note or coin in major units × pieces) as a count of the
    currency's denominations; "0" or "" is an empty drawer. `InputError` (one line) for
    anything else."""
    text = text.strip()
    if len(text) > MAX_COUNT_TEXT:
        raise InputError(f"a count has at most {MAX_COUNT_TEXT} characters")
    if text in ("", "0"):
        return {}
    count: Count = {}
    for part in text.split(","):
        value_text, x, pieces_text = part.strip().lower().partition("x")
        pieces_text = pieces_text.strip()
        if not x or not pieces_text.isascii() or not pieces_text.isdigit():
            raise InputError(f"a count is NOTExPIECES, comma separated (500x2,100x5), not {part!r}")
        try:
            value = parse_amount(value_text.strip(), currency).minor
        except InputError:
            raise InputError(f"{value_text.strip()!r} is not an amount (in {currency})") from None
        if value in count:
            raise InputError(f"{value_text.strip()} is counted twice")
        count[value] = int(pieces_text)
    return check_count(count, currency)


def format_count(count: Count, currency: str) -> str:
    """A count as `parse_count` reads it ("500x2,100x5"; "0" when empty)."""
    parts = [f"{_major(value, currency)}x{pieces}" for value, pieces in count.items()]
    return ",".join(parts) or "0"


def _major(value: int, currency: str) -> str:
    """A note's or coin's value in major units, without needless zeros (500, 0.50)."""
    text = format_plain(Money(value, currency))
    if currency_exponent(currency) and text.endswith("." + "0" * currency_exponent(currency)):
        return text.split(".")[0]
    return text


def signed(minor: int, currency: str) -> str:
    """An amount with its sign: +₹0.40, -₹0.20, ₹0.00."""
    return ("+" if minor > 0 else "") + money_text(minor, currency)


def cash_lines(payment: Payment) -> list[str]:
    """A cash payment's tendered, change, rounding and shift (nothing for another)."""
    c, cur = payment.cash, payment.currency
    if c is None:
        return []
    lines = [f"tendered {money_text(c.tendered, cur)}  change {money_text(c.change, cur)}"]
    if c.rounding:
        due = money_text(payment.amount + c.rounding, cur)
        lines.append(f"rounding {signed(c.rounding, cur)}  (due {due})")
    lines.append(f"shift {c.shift_id}")
    return lines


def shift_line(shift: Shift, tz: tzinfo | None) -> str:
    """One line: id, terminal, cashier, when opened, state and expected (or over/short)."""
    cur = shift.currency
    opened = time_text(shift.opened_at, tz, seconds=False)
    head = f"{shift.id}  {shift.terminal_id}  {shift.cashier}  opened {opened}"
    if shift.status == "open":
        return f"{head}  open  expected {money_text(shift.expected, cur)}"
    if shift.over_short is None:
        return f"{head}  closed  not counted"
    return f"{head}  closed  {over_short_text(shift.over_short, cur)}"


def over_short_text(over_short: int, currency: str) -> str:
    """ "over ₹5.00", "short ₹40.00" or "even"."""
    if over_short == 0:
        return "even"
    word = "over" if over_short > 0 else "short"
    return f"{word} {money_text(abs(over_short), currency)}"


def report_lines(report: ShiftReport, tz: tzinfo | None) -> list[str]:
    """The shift report: the drawer line by line, expected against counted."""
    s, cur = report.shift, report.shift.currency

    def row(label: str, minor: int) -> str:
        return f"  {label:<22}{money_text(minor, cur):>16}"

    opened = time_text(s.opened_at, tz, seconds=False)
    lines = [
        f"SHIFT {s.id}  {s.status.upper()}",
        f"terminal {s.terminal_id}  cashier {s.cashier}  day {s.day}  opened {opened}",
        row("float", s.float_amount),
        row(f"cash sales ({report.sales_count})", report.sales),
    ]
    if report.rounding:
        lines.append(f"  {'of which rounding':<22}{signed(report.rounding, cur):>16}")
    lines += [
        row(f"refunds ({report.refunds_count})", -report.refunds),
        row("paid in", report.paid_in),
        row("paid out", -report.paid_out),
        row("expected", s.expected),
    ]
    if s.status == "closed":
        closed = time_text(s.closed_at, tz, seconds=False) if s.closed_at else "?"
        if s.counted is None:
            lines.append(f"  {'counted':<22}{'not counted':>16}")
        else:
            lines.append(row("counted", s.counted))
            lines.append(f"  {'over / short':<22}{over_short_text(s.over_short or 0, cur):>16}")
        approved = f"  approved by {s.approved_by}" if s.approved_by else ""
        lines.append(f"closed {closed} by {s.closed_by}{approved}")
    for move in report.moves:
        if move.kind in ("paid_in", "paid_out"):
            what = "paid in" if move.kind == "paid_in" else "paid out"
            at = time_text(move.at, tz, seconds=False)
            lines.append(
                f"{what} {money_text(move.amount, cur)} at {at}: {move.reason} "
                f"(approved by {move.approver or '-'})"
            )
    return lines
