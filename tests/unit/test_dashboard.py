"""The merchant console's arithmetic without Textual: the dashboard agrees with the X
report, the transaction search finds what it says, sorts and pages every row once, and
the audit filters narrow the log."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import open_runtime

from gateway_core.dashboard import (
    PAGE_SIZE,
    SORTS,
    Ledger,
    audit_events,
    day_stats,
    events_of,
    filter_events,
    ledger_of,
    opening_hours,
    page,
    read_day,
    record_word,
)
from gateway_core.errors import InputError
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings, load_settings
from gateway_core.settlement import Settlement
from gateway_core.settlement.running import day_tallies

IST = datetime.fromisoformat("2026-11-28T00:00:00+05:30").tzinfo
DAY = date(2026, 11, 28)
BRANDS = ["visa", "mastercard", "rupay", "amex"]


@st.composite
def records(draw, n: int) -> dict:
    """A stored payment record of DAY (or, now and then, of the day before)."""
    status = draw(
        st.sampled_from(["succeeded", "succeeded", "declined", "canceled", "requires_capture"])
    )
    amount = draw(st.integers(1, 5_000_00))
    taken = DAY - timedelta(days=draw(st.sampled_from([0, 0, 0, 1])))
    at = datetime.combine(taken, datetime.min.time()).replace(tzinfo=IST) + timedelta(
        seconds=draw(st.integers(9 * 3600, 21 * 3600))
    )
    factors = draw(st.lists(st.sampled_from(["velocity", "step_up_threshold"]), max_size=2))
    return {
        "id": f"pay_{taken:%Y%m%d}_{n:010d}",
        "status": status,
        "amount": amount,
        "amount_captured": amount if status == "succeeded" else 0,
        "currency": "INR",
        "card": {
            "brand": draw(st.sampled_from(BRANDS)),
            "last4": f"{draw(st.integers(0, 9999)):04d}",
        },
        "funding": "debit",
        "response_code": "51" if status == "declined" else "00",
        "voided_by": "asha" if status == "canceled" and draw(st.booleans()) else None,
        "risk": {"factors": [{"rule": f, "points": 10, "reason": ""} for f in factors]},
        "created_at": at.isoformat(),
        "updated_at": at.isoformat(),
    }


@st.composite
def days(draw) -> list[dict]:
    size = draw(st.integers(0, 30))
    return [draw(records(n)) for n in range(1, size + 1)]


@pytest.fixture
def service(runtime: Runtime, settings: Settings) -> Settlement:
    return Settlement(runtime.records, settings, audit=runtime.audit, clock=runtime.clock)


# ---------------------------------------------------------------------------- dashboard
@settings(max_examples=60, deadline=None)
@given(payments=days())
def test_the_dashboard_agrees_with_the_x_report(payments, tmp_path_factory) -> None:
    settings_ = load_settings(data_dir=tmp_path_factory.mktemp("dash"), timezone="Asia/Kolkata")
    with open_runtime(settings_) as rt:
        service = Settlement(rt.records, settings_, audit=rt.audit, clock=rt.clock)
        report = service.report_of(DAY, payments, [])
    own = [
        dict(r, merchant_id="m", terminal_id="T1") for r in payments if r["id"][4:12] == "20261128"
    ]
    totals = day_tallies(own, [], lambda _id: None, settings_.fees)  # the day's running totals
    stats = day_stats(report, {k: v for k, v in totals.items() if k.merchant_id == "m"}, settings_)
    figures, total = stats.figures, report.total("INR")
    assert (figures.gross, figures.sales, figures.net) == (
        total.gross,
        total.count,
        total.net_sales,
    )
    assert figures.average * figures.sales <= figures.gross
    assert figures.payments == report.activity.payments
    assert sum(n for _brand, n, _amount in stats.brands) == figures.sales
    assert sum(amount for _brand, _n, amount in stats.brands) == figures.gross
    # Sales by hour: every captured sale taken on the day, in the hour it was taken.
    today = [r for r in payments if r["id"].startswith("pay_20261128_")]
    captured = [r for r in today if r["status"] == "succeeded"]
    assert sum(stats.by_hour) == sum(r["amount_captured"] for r in captured)
    fired = sum(len(r["risk"]["factors"]) for r in today)
    assert sum(n for _rule, n in stats.rules) == fired


def test_opening_hours_cover_the_sales_and_a_shop_day() -> None:
    hours = [0] * 24
    assert opening_hours(hours) == range(9, 22)
    hours[7] = hours[22] = 1
    assert opening_hours(hours) == range(7, 23)


def test_an_empty_day_reads_as_nothing(runtime: Runtime, service: Settlement) -> None:
    assert read_day(runtime.records, service, DAY) == ([], [])


def test_audit_events_from_a_day_on(runtime: Runtime, clock) -> None:
    runtime.audit.record("asha", "user.login", "asha")
    clock.advance(days=1)
    runtime.audit.record("meera", "user.login", "meera")
    assert [e["actor"] for e in audit_events(runtime.records)] == ["asha", "meera"]
    assert [e["actor"] for e in audit_events(runtime.records, since=date(2026, 11, 29))] == [
        "meera"
    ]


# ---------------------------------------------------------------------------- the ledger
def ledger(rows: list[dict], refunded: dict[str, int] | None = None) -> Ledger:
    return Ledger(rows, refunded or {}, "INR")


@settings(max_examples=80, deadline=None)
@given(
    rows=days(),
    sort=st.sampled_from(SORTS),
    descending=st.booleans(),
    word=st.text(alphabet="0123456789visapoe.", max_size=5),
)
def test_select_finds_sorts_and_pages_every_row_once(rows, sort, descending, word) -> None:
    book = ledger(rows)
    found = book.select(word, sort, descending)
    ids = [r["id"] for r in found]
    assert len(ids) == len(set(ids)) and set(ids) <= {r["id"] for r in rows}
    if not word.strip():
        assert len(found) == len(rows)
    pages = [page(found, n, 7) for n in range(len(found) // 7 + 1)]
    assert [r for p in pages for r in p] == found
    assert page(found, 0) == found[:PAGE_SIZE]


def test_search_words_mean_last4_id_amount_status_or_brand() -> None:
    rows = [
        {
            "id": "pay_20261128_0000000001",
            "status": "succeeded",
            "amount": 1_250_00,
            "amount_captured": 1_250_00,
            "card": {"brand": "visa", "last4": "4242"},
            "created_at": "2026-11-28T10:00:00+05:30",
        },
        {
            "id": "pay_20261128_0000000002",
            "status": "declined",
            "amount": 4_242_00,
            "amount_captured": 0,
            "card": {"brand": "mastercard", "last4": "4444"},
            "created_at": "2026-11-28T11:00:00+05:30",
        },
    ]
    book = ledger(rows, {"pay_20261128_0000000001": 250_00})

    def found(query: str) -> list[str]:
        return [r["id"][-1] for r in book.select(query, "time", False)]

    assert found("4444") == ["2"]  # last-4
    assert found("4242") == ["1", "2"]  # the last-4 of one, the amount of the other
    assert found("1250") == ["1"] and found("1,250.00") == ["1"]  # an amount
    assert found("0000000002") == ["2"]  # a part of the id
    assert found("declined") == ["2"] and found("part") == ["1"]  # a status
    assert found("master") == ["2"]  # a brand
    assert found("visa part") == ["1"] and found("visa declined") == []  # every word
    assert [r["id"][-1] for r in book.select("", "amount", True)] == ["2", "1"]
    with pytest.raises(InputError):
        book.select("", "colour")


@pytest.mark.parametrize(
    ("record", "refunded", "word"),
    [
        ({"status": "succeeded", "amount_captured": 100}, 0, "approved"),
        ({"status": "succeeded", "amount_captured": 100}, 40, "partly refunded"),
        ({"status": "succeeded", "amount_captured": 100}, 100, "refunded"),
        ({"status": "canceled", "voided_by": "asha"}, 0, "voided"),
        ({"status": "canceled", "voided_by": None}, 0, "canceled"),
        ({"status": "requires_capture"}, 0, "authorized"),
        ({"status": "requires_action"}, 0, "OTP pending"),
        ({"status": "declined"}, 0, "declined"),
        ({"status": "unknown"}, 0, "unknown"),
    ],
)
def test_status_words(record: dict, refunded: int, word: str) -> None:
    assert record_word(record, refunded) == word


def test_the_ledger_holds_the_days_own_payments_with_their_refunds() -> None:
    rows = [{"id": "pay_20261128_0000000001"}, {"id": "pay_20261127_0000000009"}]
    refunds = [
        {"payment_id": "pay_20261128_0000000001", "amount": 100},
        {"payment_id": "pay_20261128_0000000001", "amount": 50},
    ]
    book = ledger_of(DAY, rows, refunds, "INR")
    assert [r["id"] for r in book.records] == ["pay_20261128_0000000001"]
    assert book.refunded == {"pay_20261128_0000000001": 150}


# ---------------------------------------------------------------------------- audit
EVENTS = [
    {
        "seq": 1,
        "time": "2026-11-27T20:00:00.000+05:30",
        "actor": "asha",
        "action": "user.login",
        "subject": "asha",
    },
    {
        "seq": 2,
        "time": "2026-11-28T09:00:00.000+05:30",
        "actor": "meera",
        "action": "approval.granted",
        "subject": "pay_20261128_0000000001",
    },
    {
        "seq": 3,
        "time": "2026-11-28T09:01:00.000+05:30",
        "actor": "asha",
        "action": "payment.refunded",
        "subject": "pay_20261128_0000000001",
    },
    {"seq": 4, "time": "garbled", "actor": "mallory", "action": "payment.created", "subject": ""},
]


def test_audit_filters() -> None:
    def seqs(**kw) -> list[int]:
        return [e["seq"] for e in filter_events(EVENTS, tz=IST, **kw)]

    assert seqs() == [1, 2, 3, 4]
    assert seqs(actor="ME") == [2]
    assert seqs(action="payment") == [3, 4]
    assert seqs(day=date(2026, 11, 28)) == [2, 3]  # a garbled time is on no day
    assert seqs(actor="asha", day=date(2026, 11, 27)) == [1]
    assert [e["seq"] for e in events_of(EVENTS, "pay_20261128_0000000001")] == [2, 3]
