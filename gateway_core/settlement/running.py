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
  of their creation (the dashboard's chart); `rule`: the risk rules that fired (count).
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

TAKEN, MOVED, REFUND, HOUR, RULE = "taken", "moved", "refund", "hour", "rule"
Tallies = dict[TallyKey, TallySums]
Parts = tuple[list[Line], list[Line], list[FeeLine], Activity]


def fee_basis(fees: FeeSchedule) -> str:
    """A fingerprint of the fee schedule the `moved` totals' fees were computed under."""
    return hashlib.sha256(fees.model_dump_json().encode()).hexdigest()[:16]


def _floor(stamp: str, minutes: int) -> str:
    at = datetime.fromisoformat(stamp)
    return at.replace(minute=at.minute - at.minute % minutes, second=0, microsecond=0).isoformat()


def _add(into: Tallies, key: TallyKey, sums: TallySums) -> None:
    held = into.get(key)
    into[key] = (
        sums if held is None else TallySums(*(a + b for a, b in zip(held, sums, strict=True)))
    )


def payment_tallies(r: Record, fees: FeeSchedule) -> Tallies:
    """What one stored payment adds to the totals of the day it is filed under."""
    merchant, status, currency = r["merchant_id"], r["status"], r["currency"]
    method, brand = kind_of(r)
    word = "voided" if is_void(r) else status
    captured = r.get("amount_captured", 0)
    code = decline_key(r) if status == "declined" else ""
    out: Tallies = {seen_key("payments"): TallySums(1)}
    taken = TallyKey(merchant, TAKEN, method, brand, "", currency, word, code, r["terminal_id"])
    out[taken] = TallySums(1, r["amount"], captured)
    if status == "succeeded":
        hour = TallyKey(merchant, HOUR, currency=currency, at=_floor(r["created_at"], 15))
        out[hour] = TallySums(1, captured=captured)
    for factor in (r.get("risk") or {}).get("factors", ()):
        _add(out, TallyKey(merchant, RULE, code=factor["rule"]), TallySums(1))
    if method == LINK or word not in ("succeeded", "voided"):
        return out
    funding, at = r.get("funding") or "", _floor(r["updated_at"], 1)
    key = TallyKey(merchant, MOVED, method, brand, funding, currency, word, at=at)
    if word == "voided":
        out[key] = TallySums(1, r["amount"])
        return out
    fee = fees.fee(captured, method, brand, funding)[2]
    tips = min(r.get("tip", 0), captured)
    out[key] = TallySums(1, r["amount"], captured, tips, fee, fee_of(fee, fees.gst_bps))
    if rounding := (r.get("cash") or {}).get("rounding"):
        out[key._replace(brand=ROUNDING, funding="")] = TallySums(1, captured=rounding)
    return out


def refund_tallies(refund: Record, payment: Record | None) -> Tallies:
    """What one refund adds to the totals of the day it is filed under (its payment says
    whose it is and, for a refund stored without it, its method)."""
    out: Tallies = {seen_key("refunds"): TallySums(1)}
    if payment is not None:
        method, brand = kind_of(
            refund if "method" in refund else {**refund, "method": method_of(payment)}
        )
        key = TallyKey(payment["merchant_id"], REFUND, method, brand, currency=refund["currency"])
        out[key] = TallySums(1, refund["amount"])
    return out


def changes(new: Tallies, old: Tallies) -> Tallies:
    """new − old, without the totals that did not change."""
    out: Tallies = {}
    for key in new.keys() | old.keys():
        a, b = new.get(key, TallySums()), old.get(key, TallySums())
        delta = TallySums(*(x - y for x, y in zip(a, b, strict=True)))
        if any(delta):
            out[key] = delta
    return out


def day_tallies(
    payments: Iterable[Record],
    refunds: Iterable[Record],
    payment_of: Callable[[str], Record | None],
    fees: FeeSchedule,
) -> Tallies:
    """A day's totals rebuilt from the records filed under it (every merchant's)."""
    out: Tallies = {}
    written = 0
    for r in payments:
        for key, sums in payment_tallies(r, fees).items():
            _add(out, key, sums)
        written += 1
    for refund in refunds:
        for key, sums in refund_tallies(refund, payment_of(refund["payment_id"])).items():
            _add(out, key, sums)
    if written:
        out[basis_key(fee_basis(fees))] = TallySums(written)
    return out


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
        self._fees = fees
        self._basis = basis_key(fee_basis(fees))
        self._payment_of = payment_of

    def payment_saved(self, day: date, old: Record | None, new: Record) -> None:
        before = payment_tallies(old, self._fees) if old is not None else {}
        delta = changes(payment_tallies(new, self._fees), before)
        delta[self._basis] = TallySums(1)
        self._tallies.add(day, delta)

    def refund_added(self, day: date, refund: Record) -> None:
        self._tallies.add(day, refund_tallies(refund, self._payment_of(refund["payment_id"])))


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


def rules_fired(totals: Mapping[TallyKey, TallySums]) -> list[tuple[str, int]]:
    """The risk rules that fired on the day's payments, most often first."""
    fired = [(key.code, sums.n) for key, sums in totals.items() if key.kind == RULE and sums.n]
    return sorted(fired, key=lambda kv: (-kv[1], kv[0]))
