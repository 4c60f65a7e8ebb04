"""Property: settlement neither creates nor loses money, per tender.

Random days of card (brands, fundings), UPI, net banking (banks with their flat fees,
payments that expired unpaid), cash (rounded up or down) and payment-link payments,
with refunds of any of the paid ones, in part or whole. For every tender's line (card
brand, UPI, net banking bank, cash, cash rounding), its method's subtotal and the day's
total: gross − refunds − fees − GST = payout + kept, with kept (the cash in the drawer)
only for cash and no payout for it; each line's figures are the sums an independent
model of the day gives; a payout per bank and per other method, none for cash, adds up
to the total payout; the export's rows net to what is paid out plus what is kept; a
payment link moves nothing.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from nb_sim_support import bank_return, through_bank
from support import MANAGER, VISA, charge, open_runtime, pay_upi

from gateway_core.clock import FixedClock
from gateway_core.fees import FeeSchedule, fee_of
from gateway_core.payments import CashInput, ChargeRequest, NetbankingInput, Payment, UpiInput
from gateway_core.runtime import Runtime
from gateway_core.settings import CashSettings, load_settings
from gateway_core.settlement import Settlement, format_reconciliation
from gateway_core.settlement.export import transaction_rows

IST = timezone(timedelta(hours=5, minutes=30), "IST")
DAY = date(2026, 11, 28)
BANKS = ["DEMOA", "DEMOB", "DEMOC", "OTHER"]  # OTHER: the default flat fee
SCHEDULE = FeeSchedule(netbanking_flat={"DEMOC": 0})  # a bank that charges nothing

amounts = st.integers(1, 5_000_000)
tenders = st.one_of(
    st.tuples(
        st.just("card"),
        st.sampled_from(["visa", "mastercard", "rupay", "amex"]),
        st.sampled_from(["debit", "credit", "prepaid"]),
        amounts,
    ),
    st.tuples(st.just("upi"), st.just("upi"), st.just(None), amounts),
    st.tuples(
        st.just("netbanking"), st.sampled_from(BANKS), st.sampled_from([True, False]), amounts
    ),
    st.tuples(st.just("cash"), st.just("cash"), st.integers(-49, 50), amounts),
    st.tuples(st.just("link"), st.just("link"), st.just(None), amounts),
)
refund_shares = st.lists(st.tuples(st.integers(0, 200), st.integers(1, 100)), max_size=12)


def record(n: int, tender: tuple) -> dict:
    """A stored payment of the tender (paid, but an unpaid net banking one or a link)."""
    method, brand, extra, amount = tender
    at = datetime.combine(DAY, time(9), IST) + timedelta(minutes=n)
    paid = method not in ("link",) and (method != "netbanking" or extra)
    r = {
        "id": f"pay_{DAY:%Y%m%d}_{n:010d}",
        "method": method,
        "status": "succeeded" if paid else ("expired" if method == "netbanking" else "pending"),
        "amount": amount,
        "amount_captured": amount if paid else 0,
        "tip": 0,
        "currency": "INR",
        "card": {"brand": brand, "masked": "4242 •••• 4242"} if method == "card" else None,
        "funding": extra if method == "card" else None,
        "created_at": at.isoformat(),
        "updated_at": at.isoformat(),
    }
    if method == "netbanking":
        r["netbanking"] = {"bank": brand}
    if method == "cash":
        r["cash"] = {"rounding": extra}
    return r


def refunds_of(payments: list[dict], shares: list[tuple[int, int]]) -> list[dict]:
    """Refunds of paid payments: each a share (%) of what is left of one, never more."""
    paid = [r for r in payments if r["status"] == "succeeded"]
    left = {r["id"]: r["amount_captured"] for r in paid}
    out = []
    for i, (which, percent) in enumerate(shares):
        if not paid:
            break
        r = paid[which % len(paid)]
        amount = left[r["id"]] * percent // 100
        if amount == 0:
            continue
        left[r["id"]] -= amount
        brand = (r.get("netbanking") or {}).get("bank") or (r["card"] or {}).get("brand")
        at = datetime.combine(DAY, time(20), IST) + timedelta(seconds=i)
        out.append(
            {
                "id": f"re_{i:010d}",
                "payment_id": r["id"],
                "method": r["method"],
                "brand": brand or r["method"],
                "amount": amount,
                "currency": "INR",
                "created_at": at.isoformat(),
            }
        )
    return out


def key(r: dict) -> tuple[str, str]:
    if r["method"] == "card":
        return "card", r["card"]["brand"] if r.get("card") else r["brand"]
    if r["method"] == "netbanking":
        return "netbanking", (r.get("netbanking") or {}).get("bank") or r["brand"]
    return r["method"], r["method"]


def model(payments: list[dict], refunds: list[dict]) -> dict[tuple[str, str], dict[str, int]]:
    """The day's lines as a merchant would add them up by hand."""
    lines: dict[tuple[str, str], dict[str, int]] = {}

    def line(k: tuple[str, str]) -> dict[str, int]:
        return lines.setdefault(k, {"count": 0, "gross": 0, "refunds": 0, "fees": 0, "gst": 0})

    for r in payments:
        if r["status"] != "succeeded":
            continue
        method, brand = key(r)
        rate = SCHEDULE.rate_of(method, brand, r["funding"])
        fee = fee_of(r["amount_captured"], rate) + SCHEDULE.flat_of(method, brand)
        ln = line((method, brand))
        ln["count"] += 1
        ln["gross"] += r["amount_captured"]
        ln["fees"] += fee
        ln["gst"] += fee_of(fee, SCHEDULE.gst_bps)
        if method == "cash" and r["cash"]["rounding"]:
            line(("cash", "rounding"))["gross"] += r["cash"]["rounding"]
    for refund in refunds:
        line(key(refund))["refunds"] += refund["amount"]
    return lines


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(day=st.lists(tenders, max_size=30), shares=refund_shares)
def test_every_tender_balances(runtime: Runtime, day: list[tuple], shares) -> None:
    payments = [record(n, t) for n, t in enumerate(day)]
    refunds = refunds_of(payments, shares)
    s = runtime.settings.model_copy(update={"fees": SCHEDULE})
    report = Settlement(runtime.records, s, clock=runtime.clock).report_of(DAY, payments, refunds)

    expected = model(payments, refunds)
    got = {(ln.method, ln.brand): ln for ln in report.brands}
    assert set(got) == set(expected)
    for k, ln in got.items():
        assert {f: getattr(ln, f) for f in expected[k]} == expected[k], k
    for ln in [*report.brands, *report.methods, *report.totals]:
        assert ln.gross - ln.refunds - ln.fees - ln.gst == ln.payout + ln.kept, ln
    for ln in [*report.brands, *report.methods]:
        if ln.method == "cash":
            assert ln.payout == 0  # the cash is in the drawer: no payout
        else:
            assert ln.kept == 0
    # the drawer: what the cash sales took (amount + rounding) less the cash refunds
    cash_in = sum(
        r["amount_captured"] + r["cash"]["rounding"] for r in payments if r["method"] == "cash"
    )
    cash_out = sum(f["amount"] for f in refunds if f["method"] == "cash")
    assert report.total("INR").kept == cash_in - cash_out
    # a payout per bank and per other method, none for cash; they add up to the total
    assert all(p.method != "cash" for p in report.payouts)
    assert [p.bank for p in report.payouts if p.method == "netbanking"] == [
        ln.brand for ln in report.brands if ln.method == "netbanking"
    ]
    for p in report.payouts:
        assert report.paid_by(p).payout == p.amount
    if report.totals:
        assert sum(p.amount for p in report.payouts) == report.total().payout
        assert report.total().gross == sum(v["gross"] for v in expected.values())
    # links moved nothing: no line, no attempt
    assert report.activity.payments == sum(r["method"] != "link" for r in payments)
    # the export: every row's net, paid out or kept
    rows = transaction_rows(DAY, payments, refunds, SCHEDULE, IST, lambda _d: None)
    assert all(row["method"] != "link" for row in rows)
    net = sum(row["net"] for row in rows if row["net"] is not None)
    assert net == (report.total().payout + report.total().kept if report.totals else 0)


# ---------------------------------------------------------------------------- end to end
steps = st.lists(
    st.one_of(
        st.tuples(st.just("card"), st.integers(1_00, 3_000_00)),
        st.tuples(st.just("upi"), st.integers(1_00, 3_000_00)),
        st.tuples(st.just("netbanking"), st.sampled_from(["DEMOA", "DEMOB", "DEMOC"])),
        st.tuples(st.just("cash"), st.integers(1_01, 3_000_00)),
        st.tuples(st.just("refund"), st.integers(0, 50)),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=10, deadline=None)
@given(program=steps, counted_over=st.sampled_from([0, 0, -5_00, 3_00]))
@example(
    program=[
        ("card", 500_00),
        ("upi", 200_00),
        ("netbanking", "DEMOB"),
        ("cash", 99_60),
        ("refund", 2),
        ("refund", 3),
    ],
    counted_over=-5_00,
)
def test_through_the_gateway_every_tender_balances_and_reconciles(
    program: list[tuple], counted_over: int
) -> None:
    """Card, UPI, net banking (through the banks' pages) and cash sales, refunds of any:
    each line balances, the cash kept is what the drawer took, and reconcile finds every
    tender matched; a drawer counted off is the one break, and names the shift."""
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_run_program(Path(tmp), program, counted_over))


async def _run_program(data: Path, program: list[tuple], counted_over: int) -> None:
    s = load_settings(data_dir=data / "data", timezone="Asia/Kolkata")
    s = s.model_copy(update={"cash": CashSettings(rounding={"INR": 100})})
    clock = FixedClock(datetime.combine(DAY, time(10), IST))
    rt = open_runtime(s, clock=clock)
    gw = rt.gateway
    try:
        transport = httpx.ASGITransport(app=rt.banks.asgi_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://banks") as browser:
            shift = await gw.shifts.open_shift(count={50000: 2}, cashier="asha")
            paid: list[Payment] = []
            for n, (kind, arg) in enumerate(program):
                clock.advance(minutes=3)
                if kind == "refund":
                    if paid:
                        p = gw.get(paid[arg % len(paid)].id)
                        half = (p.amount_captured - p.amount_refunded) // 2 // 100 * 100
                        if half:  # whole rupees: the drawer holds no paise
                            await gw.refund(p.id, half, approval=MANAGER)
                    continue
                if kind == "card":
                    paid.append(await gw.charge(charge(VISA, arg)))
                elif kind == "upi":
                    req = ChargeRequest(amount=arg, currency="INR", method="upi", upi=UpiInput())
                    paid.append(await pay_upi(rt, req))
                elif kind == "netbanking":
                    req = ChargeRequest(
                        amount=1_00_00 + n, currency="INR", method="netbanking",
                        netbanking=NetbankingInput(bank=arg),
                    )  # fmt: skip
                    p = await gw.charge(req)
                    answer = await through_bank(browser, p.netbanking.login_url)
                    paid.append(await gw.returned(p.id, bank_return(answer)))
                else:
                    req = ChargeRequest(
                        amount=arg,
                        currency="INR",
                        method="cash",
                        cash=CashInput(tendered=arg + 100),
                    )
                    paid.append(await gw.charge(req))
                assert paid[-1].status == "succeeded", paid[-1]
            svc = Settlement(rt.records, rt.settings, clock=rt.clock)
            x = svc.x_report(DAY)
            for ln in [*x.brands, *x.methods, *x.totals]:
                assert ln.gross - ln.refunds - ln.fees - ln.gst == ln.payout + ln.kept, ln
            drawer = gw.shifts.shift_report(shift.id)
            assert x.total().kept == drawer.shift.expected - drawer.shift.float_amount
            assert sum(p.amount for p in x.payouts) == x.total().payout
            expected = drawer.shift.expected
            await gw.shifts.close_shift(
                shift.id, count=_count(expected + counted_over), operator="asha", approval=MANAGER
            )
            reports = [gw.shifts.shift_report(shift.id)]
            rec = await svc.reconcile(DAY, gw.bank, gw.upi, gw.netbanking, reports)
            tenders = rec.tenders()
            assert all(t["breaks"] == 0 for k, t in tenders.items() if k != "cash"), tenders
            assert rec.breaks == (counted_over != 0), format_reconciliation(rec)
            if counted_over:
                assert [d.shift_id for d in rec.drawer_breaks] == [shift.id]
            methods = {p.method for p in paid}
            assert {k.split()[0] for k, t in tenders.items() if t["matched"]} == methods
    finally:
        await rt.aclose()


def _count(amount: int) -> dict[int, int]:
    """A drawer's count: ₹500 notes, then ₹1 coins."""
    notes, coins = divmod(amount, 50000)
    return {k: v for k, v in ((50000, notes), (100, coins // 100)) if v}
