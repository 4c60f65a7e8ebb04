"""Running totals (`settlement.running`, `store.tallies`): for any sequence of sales,
declines, voids, captures (pending → succeeded, a pre-authorization captured the next
day), refunds and a Z report over two days, the X report read from the totals is the X
report of a full scan of the records, for each merchant; and so are the dashboard's
sales by hour, the risk rules that fired and the fraud model's day. Totals written
around (records stored without them) or under another fee schedule are rebuilt from the
records."""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway_core.clock import FixedClock
from gateway_core.fees import FeeSchedule
from gateway_core.fraud.monitor import watch_day
from gateway_core.settings import Settings, load_settings
from gateway_core.settlement import Settlement
from gateway_core.settlement.running import by_hour, fee_basis, model_scores, rules_fired
from gateway_core.store import DataStore
from gateway_core.store.records import TinyRecords
from gateway_core.store.repos import TinyPaymentRepository, TinyRefundRepository

IST = timezone(timedelta(hours=5, minutes=30))
DAY1, DAY2 = date(2026, 11, 27), date(2026, 11, 28)
HOME, OTHER = "m_home", "m_other"
Record = dict[str, Any]

# (method, card brand or bank, funding)
TENDERS = [
    ("card", "visa", "credit"),
    ("card", "visa", "debit"),
    ("card", "rupay", None),
    ("card", "amex", "credit"),
    ("upi", "", None),
    ("netbanking", "DEMOA", None),
    ("netbanking", "DEMOB", None),
    ("cash", "", None),
    ("link", "", None),
]
MODEL = ["allow", "review", "block"]  # the fraud model's decisions
OUTCOMES = ["succeeded", "declined", "requires_capture", "pending", "canceled", "expired"]

sale = st.tuples(
    st.just("sale"),
    st.sampled_from([DAY1, DAY2]),
    st.integers(0, len(TENDERS) - 1),
    st.sampled_from(OUTCOMES),
    st.integers(1, 500_000),  # amount
    st.integers(0, 24 * 60 - 1),  # minute of the day it was taken
    st.sampled_from([HOME, HOME, OTHER]),
    st.sampled_from(["T1", "T2"]),
    st.sampled_from(["05", "51", "91", None]),  # a decline's code (None: risk)
    st.lists(st.sampled_from(["velocity", "new_card", "amount"]), max_size=2),
    st.integers(-50, 50),  # cash rounding, tip
)
change = st.tuples(
    st.sampled_from(["void", "capture", "refund"]),
    st.integers(0, 400),  # which payment
    st.integers(1, 400_000),  # amount (capture, refund)
    st.integers(1, 3000),  # minutes later
)
close = st.tuples(st.just("close"), st.integers(0, 24 * 60 - 1))
ops = st.lists(st.one_of(sale, sale, change, close), min_size=1, max_size=40)


def at(day: date, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=IST) + timedelta(minutes=minute)


class Day:
    """A data dir written through the repositories, totals kept by their hooks."""

    def __init__(self, data_dir: Path, fees: FeeSchedule) -> None:
        self.store = DataStore(data_dir)
        self.records = TinyRecords(self.store, home=HOME, fees=fees)
        self.tallies = self.records.tallies
        self.plain = TinyPaymentRepository(self.store)
        self.payments, self.refunds = self.records.payments, self.records.refunds
        self.taken: list[tuple[date, Record]] = []
        self.refunded: dict[str, int] = {}
        self.closed = False

    def run(self, op: tuple) -> None:
        getattr(self, op[0])(*op[1:])

    def sale(self, day, tender, outcome, amount, minute, merchant, terminal, code, rules, extra):
        if day == DAY1 and self.closed:
            day = DAY2
        method, brand, funding = TENDERS[tender]
        if outcome == "succeeded" and method == "upi" and extra < 0:
            outcome = "pending"
        when = at(day, minute).isoformat()
        r: Record = {
            "id": f"pay_{day:%Y%m%d}_{len(self.taken):010x}",
            "merchant_id": merchant,
            "method": method,
            "status": outcome,
            "currency": "INR",
            "amount": amount,
            "amount_captured": amount if outcome == "succeeded" else 0,
            "terminal_id": terminal,
            "created_at": when,
            "updated_at": when,
            "card": {"brand": brand, "last4": "4242"} if method == "card" else None,
            "funding": funding,
            "risk": {
                "factors": [{"rule": rule} for rule in rules],
                **(
                    {"model": {"score": amount % 101, "action": MODEL[amount % 3]}} if extra else {}
                ),
            }
            if rules or extra
            else None,
        }
        if method == "netbanking":
            r["netbanking"] = {"bank": brand}
        if method == "cash":
            r["cash"] = {"rounding": extra % 3 - 1}
        if outcome == "succeeded" and method == "card" and extra > 0:
            r["tip"] = extra
        if outcome == "declined":
            r["response_code"] = code
            r["decline_code"] = "blocked_by_risk" if code is None and extra % 2 else "x"
        if outcome == "canceled" and extra % 2:
            r["voided_by"] = "asha"
        self.payments.save(day, r)
        self.taken.append((day, r))

    def _later(self, index: int, minutes: int) -> tuple[date, Record, str] | None:
        if not self.taken:
            return None
        day, r = self.taken[index % len(self.taken)]
        when = datetime.fromisoformat(r["updated_at"]) + timedelta(minutes=minutes)
        if self.closed and day == DAY1:
            return None  # a closed day changes no more
        return day, r, min(when, at(DAY2, 24 * 60 - 1)).isoformat()

    def void(self, index, _amount, minutes):
        found = self._later(index, minutes)
        if found and found[1]["status"] == "requires_capture":
            day, r, when = found
            r.update(status="canceled", voided_by="meera", updated_at=when)
            self.payments.save(day, dict(r))

    def capture(self, index, amount, minutes):
        found = self._later(index, minutes)
        if found and found[1]["status"] in ("requires_capture", "pending"):
            day, r, when = found
            captured = min(amount, r["amount"])
            r.update(status="succeeded", amount_captured=captured, updated_at=when)
            self.payments.save(day, dict(r))

    def refund(self, index, amount, minutes):
        found = self._later(index, minutes)
        if found is None or found[1]["status"] != "succeeded" or found[1]["method"] == "link":
            return
        _day, r, when = found
        left = r["amount_captured"] - self.refunded.get(r["id"], 0)
        if left <= 0:
            return
        amount = min(amount, left)
        self.refunded[r["id"]] = self.refunded.get(r["id"], 0) + amount
        refund = {
            "id": f"re_{r['id'][4:]}_{len(self.refunded)}",
            "payment_id": r["id"],
            "amount": amount,
            "currency": "INR",
            "brand": (r.get("card") or r.get("netbanking") or {}).get("brand")
            or (r.get("netbanking") or {}).get("bank")
            or r["method"],
            "created_at": when,
        }
        if index % 2:
            refund["method"] = r["method"]
        filed = DAY2 if self.closed or when >= at(DAY2, 0).isoformat() else DAY1
        self.refunds.add(filed, refund)

    def close(self, minute):
        if self.closed:
            return
        self.closed = True
        when = max(
            at(DAY1, minute),
            *(datetime.fromisoformat(r["updated_at"]) for d, r in self.taken if d == DAY1),
            at(DAY1, 0),
        )
        report = {"day": DAY1.isoformat(), "number": 1, "closed_at": when.isoformat()}
        self.records.closings(HOME).add(DAY1, report)


def settings_for(data_dir: Path, **more: Any) -> Settings:
    return load_settings(
        data_dir=data_dir, timezone="Asia/Kolkata", merchant_id=HOME, currency="INR", **more
    )


def scanned_hours_and_rules(s: Settlement, day: date, tz: Any) -> tuple[list[int], list]:
    """The dashboard's sales by hour and risk rules, added up from the records."""
    hours, rules = [0] * 24, {}
    for r in s.candidates(day):
        if not r["id"].startswith(f"pay_{day:%Y%m%d}_"):
            continue
        for factor in (r.get("risk") or {}).get("factors") or ():
            rules[factor["rule"]] = rules.get(factor["rule"], 0) + 1
        if r["status"] == "succeeded":
            hours[datetime.fromisoformat(r["created_at"]).astimezone(tz).hour] += r[
                "amount_captured"
            ]
    return hours, sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))


def assert_totals_are_the_scan(store: DataStore, config: Settings) -> None:
    clock = FixedClock(at(DAY2, 23 * 60 + 59))
    records = TinyRecords(store, home=HOME)  # a reader: keeps no totals itself
    for merchant in (HOME, OTHER):
        s = Settlement(records, config, clock=clock, merchant_id=merchant)
        for day in (DAY1, DAY2):
            scanned = s.report_of(day, s.candidates(day), s.refunds(day))
            assert s.report(day) == scanned, (merchant, day)
            totals = s.totals(day)
            hours, rules = scanned_hours_and_rules(s, day, config.tz)
            assert by_hour(totals, "INR", config.tz) == hours
            assert rules_fired(totals) == rules
            scanned_model = watch_day(day, s.candidates(day), [0.2] * 5, 0.25)
            assert watch_day(day, model_scores(day, totals), [0.2] * 5, 0.25) == scanned_model


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_totals_are_a_full_scan(sequence: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = settings_for(Path(tmp))
        day = Day(Path(tmp), config.fees)
        try:
            for op in sequence:
                day.run(op)
            tallies = day.tallies
            for d in (DAY1, DAY2):
                assert tallies.fresh(d, fee_basis(config.fees)) or not day.store.has_day(d)
            assert_totals_are_the_scan(day.store, config)
        finally:
            day.store.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops, st.lists(sale, min_size=1, max_size=10))
def test_totals_written_around_are_rebuilt(before: list[tuple], around: list[tuple]) -> None:
    """Payments stored without totals (by an older version; a benchmark's day filled
    directly) make the day's totals stale: the reader rebuilds them from the records, and
    stores them."""
    with tempfile.TemporaryDirectory() as tmp:
        config = settings_for(Path(tmp))
        day = Day(Path(tmp), config.fees)
        try:
            for op in before:
                day.run(op)
            day.payments, day.refunds = day.plain, TinyRefundRepository(day.store)
            for op in around:
                day.run(op)
            assert_totals_are_the_scan(day.store, config)
            for d in (DAY1, DAY2):
                assert day.tallies.fresh(d, fee_basis(config.fees))
        finally:
            day.store.close()


def test_another_fee_schedule_rebuilds_the_totals(tmp_path: Path) -> None:
    """Fees are kept under the writer's schedule: a reader with another one gets its
    own (the records added up again), never the writer's fees."""
    config = settings_for(tmp_path)
    day = Day(tmp_path, config.fees)
    try:
        for minute in range(0, 600, 37):
            day.sale(
                DAY2, minute % 4, "succeeded", 10_000 + minute, minute, HOME, "T1", None, [], 0
            )
        dearer = config.model_copy(update={"fees": FeeSchedule(default_mdr_bps=350, gst_bps=900)})
        assert not day.tallies.fresh(DAY2, fee_basis(dearer.fees))
        assert_totals_are_the_scan(day.store, dearer)
        assert day.tallies.fresh(DAY2, fee_basis(dearer.fees))
        assert not day.tallies.fresh(DAY2, fee_basis(config.fees))
    finally:
        day.store.close()
