"""The day's transactions as rows (one per payment taken, money moved or refund made),
and those rows as CSV. A payment link has no row: its attempts (payments of their own
methods) have them. `brand` is a card's brand or a net banking payment's bank."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime, tzinfo

from gateway_core.clock import ClosedAt
from gateway_core.fees import FeeSchedule, fee_of
from gateway_core.money import currency_exponent
from gateway_core.payments import OPEN_STATUSES
from gateway_core.settlement.days import moved_on
from gateway_core.settlement.models import CARD, LINK, NETBANKING, Record
from gateway_core.settlement.tally import is_void, kind_of

EXPORT_COLUMNS = (
    "time",
    "type",
    "payment_id",
    "refund_id",
    "status",
    "brand",
    "funding",
    "card",
    "terminal_id",
    "operator",
    "currency",
    "amount",
    "tip",
    "fee_rate_bps",
    "fee",
    "gst",
    "net",
    "response_code",
    "reason",
    "auth_code",
    "rrn",
    "method",  # last: the columns before it keep their places
    "rounding",  # a cash sale's rounding (due − amount, signed; in its net)
)
_MONEY_COLUMNS = ("amount", "tip", "fee", "gst", "net", "rounding")
_BRANDED = (CARD, NETBANKING)  # the methods whose rows name a brand (net banking: the bank)
_TEXT_COLUMNS = ("operator", "terminal_id", "reason")


def transaction_rows(
    day: date,
    payments: Iterable[Record],
    refunds: Iterable[Record],
    schedule: FeeSchedule,
    tz: tzinfo | None,
    closed_at: ClosedAt,
) -> list[Record]:
    """The day's rows, oldest first: every payment of `payments` (`Settlement.candidates`)
    and every refund. Money rows (sale, void, refund) carry fee, GST and net; the rest
    are attempts with no money (net None)."""
    rows = [
        payment_row(day, r, schedule, tz, closed_at) for r in payments if r.get("method") != LINK
    ]
    rows.extend(refund_row(refund, tz) for refund in refunds)
    rows.sort(key=lambda row: (row["time"], row["payment_id"], row["refund_id"] or ""))
    return rows


def refund_row(refund: Record, tz: tzinfo | None) -> Record:
    """The row of a refund made on the day: money out, no fee given back."""
    method, brand = kind_of(refund)
    return {
        "time": _at(refund["created_at"], tz),
        "type": "refund",
        "payment_id": refund["payment_id"],
        "refund_id": refund["id"],
        "status": "refunded",
        "brand": brand if method in _BRANDED else None,
        "funding": None,
        "card": None,
        "terminal_id": None,
        "operator": refund.get("operator"),
        "currency": refund["currency"],
        "amount": refund["amount"],
        "tip": 0,
        "fee_rate_bps": None,
        "fee": 0,
        "gst": 0,
        "net": -refund["amount"],
        "response_code": None,
        "reason": f"approved by {refund.get('approver') or 'no one'}",
        "auth_code": None,
        "rrn": refund.get("rrn"),
        "method": method,
        "rounding": None,
    }


def payment_row(
    day: date, r: Record, schedule: FeeSchedule, tz: tzinfo | None, closed_at: ClosedAt
) -> Record:
    """The row of a payment: taken on the day, or of an earlier day that moved on it."""
    status, moved = r["status"], None
    if status == "succeeded" or is_void(r):
        moved = moved_on(r, tz, closed_at)
    row_type = {"succeeded": "sale", "declined": "decline"}.get(status, status)
    if is_void(r):
        row_type = "void"
    elif status == "canceled":
        row_type = "canceled"
    elif status in OPEN_STATUSES:
        row_type = "open"
    fee = gst = net = rate = rounding = None
    amount, tip = r["amount"], r.get("tip", 0)
    method, brand = kind_of(r)
    if moved is not None and moved != day:
        row_type = f"{row_type} (on {moved})"  # taken today, money moved on another day
    elif status == "succeeded":
        amount = r["amount_captured"]
        tip = min(tip, amount)
        rate, _flat, fee = schedule.fee(amount, method, brand, r.get("funding"))
        gst = fee_of(fee, schedule.gst_bps)
        rounding = (r.get("cash") or {}).get("rounding")
        net = amount + (rounding or 0) - fee - gst
    elif row_type == "void":
        fee = gst = net = 0
    when = r["updated_at"] if moved == day else r["created_at"]
    card = r.get("card") or {}
    return {
        "time": _at(when, tz),
        "type": row_type,
        "payment_id": r["id"],
        "refund_id": None,
        "status": status,
        "brand": brand if method in _BRANDED else None,
        "funding": r.get("funding"),
        "card": card.get("masked"),
        "terminal_id": r.get("terminal_id"),
        "operator": r.get("operator"),
        "currency": r["currency"],
        "amount": amount,
        "tip": tip,
        "fee_rate_bps": rate,
        "fee": fee,
        "gst": gst,
        "net": net,
        "response_code": r.get("response_code"),
        "reason": r.get("message") or "",
        "auth_code": r.get("auth_code"),
        "rrn": r.get("rrn"),
        "method": method,
        "rounding": rounding,
    }


def to_csv(rows: list[Record]) -> str:
    """Rows as CSV: money as plain decimals of the currency ("1250.50"), empty for
    none; text a spreadsheet could take for a formula is prefixed with '."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    exponents: dict[str, int] = {}
    for row in rows:
        cells = []
        currency = row["currency"]
        if currency not in exponents:
            exponents[currency] = currency_exponent(currency)
        for column in EXPORT_COLUMNS:
            value = row[column]
            if value is None:
                cells.append("")
            elif column in _MONEY_COLUMNS:
                cells.append(plain_amount(value, exponents[currency]))
            elif column in _TEXT_COLUMNS and str(value)[:1] in ("=", "+", "-", "@"):
                cells.append("'" + str(value))
            else:
                cells.append(str(value))
        writer.writerow(cells)
    return out.getvalue()


def plain_amount(minor: int, exponent: int) -> str:
    """`format_plain` without building Money: "1250.50", "-12.50", "1250" (exponent 0)."""
    if exponent == 0:
        return str(minor)
    whole, frac = divmod(abs(minor), 10**exponent)
    return f"{'-' if minor < 0 else ''}{whole}.{frac:0{exponent}d}"


def _at(iso: str, tz: tzinfo | None) -> str:
    return datetime.fromisoformat(iso).astimezone(tz).isoformat(timespec="seconds")
