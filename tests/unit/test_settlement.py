"""Settlement: report arithmetic (property-tested), Z reports, closed days, payout,
reconciliation with injected breaks, and the demo week."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from support import open_runtime

from gateway_core.cards import CardInput
from gateway_core.clock import FixedClock
from gateway_core.errors import InputError
from gateway_core.fees import DEFAULT_MDR_BPS, FeeSchedule, fee_of
from gateway_core.gateway import ChargeRequest, DayClosed
from gateway_core.money import Money
from gateway_core.ports import Approval
from gateway_core.settings import SettingsError, load_settings
from gateway_core.settlement import (
    DayNotReady,
    Entry,
    Settlement,
    match,
    parse_day,
    payout_reference,
    tally,
)
from gateway_core.settlement.models import SUMMED
from gateway_core.store import DataStore

IST = timezone(timedelta(hours=5, minutes=30), "IST")
DAY = date(2026, 11, 20)  # a Friday
MANAGER = Approval("meera", "4321")


def card(pan: str = "4242424242424242", cvv: str = "123") -> CardInput:
    return CardInput(pan=SecretStr(pan), expiry="12/30", cvv=SecretStr(cvv))


def sale(amount: int, pan: str = "4242424242424242", **kw) -> ChargeRequest:
    cvv = "1234" if pan.startswith("37") else "123"
    return ChargeRequest(amount=amount, currency="INR", card=card(pan, cvv), **kw)


# ---------------------------------------------------------------------------- arithmetic
BRANDS = ["visa", "mastercard", "rupay", "amex", "diners", "jcb", "discover", "unionpay"]
CURRENCIES = ["INR", "USD", "JPY"]
amounts = st.integers(min_value=1, max_value=10_000_000)


@st.composite
def payment_records(draw, day: date = DAY) -> dict:
    """A stored payment record as the report sees it: taken on the day or the day
    before, its last change on the day or the next."""
    status = draw(
        st.sampled_from(
            ["succeeded", "succeeded", "succeeded", "void", "canceled", "declined", "open"]
        )
    )
    taken = day - timedelta(days=draw(st.sampled_from([0, 0, 0, 1])))
    moved = taken + timedelta(days=draw(st.sampled_from([0, 0, 0, 1])))
    amount = draw(amounts)
    captured = draw(st.integers(min_value=1, max_value=amount)) if status == "succeeded" else 0
    at = datetime.combine(moved, datetime.min.time(), IST) + timedelta(
        seconds=draw(st.integers(0, 86_399))
    )
    record = {
        "id": f"pay_{taken:%Y%m%d}_{draw(st.uuids()).hex[:10]}",
        "status": {"void": "canceled", "open": "requires_capture"}.get(status, status),
        "amount": amount,
        "tip": draw(st.integers(min_value=0, max_value=amount - 1)),
        "amount_captured": captured,
        "currency": draw(st.sampled_from(CURRENCIES)),
        "card": {"brand": draw(st.sampled_from(BRANDS))},
        "funding": draw(st.sampled_from(["debit", "credit", "prepaid", None])),
        "response_code": "51" if status == "declined" else "00",
        "voided_by": "asha" if status == "void" else None,
        "updated_at": at.isoformat(),
    }
    return record


refund_records = st.builds(
    lambda brand, currency, amount: {"brand": brand, "currency": currency, "amount": amount},
    st.sampled_from(BRANDS),
    st.sampled_from(CURRENCIES),
    amounts,
)
schedules = st.builds(
    lambda gst, default, visa_credit, rupay_debit: FeeSchedule(
        gst_bps=gst,
        default_mdr_bps=default,
        mdr_bps={"visa": {"credit": visa_credit}, "rupay": {"debit": rupay_debit}},
    ),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
)


@settings(max_examples=150, deadline=None)
@given(
    payments=st.lists(payment_records(), max_size=40),
    refunds=st.lists(refund_records, max_size=10),
    schedule=schedules,
)
def test_report_arithmetic_holds_per_brand_and_in_total(payments, refunds, schedule):
    brands, totals, fee_lines, activity = tally(DAY, payments, refunds, schedule, IST)

    # The identities of docs/SETTLEMENT.md, per brand line and per currency total.
    for line in [*brands, *totals]:
        assert line.net_sales == line.gross - line.refunds
        assert line.gross - line.refunds - line.fees - line.gst == line.payout
        assert 0 <= line.tips <= line.gross
    for total in totals:
        mine = [ln for ln in brands if ln.currency == total.currency]
        for name in SUMMED:
            assert getattr(total, name) == sum(getattr(ln, name) for ln in mine), name
    assert {t.currency for t in totals} == {ln.currency for ln in brands}

    # Against an independent count of what moved on the day.
    def moved_today(r):
        return r["updated_at"][:10] == DAY.isoformat()

    for line in brands:
        key = (line.currency, line.brand)

        def mine(r, key=key):
            return (r["currency"], r["card"]["brand"]) == key and moved_today(r)

        captures = [r for r in payments if mine(r) and r["status"] == "succeeded"]
        voids = [r for r in payments if mine(r) and r["voided_by"]]
        fees = [fee_of(r["amount_captured"], schedule.rate(key[1], r["funding"])) for r in captures]
        assert line.count == len(captures)
        assert line.gross == sum(r["amount_captured"] for r in captures)  # voids never sales
        assert (line.voids_count, line.voids) == (len(voids), sum(r["amount"] for r in voids))
        assert line.refunds == sum(
            r["amount"] for r in refunds if (r["currency"], r["brand"]) == key
        )
        assert line.fees == sum(fees)
        assert line.gst == sum(fee_of(fee, schedule.gst_bps) for fee in fees)
    for total in totals:
        mine_fees = [f for f in fee_lines if f.currency == total.currency]
        assert sum(f.fees for f in mine_fees) == total.fees
        assert sum(f.gst for f in mine_fees) == total.gst
        assert sum(f.amount for f in mine_fees) == total.gross

    taken = [r for r in payments if r["id"].startswith(f"pay_{DAY:%Y%m%d}_")]
    assert activity.payments == len(taken)
    assert activity.payments == (
        activity.approved
        + activity.declined
        + activity.failed_otp
        + activity.open
        - sum(1 for r in taken if r["status"] == "requires_capture")
    )


@given(amount=st.integers(-(10**12), 10**12), bps=st.integers(0, 10_000))
def test_fee_rounding_is_money_percent(amount, bps):
    assert fee_of(amount, bps) == Money(amount, "INR").percent(bps).minor


def test_the_default_rates_are_realistic():
    s = FeeSchedule()
    assert s.rate("rupay", "debit") == 0
    assert 40 <= s.rate("visa", "debit") <= 90 and 40 <= s.rate("mastercard", "debit") <= 90
    assert 180 <= s.rate("visa", "credit") <= 200 and 180 <= s.rate("mastercard", "credit") <= 200
    assert 250 <= s.rate("amex", "credit") <= 300
    assert all(200 <= s.rate(b, "credit") <= 250 for b in ("discover", "jcb", "diners"))
    assert s.rate("someday-brand", "credit") == s.default_mdr_bps
    assert s.gst_bps == 1800


def test_fees_are_configurable_brand_by_brand(tmp_path, monkeypatch):
    config = tmp_path / "paygate.toml"
    config.write_text(
        "[fees]\ngst_bps = 1500\npayout_holidays = [2026-11-23]\n"
        "[fees.mdr_bps]\nvisa = { credit = 175 }\n",
        encoding="utf-8",
    )
    fees = load_settings(config, data_dir=tmp_path).fees
    assert fees.rate("visa", "credit") == 175
    assert fees.rate("visa", "debit") == DEFAULT_MDR_BPS["visa"]["debit"]  # kept
    assert fees.gst_bps == 1500
    assert fees.payout_date(DAY) == date(2026, 11, 24)  # Monday is a holiday
    monkeypatch.setenv("PAYGATE_FEES__GST_BPS", "1200")
    assert load_settings(config, data_dir=tmp_path).fees.gst_bps == 1200
    config.write_text("[fees.mdr_bps]\nvisa = { gold = 175 }\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="funding"):
        load_settings(config, data_dir=tmp_path)


@pytest.mark.parametrize(
    ("day", "payout"),
    [
        (date(2026, 11, 19), date(2026, 11, 20)),  # Thu → Fri
        (date(2026, 11, 20), date(2026, 11, 23)),  # Fri → Mon
        (date(2026, 11, 21), date(2026, 11, 23)),  # Sat → Mon
        (date(2026, 11, 22), date(2026, 11, 23)),  # Sun → Mon
    ],
)
def test_payout_is_the_next_business_day(day, payout):
    assert FeeSchedule().payout_date(day) == payout


def test_payout_reference_is_deterministic_from_merchant_and_day():
    ref = payout_reference("PAYGATEDEMO0001", DAY)
    assert ref == payout_reference("PAYGATEDEMO0001", DAY)
    assert ref.startswith("PGS20261120") and len(ref) == 19
    assert ref != payout_reference("OTHERMERCHANT01", DAY)
    assert ref != payout_reference("PAYGATEDEMO0001", DAY + timedelta(days=1))
    assert payout_reference("PAYGATEDEMO0001", DAY, "USD") == ref + "-USD"


@pytest.mark.parametrize(
    "text", ["2026/11/20", "20261120", "2026-W47-5", "yesterday", "2026-02-30"]
)
def test_a_date_is_yyyy_mm_dd_on_the_calendar(text):
    with pytest.raises(InputError):
        parse_day(text)
    assert parse_day("2026-11-20") == DAY


# ---------------------------------------------------------------------------- Z reports
@pytest.fixture
def day_clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 20, 10, 0, tzinfo=IST))


@pytest.fixture
def rt(settings, day_clock):
    runtime = open_runtime(settings, clock=day_clock)
    yield runtime
    runtime.close()


def service(rt, settings) -> Settlement:
    return Settlement(rt.records, settings, audit=rt.audit, clock=rt.clock)


async def test_a_z_report_closes_the_day_once_and_is_idempotent(rt, settings, day_clock):
    gw = rt.gateway
    paid = await gw.charge(sale(1_000_00, tip=100_00))
    await gw.charge(sale(500_00, "6521500000000014"))
    hold = await gw.charge(sale(300_00, "5555555555554444", capture="manual"))
    svc = service(rt, settings)
    with pytest.raises(DayNotReady, match="still open"):
        svc.close_day(DAY)
    assert svc.closing(DAY) is None
    await gw.capture(hold.id, 250_00)
    await gw.refund(paid.id, 200_00, approval=MANAGER)
    x = svc.x_report(DAY)
    preview = svc.z_preview(DAY)
    assert (preview.kind, preview.number, svc.closing(DAY)) == ("Z", 1, None)
    z, already = svc.close_day(DAY, closed_by="meera")
    assert (z.kind, z.number, already) == ("Z", 1, False)
    assert z.totals == x.totals and z.brands == x.brands
    assert z.total().payout == 1_000_00 + 500_00 + 250_00 - 200_00 - z.total().fees - z.total().gst
    assert z.audit_head["seq"] > 0 and len(z.digest) == 64
    again, already = svc.close_day(DAY)
    assert already and again.model_dump() == z.model_dump()
    assert len(svc.closings()) == 1
    assert rt.audit.verify().ok
    assert svc.check_closing(DAY) == []
    # the next day is numbered next; a day with nothing is not closed
    day_clock.advance(days=1)
    await gw.charge(sale(80_00))
    assert svc.close_day(DAY + timedelta(days=1))[0].number == 2
    with pytest.raises(DayNotReady, match="nothing to close"):
        svc.close_day(DAY - timedelta(days=3))
    with pytest.raises(InputError, match="future"):
        svc.close_day(DAY + timedelta(days=2))


async def test_a_closed_day_cannot_change_but_a_later_refund_is_its_own_days(
    rt, settings, day_clock
):
    gw = rt.gateway
    paid = await gw.charge(sale(1_000_00))
    svc = service(rt, settings)
    z, _ = svc.close_day(DAY, closed_by="meera")
    # today is closed: nothing new today, not even for an open payment of an earlier day
    with pytest.raises(DayClosed, match="closed"):
        await gw.charge(sale(10_00))
    with pytest.raises(DayClosed):
        await gw.refund(paid.id, 10_00, approval=MANAGER)
    # a closed day's payments: capture and void refused with the closed-day reason
    day_clock.advance(days=1)
    for attempt in (gw.capture(paid.id), gw.void(paid.id, approval=MANAGER)):
        with pytest.raises(DayClosed, match=f"business day {DAY} is closed"):
            await attempt
    # a refund the next day is allowed, filed on its own day, and leaves the Z alone
    refunded = await gw.refund(paid.id, 300_00, approval=MANAGER)
    assert refunded.amount_refunded == 300_00
    assert svc.closing(DAY).model_dump() == z.model_dump()
    assert svc.x_report(DAY).totals == z.totals
    assert svc.check_closing(DAY) == []
    next_day = svc.x_report(DAY + timedelta(days=1))
    assert (next_day.total().refunds, next_day.total().payout) == (300_00, -300_00)


async def test_an_open_payment_of_an_earlier_day_waits_while_today_is_closed(
    rt, settings, day_clock
):
    gw = rt.gateway
    hold = await gw.charge(sale(400_00, capture="manual"))
    day_clock.advance(days=1)
    await gw.charge(sale(100_00))
    svc = service(rt, settings)
    svc.close_day(DAY + timedelta(days=1))  # today; yesterday's pre-auth stays open
    with pytest.raises(DayClosed, match="no more payments"):
        await gw.capture(hold.id)
    assert gw.get(hold.id).status == "requires_capture"  # nothing reached the bank
    assert await gw.repair() == []  # repair leaves it for tomorrow, quietly
    day_clock.advance(days=1)
    captured = await gw.capture(hold.id, 350_00)
    assert captured.status == "succeeded"
    # the capture counts on the day it happened, like the acquirer's clearing file
    assert svc.x_report(DAY).total().count == 0
    assert svc.x_report(DAY).activity.moved_later == 1
    assert svc.x_report(DAY + timedelta(days=2)).total().gross == 350_00
    assert (await svc.reconcile(DAY + timedelta(days=2), gw.bank)).ok
    assert svc.check_closing(DAY + timedelta(days=1)) == []  # yesterday's Z still stands


async def test_tampering_with_a_closed_day_is_found(rt, settings):
    gw = rt.gateway
    paid = await gw.charge(sale(1_000_00))
    svc = service(rt, settings)
    svc.close_day(DAY, closed_by="meera")
    payments = rt.store.day(DAY).table("payments")
    payments.update({"amount_captured": 900_00}, doc_ids=[payments.all()[0].doc_id])
    assert any("no longer add up" in p for p in svc.check_closing(DAY))
    closings = rt.store.main.table("closings")
    closings.update({"merchant_name": "Someone Else"}, doc_ids=[DAY.toordinal()])
    assert any("digest" in p for p in svc.check_closing(DAY))
    audit = rt.store.day(DAY).table("audit")
    audit.remove(doc_ids=[e.doc_id for e in audit if e["action"] == "day.closed"])
    assert any("no signed record" in p for p in svc.check_closing(DAY))
    assert paid.id


@given(st.integers(-(10**15), 10**15), st.sampled_from(["INR", "JPY", "KWD", "USD"]))
def test_csv_amounts_are_format_plain(minor, currency):
    from gateway_core.money import currency_exponent
    from gateway_core.presentation import format_plain
    from gateway_core.settlement import plain_amount

    assert plain_amount(minor, currency_exponent(currency)) == format_plain(Money(minor, currency))


# ---------------------------------------------------------------------------- reconciliation
def entry(kind: str, ref: str, amount: int, currency: str = "INR") -> Entry:
    return Entry(
        kind=kind, ref=ref, payment_id=ref.replace("re_", "pay_"), amount=amount, currency=currency
    )


@given(
    st.lists(st.tuples(st.sampled_from(["capture", "refund"]), st.integers(1, 10**6)), max_size=30),
    st.data(),
)
def test_match_finds_exactly_the_injected_breaks(rows, data):
    ours = [
        entry(kind, f"pay_{n}" if kind == "capture" else f"re_{n}", amount)
        for n, (kind, amount) in enumerate(rows)
    ]
    theirs = [e.model_copy() for e in ours]
    # break some: drop at the acquirer, change an amount, add a stranger and a duplicate
    dropped = data.draw(st.sets(st.sampled_from(range(len(ours))))) if ours else set()
    changed = data.draw(st.sets(st.sampled_from(range(len(ours))))) - dropped if ours else set()
    for i in changed:
        theirs[i] = theirs[i].model_copy(update={"amount": theirs[i].amount + 1})
    kept = [e for i, e in enumerate(theirs) if i not in dropped]
    strangers = [entry("capture", f"pay_x{n}", 5) for n in range(data.draw(st.integers(0, 3)))]
    duplicates = [kept[0].model_copy()] if kept and data.draw(st.booleans()) else []
    rec = match(DAY, ours, kept + strangers + duplicates)
    assert {e.ref for e in rec.missing_at_acquirer} == {ours[i].ref for i in dropped}
    assert {m.gateway.ref for m in rec.amount_mismatch} == {ours[i].ref for i in changed}
    assert all(m.difference == -1 for m in rec.amount_mismatch)
    assert sorted(e.ref for e in rec.missing_at_gateway) == sorted(
        e.ref for e in strangers + duplicates
    )
    assert len(rec.matched) == len(ours) - len(dropped) - len(changed)
    assert rec.ok == (not dropped and not changed and not strangers and not duplicates)


async def test_reconciliation_of_a_copy_with_injected_breaks(settings, day_clock, tmp_path):
    rt = open_runtime(settings, clock=day_clock)
    try:
        gw = rt.gateway
        cards = ("4242424242424242", "4111111111111111", "5555555555554444", "6521500000000014")
        sales = [
            await gw.charge(sale(amount, pan))
            for amount, pan in zip((100_00, 200_00, 300_00, 400_00), cards, strict=True)
        ]
        await gw.refund(sales[0].id, 50_00, approval=MANAGER)
        refund_id = gw.get(sales[0].id).refunds[0].id
        clean = await service(rt, settings).reconcile(DAY, gw.bank)
    finally:
        await rt.aclose()
    assert clean.ok and len(clean.matched) == 5

    copy = tmp_path / "copy"
    shutil.copytree(settings.data_dir, copy)
    with DataStore(copy / "banks") as banks:
        clearing = banks.day(DAY).table("clearing")
        rows = {doc["ref"]: doc for doc in clearing}
        clearing.remove(doc_ids=[rows[sales[1].id].doc_id])  # missing at the acquirer
        clearing.update({"amount": 299_00}, doc_ids=[rows[sales[2].id].doc_id])  # mismatch
        stranger = dict(
            rows[sales[3].id], ref="pay_20261120_0000000000", payment_id="pay_20261120_0000000000"
        )
        clearing.insert(stranger)  # missing at the gateway
    with DataStore(copy) as gateway_side:
        refunds = gateway_side.day(DAY).table("refunds")
        refunds.remove(doc_ids=[refunds.all()[0].doc_id])  # the refund: missing at the gateway

    broken_settings = settings.model_copy(update={"data_dir": copy})
    rt = open_runtime(broken_settings, clock=day_clock)
    try:
        rec = await service(rt, broken_settings).reconcile(DAY, rt.gateway.bank)
    finally:
        await rt.aclose()
    assert [e.ref for e in rec.missing_at_acquirer] == [sales[1].id]
    assert [
        (m.gateway.ref, m.gateway.amount, m.acquirer.amount, m.difference)
        for m in rec.amount_mismatch
    ] == [(sales[2].id, 300_00, 299_00, 1_00)]
    assert sorted(e.ref for e in rec.missing_at_gateway) == sorted(
        ["pay_20261120_0000000000", refund_id]
    )
    assert [e.ref for e in rec.matched] == [sales[0].id, sales[3].id]
    summary = rec.summary()
    assert summary["missing_at_acquirer"] == {"count": 1, "amount": {"INR": 200_00}}
    assert summary["missing_at_gateway"]["amount"] == {"INR": 400_00 + 50_00}
    assert summary["amount_mismatch"]["difference"] == {"INR": 1_00}


# ---------------------------------------------------------------------------- demo week
def test_the_demo_history_is_a_realistic_week_with_a_closed_day(settings):
    from bank_sim.demo import seed_demo_history

    now = datetime(2026, 11, 20, 15, 0, tzinfo=IST)
    lines: list[str] = []
    week = seed_demo_history(settings, days=3, per_day=40, now=now, seed=3, progress=lines.append)
    assert week.days == [date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)]
    assert week.closed == [(date(2026, 11, 18), 1)] and len(lines) == 3
    assert 80 < week.payments <= 120
    with open_runtime(settings, read_only=True) as rt:
        svc = Settlement(rt.records, settings, clock=FixedClock(now))
        z = svc.closing(date(2026, 11, 18))
        assert z is not None and svc.check_closing(z.day) == []
        x = svc.x_report(date(2026, 11, 19))
        assert x.closed_as is None and x.activity.payments == 40
        assert len(x.brands) >= 4  # a mix of brands
        assert rt.audit.verify().ok
