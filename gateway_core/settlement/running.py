"""Running totals: the day's tallies (`TallyRepository`) kept as payments and refunds are
written, and the X report's lines, fee lines and activity read from them instead of a
scan of the day. `tally` stays the arithmetic of record: the Z report, the export and
the checks add up the records, and tallies == that scan (tests/unit/test_tallies.py).

What each kind of total holds, per merchant (filed under the day the records are):

- `taken`: the payments taken on the day by method, brand (card brand, net banking
  bank, else the method), currency, status ("voided": canceled by a void), decline code
  and terminal: count, amount, captured (the report's activity);
- `moved`: the captures ("succeeded") and voids ("voided") by method, brand, funding,
  currency and the minute of their last change (`at`): count, amount, captured, tips, fees
  and GST under the writer's fee schedule (its `fee_basis` is kept beside; a reader with
  another rebuilds). A minute's business day is known once the Z reports are (`DayOf`),
  so money that moved on a later day is counted there. Cash roundings are a line of
  their own (brand `rounding`: count of rounded sales, captured = Σ rounding);
- `refund`: the refunds made on the day by method, brand and currency: count, amount;
- `hour`: the captured amount of the sales taken on the day by currency and quarter hour
  of their creation (the dashboard's chart); `rule`: the risk rules that fired (count);
  `score`: the fraud model's scores (code) and decisions (status) of the day (count).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, tzinfo

from gateway_core.fees import FeeSchedule, fee_of
from gateway_core.ports import TallyKey, TallyRepository, TallySums
from gateway_core.settlement.days import DayOf
from gateway_core.settlement.models import (
    CARD,
    CASH,
    LINK,
    ROUNDING,
    Activity,
    FeeLine,
    Line,
    Record,
    method_of,
)
from gateway_core.settlement.tally import (
    FeeKey,
    LineKey,
    _activity,
    _Attempts,
    _fee_lines,
    _lines,
    _rounding,
    _Sums,
    attempt,
    decline_key,
    is_void,
    kind_of,
)
from gateway_core.store.tallies import basis_key, seen_key

TAKEN, MOVED, REFUND, HOUR, RULE, SCORE = "taken", "moved", "refund", "hour", "rule", "score"
Tallies = dict[TallyKey, TallySums]
Parts = tuple[list[Line], list[Line], list[FeeLine], Activity]


def fee_basis(fees: FeeSchedule) -> str:
    """A fingerprint of the fee schedule the `moved` totals' fees were computed under."""
    return hashlib.sha256(fees.model_dump_json().encode()).hexdigest()[:16]


class _Totals:
    """Totals being added up (in place: a rebuild adds up 100k records fast), each
    stamp's minute and quarter hour and each line's fee rate worked out once."""

    def __init__(self, fees: FeeSchedule) -> None:
        self.sums: dict[TallyKey, list[int]] = {}
        self._fees = fees
        self._floors: dict[str, tuple[str, str]] = {}
        self._rates: dict[tuple[str, str, str], tuple[int, int]] = {}

    def add(self, key: TallyKey, *values: int) -> None:
        held = self.sums.get(key)
        if held is None:
            self.sums[key] = [*values, *_ZEROS[len(values) :]]
        else:
            for i, value in enumerate(values):
                held[i] += value

    def floors(self, stamp: str) -> tuple[str, str]:
        """The minute and the quarter hour of an ISO time (ISO times at their start)."""
        key = stamp[:16] + stamp[-6:]
        found = self._floors.get(key)
        if found is None:
            if len(self._floors) > 100_000:  # a writer's, over many days
                self._floors.clear()
            at = datetime.fromisoformat(stamp).replace(second=0, microsecond=0)
            quarter = at.replace(minute=at.minute - at.minute % 15)
            found = self._floors[key] = (at.isoformat(), quarter.isoformat())
        return found

    def fee(self, captured: int, method: str, brand: str, funding: str) -> tuple[int, int]:
        """The fee and the GST on it of a capture."""
        rate = self._rates.get((method, brand, funding))
        if rate is None:
            fees = self._fees
            rate = self._rates[(method, brand, funding)] = (
                fees.rate_of(method, brand, funding),
                fees.flat_of(method, brand),
            )
        fee = fee_of(captured, rate[0]) + rate[1]
        return fee, fee_of(fee, self._fees.gst_bps)

    def payment(self, r: Record, sign: int = 1) -> None:
        """Add what one stored payment adds to the totals of the day it is filed under
        (`sign` -1: take it away)."""
        merchant, status, currency = r["merchant_id"], r["status"], r["currency"]
        method, brand = kind_of(r)
        word = "voided" if is_void(r) else status
        captured = r.get("amount_captured", 0)
        code = decline_key(r) if status == "declined" else ""
        self.add(_PAYMENTS, sign)
        taken = TallyKey(
            merchant, TAKEN, method, brand, "", currency, word, code, r.get("terminal_id") or ""
        )
        self.add(taken, sign, sign * r["amount"], sign * captured)
        if status == "succeeded":
            quarter = self.floors(r["created_at"])[1]
            self.add(
                TallyKey(merchant, HOUR, currency=currency, at=quarter), sign, 0, sign * captured
            )
        risk = r.get("risk") or {}
        for factor in risk.get("factors", ()):
            self.add(TallyKey(merchant, RULE, code=factor["rule"]), sign)
        if model := risk.get("model"):
            score = str(int(model["score"]))
            self.add(TallyKey(merchant, SCORE, status=model["action"], code=score), sign)
        if method == LINK or word not in ("succeeded", "voided"):
            return
        funding, minute = r.get("funding") or "", self.floors(r["updated_at"])[0]
        key = TallyKey(merchant, MOVED, method, brand, funding, currency, word, at=minute)
        if word == "voided":
            self.add(key, sign, sign * r["amount"])
            return
        fee, gst = self.fee(captured, method, brand, funding)
        tips = min(r.get("tip", 0), captured)
        self.add(
            key, sign, sign * r["amount"], sign * captured, sign * tips, sign * fee, sign * gst
        )
        if rounding := (r.get("cash") or {}).get("rounding"):
            self.add(key._replace(brand=ROUNDING, funding=""), sign, 0, sign * rounding)

    def refund(self, refund: Record, payment: Record | None) -> None:
        """Add what one refund adds to the totals of the day it is filed under (its
        payment says whose it is and, for a refund stored without it, its method)."""
        self.add(_REFUNDS, 1)
        if payment is not None:
            method, brand = kind_of(
                refund if "method" in refund else {**refund, "method": method_of(payment)}
            )
            key = TallyKey(
                payment["merchant_id"], REFUND, method, brand, currency=refund["currency"]
            )
            self.add(key, 1, refund["amount"])

    def done(self) -> Tallies:
        """The totals that are not all zero (and a fresh start)."""
        sums, self.sums = self.sums, {}
        return {key: TallySums(*held) for key, held in sums.items() if any(held)}


_ZEROS = (0,) * len(TallySums._fields)
_PAYMENTS, _REFUNDS = seen_key("payments"), seen_key("refunds")


def day_tallies(
    payments: Iterable[Record],
    refunds: Iterable[Record],
    payment_of: Callable[[str], Record | None],
    fees: FeeSchedule,
) -> Tallies:
    """A day's totals rebuilt from the records filed under it (every merchant's)."""
    totals = _Totals(fees)
    for r in payments:
        totals.payment(r)
    for refund in refunds:
        totals.refund(refund, payment_of(refund["payment_id"]))
    written = totals.sums.get(_PAYMENTS, [0])[0]
    if written:
        totals.add(basis_key(fee_basis(fees)), written)
    return totals.done()


class Tallying:
    """Keeps the totals as the embedded repositories write (their save hooks): the
    change a payment's new record makes to its old one's, a refund's own."""

    def __init__(
        self,
        tallies: TallyRepository,
        fees: FeeSchedule,
        payment_of: Callable[[str], Record | None],
    ) -> None:
        self._tallies = tallies
        self._totals = _Totals(fees)
        self._basis = basis_key(fee_basis(fees))
        self._payment_of = payment_of
        self._stamped: set[date] = set()  # days this writer named its fee basis in

    def payment_saved(self, day: date, old: Record | None, new: Record) -> None:
        totals = self._totals
        totals.payment(new)
        if old is not None:
            totals.payment(old, -1)
        if day not in self._stamped:
            totals.add(self._basis, 1)
        self._tallies.add(day, totals.done())
        self._stamped.add(day)

    def refund_added(self, day: date, refund: Record) -> None:
        totals = self._totals
        totals.refund(refund, self._payment_of(refund["payment_id"]))
        self._tallies.add(day, totals.done())


def report_parts(
    day: date,
    own: Mapping[TallyKey, TallySums],
    earlier: Iterable[Mapping[TallyKey, TallySums]],
    fees: FeeSchedule,
    moved: DayOf,
) -> Parts | None:
    """`tally`'s lines, totals, fee lines and activity of `day` from one merchant's
    totals: `own` the day's, `earlier` those of the days before it whose money may have
    moved on it. None when a Z report was taken within a minute that money moved in (the
    caller adds the records up then)."""
    lines: dict[LineKey, _Sums] = {}
    fee_lines: dict[FeeKey, list[int]] = {}
    act = _Attempts()
    days: dict[str, date | None] = {}
    for totals, today in ((own, True), *((e, False) for e in earlier)):
        for key, sums in totals.items():
            if key.kind != MOVED or not sums.n:
                continue
            if key.at not in days:
                days[key.at] = moved.of_minute(key.at)
            on = days[key.at]
            if on is None:
                return None
            if on == day:
                _moved(lines, fee_lines, key, sums, fees)
            elif today and key.brand != ROUNDING:
                act.moved_later += sums.n
    for key, sums in own.items():
        if not sums.n:
            continue
        if key.kind == TAKEN and key.method != LINK:
            attempt(act, key.status, key.method, key.currency, key.code, sums.n, sums.amount)
        elif key.kind == REFUND:
            line = _line(lines, (key.currency, key.method, key.brand))
            line.refunds += sums.amount
            line.refunds_count += sums.n
    return (*_lines(lines), _fee_lines(fee_lines, fees), _activity(act))


def _line(lines: dict[LineKey, _Sums], key: LineKey) -> _Sums:
    sums = lines.get(key)
    if sums is None:
        sums = lines[key] = _Sums()
    return sums


def _moved(
    lines: dict[LineKey, _Sums],
    fee_lines: dict[FeeKey, list[int]],
    key: TallyKey,
    sums: TallySums,
    fees: FeeSchedule,
) -> None:
    if key.method == CASH and key.brand == ROUNDING:
        _rounding(lines, key.currency).gross += sums.captured
        return
    line = _line(lines, (key.currency, key.method, key.brand))
    if key.status == "voided":
        line.voids += sums.amount
        line.voids_count += sums.n
        return
    line.count += sums.n
    line.gross += sums.captured
    line.tips += sums.tips
    line.fees += sums.fees
    line.gst += sums.gst
    rate = fees.rate_of(key.method, key.brand, key.funding)
    shown = (key.funding or "unknown") if key.method == CARD else ""
    fl = fee_lines.setdefault((key.currency, key.method, key.brand, shown, rate), [0, 0, 0, 0])
    for i, value in enumerate((sums.n, sums.captured, sums.fees, sums.gst)):
        fl[i] += value


def by_hour(totals: Mapping[TallyKey, TallySums], currency: str, tz: tzinfo | None) -> list[int]:
    """The captured amount of the day's sales in `currency` by local hour (the
    dashboard's chart)."""
    hours = [0] * 24
    for key, sums in totals.items():
        if key.kind == HOUR and key.currency == currency and sums.n:
            hours[datetime.fromisoformat(key.at).astimezone(tz).hour] += sums.captured
    return hours


def payments_taken(totals: Mapping[TallyKey, TallySums]) -> int:
    """How many payments were taken on the day (payment links included)."""
    return sum(sums.n for key, sums in totals.items() if key.kind == TAKEN)


def rules_fired(totals: Mapping[TallyKey, TallySums]) -> list[tuple[str, int]]:
    """The risk rules that fired on the day's payments, most often first."""
    fired = [(key.code, sums.n) for key, sums in totals.items() if key.kind == RULE and sums.n]
    return sorted(fired, key=lambda kv: (-kv[1], kv[0]))


def model_scores(day: date, totals: Mapping[TallyKey, TallySums]) -> list[Record]:
    """The fraud model's score and decision of each payment it scored on the day, as the
    records `FraudHook.watch` reads them (nothing else of the payments)."""
    taken = f"pay_{day:%Y%m%d}_"
    return [
        {"id": taken, "risk": {"model": {"score": int(key.code), "action": key.status}}}
        for key, sums in totals.items()
        if key.kind == SCORE
        for _ in range(sums.n)
    ]
