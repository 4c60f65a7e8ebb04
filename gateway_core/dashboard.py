"""The merchant console's arithmetic: the day at a glance, and the day's payments found,
sorted and paged. Pure functions over stored records (plain dicts), no Textual.

- `day_stats` shows a business day on the dashboard: the X report's figures
  (`settlement.day_figures`, the one reading every view shows), sales by hour, the
  split by tender (card brands, UPI, net banking per bank, cash and its rounding),
  declines by reason and the risk rules that fired (and, set by its reader, the day's
  shift reports), from the report and the day's running totals (`settlement.running`):
  no payment is read.
- The transaction table reads the day a page at a time, newest first
  (`PaymentRepository.page`); `Ledger` holds the whole day, read for a search (last-4,
  id, amount, status, brand or method) or another sort.
- `filter_events` narrows the audit log by actor, action and day.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from gateway_core.errors import InputError
from gateway_core.fraud.monitor import ScoreWatch
from gateway_core.money import MoneyError, parse_amount
from gateway_core.payment_records import with_refunds
from gateway_core.payments import Payment, payment_day
from gateway_core.ports import Records
from gateway_core.presentation import status_word
from gateway_core.settings import Settings
from gateway_core.settlement import (
    DayFigures,
    DayReport,
    Settlement,
    day_figures,
    decline_text,
    kind_of,
    tender_label,
)
from gateway_core.settlement.running import Tallies, by_hour, rules_fired
from gateway_core.shift_models import ShiftReport

Record = dict[str, Any]
PAGE_SIZE = 200
SORTS = ("time", "amount", "status", "brand", "card")


# ---------------------------------------------------------------------------- dashboard
@dataclass
class DayStats:
    """What the dashboard shows of a day (amounts in minor units of `figures.currency`)."""

    day: date
    figures: DayFigures  # gross, sales, net, attempts: the X report's
    by_hour: list[int] = field(default_factory=lambda: [0] * 24)  # captured, by local hour
    # (tender as people read it: "Visa", "UPI", "Net banking DEMOA", "Cash rounding"...,
    # sales, amount): the X report's lines
    brands: list[tuple[str, int, int]] = field(default_factory=list)
    declines: list[tuple[str, int, str]] = field(default_factory=list)  # (code, n, meaning)
    rules: list[tuple[str, int]] = field(default_factory=list)  # (rule, times it fired)
    shifts: list[ShiftReport] = field(default_factory=list)  # the day's (`shift_reports`)
    fraud: ScoreWatch | None = None  # the fraud model's day, when one scores (`FraudHook.watch`)


def day_stats(report: DayReport, totals: Tallies, settings: Settings) -> DayStats:
    """The dashboard of a day: its X report's figures in the merchant's currency, plus
    sales by hour and the risk rules that fired, from the day's running totals (the
    merchant's: `Settlement.totals`)."""
    currency = settings.currency
    return DayStats(
        day=report.day,
        figures=day_figures(report, currency),
        by_hour=by_hour(totals, currency, settings.tz),
        brands=[
            (tender_label(ln.method, ln.brand), ln.count, ln.gross)
            for ln in report.brands
            if ln.currency == currency
        ],
        declines=[
            (code, n, decline_text(code))
            for code, n in sorted(report.activity.declines.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        rules=rules_fired(totals),
    )


def opening_hours(by_hour: Sequence[int]) -> range:
    """The hours worth charting: from the first hour with sales to the last (9 to 21
    on an empty day, a shop's usual day)."""
    busy = [h for h, amount in enumerate(by_hour) if amount]
    if not busy:
        return range(9, 22)
    return range(min(busy[0], 9), max(busy[-1], 20) + 1)


# ---------------------------------------------------------------------------- payments
def record_word(record: Record, refunded: int = 0) -> str:
    """`presentation.status_word` of a stored payment record, `refunded` of it refunded."""
    return status_word(
        record["status"],
        voided=bool(record.get("voided_by")),
        captured=record.get("amount_captured", 0),
        refunded=refunded,
    )


class Ledger:
    """The payments taken on a day, searchable and sortable, served a page at a time.

    `refunded` is each payment's refunded amount (the refunds filed on the day)."""

    def __init__(self, records: list[Record], refunded: dict[str, int], currency: str) -> None:
        self.records = records
        self.refunded = refunded
        self.currency = currency

    def word(self, record: Record) -> str:
        """The status word of one of the ledger's records."""
        return record_word(record, self.refunded.get(record["id"], 0))

    def select(self, query: str = "", sort: str = "time", descending: bool = True) -> list[Record]:
        """The records matching every word of `query`, sorted by `sort` (one of SORTS)."""
        words = query.lower().split()
        found = self.records
        if words:
            tests = [self._test(word) for word in words]
            found = [r for r in found if all(test(r) for test in tests)]
        key = {
            "time": lambda r: (r["created_at"], r["id"]),
            "amount": lambda r: (r["amount"], r["id"]),
            "status": lambda r: (self.word(r), r["id"]),
            "brand": lambda r: (kind_of(r)[1], r["id"]),
            "card": lambda r: (_last4(r), r["id"]),
        }.get(sort)
        if key is None:
            raise InputError(f"sort by one of {', '.join(SORTS)}, not {sort!r}")
        return sorted(found, key=key, reverse=descending)

    def _test(self, word: str) -> Callable[[Record], bool]:
        """A test for one search word: last-4, a part of the id, an amount, a status or a
        brand (a word like "1250" may be a last-4 or an amount: either matches)."""
        amount: int | None = None
        with contextlib.suppress(MoneyError):
            amount = parse_amount(word, self.currency).minor

        def test(r: Record) -> bool:
            return (
                _last4(r) == word
                or word in r["id"]
                or (amount is not None and amount in (r["amount"], r.get("amount_captured")))
                or self.word(r).startswith(word)
                or kind_of(r)[1].startswith(word)
            )

        return test


def _last4(record: Record) -> str:
    """The last four digits of a card payment's card ("" for another method)."""
    card = record.get("card")
    return str(card["last4"]) if card else ""


def read_day(
    records: Records, settlement: Settlement, day: date
) -> tuple[list[Record], list[Record]]:
    """The payment records that concern `day` (`Settlement.candidates`) and its refunds,
    read as one state (`Records.reading`): a worker thread never reads a table while the
    gateway writes to it."""
    if day not in records.days():
        return [], []
    with records.reading(day):
        return list(settlement.candidates(day)), settlement.refunds(day)


def ledger_of(
    day: date, payments: Iterable[Record], refunds: Iterable[Record], currency: str
) -> Ledger:
    """The ledger of the payments taken on `day` (among `payments`), with what was
    refunded of each on the day."""
    prefix = f"pay_{day:%Y%m%d}_"
    return Ledger([r for r in payments if r["id"].startswith(prefix)], refunded(refunds), currency)


def refunded(refunds: Iterable[Record]) -> dict[str, int]:
    """What `refunds` refunded of each payment."""
    out: dict[str, int] = {}
    for refund in refunds:
        out[refund["payment_id"]] = out.get(refund["payment_id"], 0) + refund["amount"]
    return out


def day_refunds(records: Records, settlement: Settlement, day: date) -> list[Record]:
    """The refunds filed on `day` (`Settlement.refunds`), read as one state."""
    with records.reading(day):
        return settlement.refunds(day)


def page(rows: Sequence[Record], number: int, size: int = PAGE_SIZE) -> Sequence[Record]:
    """Page `number` (from 0) of `rows`."""
    return rows[number * size : (number + 1) * size]


def day_page(
    records: Records, day: date, after: str | None, size: int, merchant_id: str | None = None
) -> list[Payment]:
    """Up to `size` of the payments taken on `day` (every merchant's, or `merchant_id`'s),
    newest first, those after the payment `after` (its id: the last one shown), with
    their refunds: `paygate list` and `GET /v1/payments?limit=`, a page at a time."""
    payments = records.payments
    known = day in records.days()
    cursor = None
    if after is not None:
        last = payments.get(day, after) if known and payment_day(after) == day else None
        if last is None or merchant_id not in (None, last.get("merchant_id")):
            raise InputError(f"--after names no payment of {day}")
        cursor = (last["created_at"], last["id"])
    if not known:
        return []
    page = payments.page(day, merchant_id, cursor, size)
    return [with_refunds(r, records.refunds) for r in page]


# ---------------------------------------------------------------------------- audit
def filter_events(
    events: Iterable[Record],
    *,
    actor: str = "",
    action: str = "",
    day: date | None = None,
    tz: tzinfo | None = None,
) -> list[Record]:
    """Audit events whose actor contains `actor`, whose action contains `action`, and
    that happened on `day` (local time), in stored order."""
    actor, action = actor.strip().lower(), action.strip().lower()
    found = []
    for event in events:
        if actor and actor not in str(event.get("actor", "")).lower():
            continue
        if action and action not in str(event.get("action", "")).lower():
            continue
        if day is not None:
            try:
                when = datetime.fromisoformat(event["time"]).astimezone(tz).date()
            except (KeyError, TypeError, ValueError):
                continue
            if when != day:
                continue
        found.append(event)
    return found


def audit_events(records: Records, since: date = date.min) -> list[Record]:
    """The audit events filed on `since` and later, in stored order (`AuditRepository.on`
    reads each day as a whole: a worker thread never reads a table being written)."""
    return [event for day in records.days() if day >= since for event in records.audit.on(day)]


def events_of(events: Iterable[Record], payment_id: str) -> list[Record]:
    """The audit events about one payment (its creation, approvals, capture, void,
    refunds), in stored order."""
    return [e for e in events if e.get("subject") == payment_id]
