"""Settlement groups by payment method: lines per method (and, for cards, per brand),
a subtotal and a payout per method, the method in the text report and the export, and
the totals the sum of the methods'."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from support import MANAGER, VISA, card_for, charge

from gateway_core.dashboard import SORTS, day_stats, ledger_of, read_day
from gateway_core.fees import FeeSchedule
from gateway_core.runtime import Runtime
from gateway_core.settings import load_settings
from gateway_core.settlement import (
    ALL,
    CARD,
    DayReport,
    Settlement,
    format_report,
    method_totals,
    payout_lines,
    payout_reference,
    tally,
)
from gateway_core.settlement.models import SUMMED

IST = timezone(timedelta(hours=5, minutes=30), "IST")
DAY = date(2026, 11, 28)
UPI_ID = "pay_20261128_0000000a01"


def other_method(card_payment: dict, method: str, payment_id: str, amount: int) -> dict:
    """A stored payment document of another method, shaped like the card one the gateway
    stored (no card, no funding, no acquirer's references)."""
    doc = {k: v for k, v in card_payment.items() if k not in ("funding", "rrn")}
    return {
        **doc,
        "id": payment_id,
        "method": method,
        "card": None,
        "amount": amount,
        "amount_captured": amount,
    }


async def mixed_day(rt: Runtime) -> Settlement:
    """Two card sales (Visa, RuPay), one refunded in part, and a UPI sale of ₹700 with a
    ₹100 refund, written through the repositories the gateway stores with."""
    paid = await rt.gateway.charge(charge(VISA, 1_000_00))
    await rt.gateway.charge(charge(card_for("6521 5000 0000 0014"), 500_00))  # RuPay
    await rt.gateway.refund(paid.id, 200_00, approval=MANAGER)
    payments, refunds = rt.records.payments, rt.records.refunds
    stored = payments.get(DAY, paid.id)
    assert stored is not None and stored.get("method", CARD) == CARD
    payments.save(DAY, other_method(stored, "upi", UPI_ID, 700_00))
    card_refund = refunds.for_day(DAY)[0]
    upi_refund = {
        **card_refund,
        "id": "re_upi0000001",
        "payment_id": UPI_ID,
        "amount": 100_00,
        "brand": "upi",  # what a refund of another method names (no method of its own)
    }
    upi_refund.pop("rrn", None)
    refunds.add(DAY, upi_refund)
    return Settlement(rt.records, rt.settings, audit=rt.audit, clock=rt.clock)


async def test_a_day_of_cards_and_upi_shows_both_methods_and_balances(runtime):
    svc = await mixed_day(runtime)
    x = svc.x_report(DAY)
    assert [(ln.method, ln.brand) for ln in x.brands] == [
        ("card", "visa"),
        ("card", "rupay"),
        ("upi", "upi"),
    ]
    upi = x.brands[-1]
    assert (upi.count, upi.gross, upi.refunds, upi.net_sales) == (1, 700_00, 100_00, 600_00)
    assert (upi.fees, upi.gst, upi.payout) == (0, 0, 600_00)  # UPI: zero MDR
    # per method: the subtotal is the sum of the method's lines; the total of the methods
    card, upi_total = x.methods
    assert (card.method, upi_total.method) == ("card", "upi")
    assert card.gross == 1_500_00 and card.refunds == 200_00
    assert upi_total.model_dump(exclude={"brand"}) == upi.model_dump(exclude={"brand"})
    total = x.total()
    assert total.method == ALL
    for name in SUMMED:
        assert getattr(total, name) == getattr(card, name) + getattr(upi_total, name), name
        lines = [ln for ln in x.brands if ln.method == CARD]
        assert getattr(card, name) == sum(getattr(ln, name) for ln in lines), name
    for line in [*x.brands, *x.methods, total]:
        assert line.gross - line.refunds - line.fees - line.gst == line.payout
    # a payout per method: the card's reference as before, UPI's its own
    assert [(p.method, p.amount) for p in x.payouts] == [
        ("card", card.payout),
        ("upi", 600_00),
    ]
    assert x.payouts[0].reference == payout_reference(svc.merchant_id, DAY)
    assert x.payouts[1].reference == payout_reference(svc.merchant_id, DAY) + "-UPI"
    assert [f.method for f in x.fees] == ["card", "card", "upi"]
    # the card acquirer's clearing file has the cards only: nothing missing, nothing extra
    assert (await svc.reconcile(DAY, runtime.gateway.bank)).ok


async def test_the_text_report_has_a_line_per_method(runtime):
    svc = await mixed_day(runtime)
    text = format_report(svc.x_report(DAY), runtime.settings)
    table = [line.split()[:2] for line in text if line.startswith(("Visa ", "UPI "))]
    assert table == [["Visa", "1"], ["UPI", "1"]]
    assert any(line.startswith("METHOD / BRAND") for line in text)
    assert any(line.startswith("Card total") for line in text)
    assert any(line.startswith("TOTAL   ") and "₹1,900.00" in line for line in text)
    assert any(line.startswith("UPI: payout ₹600.00") for line in text)
    assert any(line.startswith("  UPI 0.00% on ₹700.00 (1)") for line in text)
    assert [line.split(":")[0] for line in payout_lines(svc.x_report(DAY))] == [
        "PAYOUT INR Card",
        "PAYOUT INR UPI",
    ]
    assert "₹700.00 − fees" not in "".join(payout_lines(svc.x_report(DAY)))
    assert (
        "net sales ₹600.00 − fees ₹0.00 − GST ₹0.00 = ₹600.00" in payout_lines(svc.x_report(DAY))[1]
    )
    narrow = format_report(svc.x_report(DAY), runtime.settings, width=76)  # 80 columns
    assert all(len(line) <= 76 for line in narrow)
    assert sum(line.startswith("METHOD / BRAND") for line in narrow) == 2  # split in two


async def test_the_export_and_the_z_carry_the_method(runtime):
    svc = await mixed_day(runtime)
    rows = list(csv.DictReader(io.StringIO(svc.export(DAY, "csv"))))
    methods = {(row["type"], row["payment_id"]): row["method"] for row in rows}
    assert methods[("sale", UPI_ID)] == "upi" and methods[("refund", UPI_ID)] == "upi"
    assert {m for (_t, pid), m in methods.items() if pid != UPI_ID} == {"card"}
    upi_sale = next(r for r in rows if r["payment_id"] == UPI_ID and r["type"] == "sale")
    assert (upi_sale["brand"], upi_sale["card"], upi_sale["net"]) == ("", "", "700.00")
    upi_refund = next(r for r in rows if r["payment_id"] == UPI_ID and r["type"] == "refund")
    assert (upi_refund["brand"], upi_refund["net"]) == ("", "-100.00")
    net = sum(int(r["net"].replace(".", "")) for r in rows if r["net"])
    assert net == svc.x_report(DAY).total().payout  # Σ net of the day = its payout
    doc = json.loads(svc.export(DAY, "json"))
    assert [m["method"] for m in doc["report"]["methods"]] == ["card", "upi"]
    assert {t["method"] for t in doc["transactions"]} == {"card", "upi"}
    z, already = svc.close_day(DAY, closed_by="meera")
    assert not already and z.methods == svc.x_report(DAY).methods
    assert svc.check_closing(DAY) == []
    assert runtime.audit.verify().ok


def test_a_z_stored_before_methods_reads_as_cards(runtime):
    """A stored Z document without `method` keys or `methods` is a day of cards."""
    figures = {"currency": "INR", "count": 1, "gross": 100, "net_sales": 100, "fees": 2}
    doc = {
        "kind": "Z",
        "number": 1,
        "day": "2026-11-27",
        "merchant_id": "M1",
        "merchant_name": "Shop",
        "generated_at": "2026-11-27T21:30:00+05:30",
        "brands": [{"brand": "visa", **figures}],
        "totals": [{"brand": "total", **figures}],
        "fees": [],
        "activity": {"payments": 1, "approved": 1},
        "payouts": [{"currency": "INR", "amount": 98, "date": "2026-11-30", "reference": "R"}],
    }
    z = DayReport.model_validate(doc)
    assert [ln.method for ln in z.brands] == ["card"] and z.payouts[0].method == "card"
    assert [(ln.method, ln.net_sales) for ln in z.subtotals] == [("card", 100)]
    text = format_report(z, runtime.settings)
    assert any(line.startswith("BRAND ") for line in text)
    assert any(line.startswith("payout ₹0.98") for line in text)
    assert payout_lines(z)[0].startswith("PAYOUT INR: net sales ₹1.00")


def test_rates_of_other_methods():
    fees = FeeSchedule()
    assert fees.rate_of("card", "visa", "credit") == fees.rate("visa", "credit")
    assert fees.rate_of("upi", "upi", None) == 0 and fees.rate_of("cash", "cash", None) == 0
    assert fees.rate_of("netbanking", "DEMOA", None) == 0  # net banking: a flat fee instead
    assert fees.flat_of("netbanking", "DEMOA") == 1000 and fees.flat_of("netbanking", "XYZ") == 1500
    assert fees.flat_of("card", "visa") == 0 and fees.flat_of("upi", "upi") == 0
    assert fees.rate_of("voucher", "voucher", None) == fees.default_mdr_bps
    assert FeeSchedule(method_mdr_bps={"upi": 30}).rate_of("upi", "upi", None) == 30
    assert FeeSchedule(method_mdr_bps={"upi": 30}).method_mdr_bps["cash"] == 0


def test_method_rates_are_configurable(tmp_path):
    config = tmp_path / "paygate.toml"
    config.write_text("[fees.method_mdr_bps]\nnetbanking = 150\n", encoding="utf-8")
    fees = load_settings(config, data_dir=tmp_path).fees
    assert fees.rate_of("netbanking", "netbanking", None) == 150
    assert fees.rate_of("upi", "upi", None) == 0


# ---------------------------------------------------------------------------- property
METHODS = ["card", "card", "card", "upi", "netbanking", "cash", "voucher"]
BRANDS = ["visa", "mastercard", "rupay", "amex"]
BANKS = ["DEMOA", "DEMOB", "OTHER"]
CURRENCIES = ["INR", "USD"]


@st.composite
def records(draw: st.DrawFn) -> dict:
    """A stored payment of any method, taken and moved on DAY (or moved the next day)."""
    method = draw(st.sampled_from(METHODS))
    status = draw(st.sampled_from(["succeeded", "succeeded", "void", "declined"]))
    amount = draw(st.integers(1, 10_000_000))
    moved = DAY + timedelta(days=draw(st.sampled_from([0, 0, 0, 1])))
    at = datetime.combine(moved, datetime.min.time(), IST) + timedelta(
        seconds=draw(st.integers(0, 86_399))
    )
    record = {
        "id": f"pay_{DAY:%Y%m%d}_{draw(st.uuids()).hex[:10]}",
        "status": "canceled" if status == "void" else status,
        "amount": amount,
        "amount_captured": draw(st.integers(1, amount)) if status == "succeeded" else 0,
        "tip": 0,
        "currency": draw(st.sampled_from(CURRENCIES)),
        "funding": draw(st.sampled_from(["debit", "credit", None])),
        "voided_by": "asha" if status == "void" else None,
        "updated_at": at.isoformat(),
    }
    if method == "card":
        record["card"] = {"brand": draw(st.sampled_from(BRANDS))}
        if draw(st.booleans()):
            record["method"] = "card"  # stored before and after the key was added
    else:
        record["method"] = method
        if draw(st.booleans()):
            record["card"] = None  # as a Payment without a card is dumped
    if method == "netbanking":
        record["netbanking"] = {"bank": draw(st.sampled_from(BANKS))}
    if method == "cash":
        record["cash"] = {"rounding": draw(st.integers(-49, 50))}
    return record


refunds = st.builds(
    lambda method, brand, bank, currency, amount: (
        {"method": method, "currency": currency, "amount": amount}
        if method not in ("card", "netbanking")
        else {"method": method, "brand": bank, "currency": currency, "amount": amount}
        if method == "netbanking"
        else {"brand": brand, "currency": currency, "amount": amount}
    ),
    st.sampled_from(METHODS),
    st.sampled_from(BRANDS),
    st.sampled_from(BANKS),
    st.sampled_from(CURRENCIES),
    st.integers(1, 10_000_000),
)


@settings(max_examples=150, deadline=None)
@given(
    payments=st.lists(records(), max_size=40),
    refunded=st.lists(refunds, max_size=10),
    upi_bps=st.integers(0, 10_000),
)
def test_per_method_lines_sum_to_the_total(payments, refunded, upi_bps):
    schedule = FeeSchedule(method_mdr_bps={"upi": upi_bps}, netbanking_flat={"DEMOB": upi_bps})
    lines, totals, fees, _activity = tally(DAY, payments, refunded, schedule, IST)
    methods = method_totals(lines)
    for currency_total in totals:
        mine = [m for m in methods if m.currency == currency_total.currency]
        assert len({m.method for m in mine}) == len(mine)
        for name in SUMMED:
            assert getattr(currency_total, name) == sum(getattr(m, name) for m in mine), name
        currency_fees = [f for f in fees if f.currency == currency_total.currency]
        assert (
            sum(f.fees + f.gst for f in currency_fees) == currency_total.fees + currency_total.gst
        )
    for subtotal in methods:
        mine = [
            ln for ln in lines if (ln.currency, ln.method) == (subtotal.currency, subtotal.method)
        ]
        for name in SUMMED:
            assert getattr(subtotal, name) == sum(getattr(ln, name) for ln in mine), name
        assert (
            subtotal.gross - subtotal.refunds - subtotal.fees - subtotal.gst
            == subtotal.payout + subtotal.kept
        )
        assert subtotal.kept == 0 if subtotal.method != "cash" else subtotal.payout == 0
        method_fees = [
            f for f in fees if (f.currency, f.method) == (subtotal.currency, subtotal.method)
        ]
        rounding = sum(ln.gross for ln in mine if ln.brand == "rounding")
        assert sum(f.amount for f in method_fees) == subtotal.gross - rounding
    # a method without brands has one line, named after it (cash: and its rounding);
    # cards one line per brand, net banking one per bank
    for ln in lines:
        if ln.method == CARD:
            assert ln.brand in BRANDS
        elif ln.method == "netbanking":
            assert ln.brand in BANKS
        else:
            assert ln.brand == ln.method or (ln.method, ln.brand) == ("cash", "rounding")
    # every captured amount moved on DAY is in its method's line
    for method in set(METHODS):
        moved = [
            r
            for r in payments
            if r.get("method", "card") == method
            and r["status"] == "succeeded"
            and r["updated_at"][:10] == DAY.isoformat()
        ]
        gross = sum(m.gross for m in methods if m.method == method)
        rounded = sum(r["cash"]["rounding"] for r in moved if method == "cash")
        assert gross == sum(r["amount_captured"] for r in moved) + rounded


async def test_the_dashboard_reads_a_payment_without_a_card(runtime):
    svc = await mixed_day(runtime)
    payments, refunds = read_day(runtime.records, svc, DAY)
    stats = day_stats(svc.report(DAY), svc.totals(DAY), runtime.settings)  # running totals
    assert stats.figures.gross == 2_200_00
    assert [t for t, _n, _amount in stats.brands] == ["Visa", "RuPay", "UPI"]
    ledger = ledger_of(DAY, payments, refunds, "INR")
    assert [r["id"] for r in ledger.select("upi")] == [UPI_ID]
    for sort in SORTS:
        assert len(ledger.select(sort=sort)) == 3
