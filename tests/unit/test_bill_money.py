"""Property: split bills never create or lose money, and are paid exactly when their
tenders add up.

Random programs over a few bills: parts by card (approved or declined), UPI (paid,
declined by the payer, or left waiting and paid later), cash (with change), net banking
(through the bank's pages: paid, or refused for want of funds), parts over the balance
(refused), and cancels (a manager approves). After every step, for every bill: it is
`paid` iff its succeeded parts add up exactly to it, an open bill never took more than
its total (waiting parts counted), a canceled bill keeps nothing, and its parts are
exactly the payments that name it. At the end: the card, UPI and net banking banks'
books balance, the acquirer's merchant account holds the card sales less refunds, the
drawer is expected to hold its float plus the cash kept, and the X report's net sales
per method are what the bills' payments kept.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from nb_sim_support import bank_return, through_bank
from support import MANAGER, VISA, card_input, gateway_settings, open_runtime

from bank_sim.testcards import card_for
from gateway_core.bill_models import Bill, BillError
from gateway_core.bills import BillNotOpen, holds_money
from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.payments import OPEN_STATUSES, CashInput, NetbankingInput, UpiInput
from gateway_core.runtime import Runtime
from gateway_core.settlement import Settlement
from gateway_core.upi_api import TEST_PIN

IST = timezone(timedelta(hours=5, minutes=30), "IST")
DECLINED = card_for("4000 0000 0000 0002")
FLOAT = {50000: 2, 10000: 5}  # ₹1,500.00 in the drawer at the start

bill = st.integers(min_value=0, max_value=3)  # which bill, modulo how many
share = st.sampled_from([100, 50, 101]) | st.integers(min_value=1, max_value=120)  # % of what
# is left (waiting parts taken off); over 100: too much
operations = st.one_of(
    st.tuples(st.just("open"), st.integers(min_value=1, max_value=5_000_00), st.just(0)),
    st.tuples(st.just("card"), bill, share, st.booleans()),
    st.tuples(st.just("upi"), bill, share, st.sampled_from(["paid", "declined", "waiting"])),
    st.tuples(st.just("upi"), bill, share, st.just("waiting")),
    st.tuples(st.just("cash"), bill, share, st.integers(min_value=0, max_value=500_00)),
    st.tuples(st.just("netbanking"), bill, share, st.sampled_from(["demo", "poor"])),
    st.tuples(st.just("resolve"), bill, st.just(0)),
    st.tuples(st.just("cancel"), bill, st.just(0)),
)


def part(method: str, amount: int, extra: object) -> ChargeRequest:
    if method == "card":
        return ChargeRequest(
            amount=amount, currency="INR", card=card_input(VISA if extra else DECLINED)
        )
    if method == "upi":
        return ChargeRequest(amount=amount, currency="INR", method="upi", upi=UpiInput())
    if method == "netbanking":
        bank = NetbankingInput(bank="DEMOA")
        return ChargeRequest(amount=amount, currency="INR", method="netbanking", netbanking=bank)
    assert isinstance(extra, int)
    cash = CashInput(tendered=amount + extra)
    return ChargeRequest(amount=amount, currency="INR", method="cash", cash=cash)


async def pay_upi(rt: Runtime, payment_id: str, vpa: str) -> None:
    """The payer pays (or declines) a waiting UPI part's link; the gateway hears of it."""
    link = rt.gateway.get(payment_id).upi.link
    await rt.payer.pay(vpa, TEST_PIN, link=link)
    await rt.gateway.refresh(payment_id)


async def pay_nb(rt: Runtime, browser: httpx.AsyncClient, payment_id: str, user: str) -> None:
    """The customer at the bank's pages (`demo` pays, `poor` is refused: 51), then back
    to the gateway's return URL with the signed answer."""
    answer = await through_bank(browser, rt.gateway.get(payment_id).netbanking.login_url, user)
    await rt.gateway.returned(payment_id, bank_return(answer))


async def apply(rt: Runtime, browser: httpx.AsyncClient, bills: list[str], op: tuple) -> None:
    gw = rt.gateway
    kind, first, *rest = op
    if kind == "open":
        bills.append((await gw.bills.open_bill(amount=first, currency="INR", operator="a")).id)
        return
    if not bills:
        return
    bill = gw.bills.get_bill(bills[first % len(bills)])
    if kind == "resolve":
        for p in bill.parts:
            if gw.get(p.payment_id).status == "pending":
                await pay_upi(rt, p.payment_id, "success@payer")
                return
        return
    if kind == "cancel":
        if bill.status == "paid":
            with pytest.raises(BillNotOpen):
                await gw.bills.cancel_bill(bill.id, operator="a", approval=MANAGER)
            return
        done = await gw.bills.cancel_bill(bill.id, operator="a", approval=MANAGER)
        assert done.status == "canceled"
        return
    pct, extra = rest
    left = bill.amount - bill.paid - waiting(bill)
    amount = max(1, left * pct // 100)
    request = part(kind, amount, extra)
    if bill.status != "open":
        with pytest.raises(BillNotOpen):
            await gw.bills.pay_bill(bill.id, request)
        return
    if amount > left:
        with pytest.raises(BillError, match="is more than the"):
            await gw.bills.pay_bill(bill.id, request)
        assert gw.bills.get_bill(bill.id) == bill  # refused: nothing changed
        return
    after = await gw.bills.pay_bill(bill.id, request)
    new = after.parts[-1]
    assert (new.method, new.amount) == (kind, amount)
    if kind == "upi" and extra != "waiting":
        vpa = "success@payer" if extra == "paid" else "decline@payer"
        await pay_upi(rt, new.payment_id, vpa)
    if kind == "netbanking":
        await pay_nb(rt, browser, new.payment_id, str(extra))


def waiting(bill: Bill) -> int:
    """What the bill's parts still waiting for an answer may take."""
    return sum(p.amount for p in bill.parts if p.status in OPEN_STATUSES)


def check(gw: Gateway, bill: Bill) -> None:
    """What holds for every bill after every step."""
    kept = sum(p.amount - p.refunded for p in bill.parts if p.status == "succeeded")
    assert kept == bill.paid
    if bill.status == "canceled":
        assert kept == 0 and not any(holds_money(p) for p in bill.parts)
    else:
        assert (bill.status == "paid") == (kept == bill.amount)
        assert kept + waiting(bill) <= bill.amount
    paying = [p.id for p in gw.list_day() if p.bill_id == bill.id]
    assert [p.payment_id for p in bill.parts] == paying
    for p in bill.parts:
        payment = gw.get(p.payment_id)
        assert (p.status, p.amount, p.refunded) == (
            payment.status,
            payment.amount,
            payment.amount_refunded,
        )


async def books(rt: Runtime) -> None:
    """No money created or lost: the banks' books, the drawer and the X report."""
    gw = rt.gateway
    cards = await gw.bank.ledger_check()
    assert cards.ok, cards.problem
    upi = await rt.payer.ledger_check()
    assert upi.ok, upi.problem
    nb = await gw.netbanking.ledger_check()
    assert nb.ok, nb.problems
    kept: dict[str, int] = {"card": 0, "upi": 0, "cash": 0, "netbanking": 0}
    for p in gw.list_day():
        kept[p.method] += p.amount_captured - p.amount_refunded
    assert rt.banks.ledger.balance(rt.banks.acquirer.merchant_account) == kept["card"]
    shift = gw.shifts.current_shift()
    assert shift is not None
    assert gw.shifts.shift_report(shift.id).expected == 1500_00 + kept["cash"]
    report = Settlement(rt.records, rt.settings, clock=rt.clock).x_report()
    net = {line.method: line.net_sales for line in report.methods if line.currency == "INR"}
    assert {m: net.get(m, 0) for m in kept} == kept


async def run(data_dir, program: list[tuple]) -> None:
    clock = FixedClock(datetime(2026, 11, 28, 10, 0, tzinfo=IST))
    rt = open_runtime(gateway_settings(data_dir, timeout_s=5), clock=clock)
    rt.gateway  # noqa: B018  # built first: it opens the embedded banks
    transport = httpx.ASGITransport(app=rt.banks.asgi_app())
    browser = httpx.AsyncClient(transport=transport, base_url="http://banks")
    try:
        await rt.gateway.shifts.open_shift(count=FLOAT, cashier="asha")
        bills: list[str] = []
        for op in program:
            await apply(rt, browser, bills, op)
            for bill_id in bills:
                check(rt.gateway, rt.gateway.bills.get_bill(bill_id))
        for bill_id in bills:  # the waiting parts paid at last: bills add up or not
            for p in rt.gateway.bills.get_bill(bill_id).parts:
                if rt.gateway.get(p.payment_id).status == "pending":
                    await pay_upi(rt, p.payment_id, "success@payer")
        notes = await rt.gateway.bills.repair()  # those whose last part was just paid
        assert all(note.endswith(": paid") for note in notes), notes
        assert await rt.gateway.bills.repair() == []
        for bill_id in bills:
            check(rt.gateway, rt.gateway.bills.get_bill(bill_id))
        await books(rt)
    finally:
        await browser.aclose()
        await rt.aclose()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@example(  # a waiting part counts as taken: more than the rest is refused; paid later
    program=[
        ("open", 1000_00, 0),
        ("upi", 0, 50, "waiting"),
        ("card", 0, 101, True),
        ("cash", 0, 100, 10_00),
        ("resolve", 0, 0),
    ]
)
@example(  # a declined part, then a cancel that gives back card, cash and a waiting UPI
    program=[("open", 1000_00, 0), ("card", 0, 30, False), ("card", 0, 30, True),
             ("cash", 0, 20, 0), ("netbanking", 0, 10, "demo"), ("upi", 0, 50, "waiting"),
             ("cancel", 0, 0),
             ("cash", 0, 10, 0), ("resolve", 0, 0)]
)  # fmt: skip
@given(
    program=st.lists(operations, min_size=1, max_size=14).map(
        lambda ops: [("open", 1000_00, 0), *ops]
    )
)
def test_bills_are_paid_exactly_and_money_is_never_created_or_lost(
    tmp_path_factory: pytest.TempPathFactory, program: list[tuple]
) -> None:
    asyncio.run(run(tmp_path_factory.mktemp("bills") / "data", program))
