"""Split bills (`gateway_core.bills`): one bill, several tenders (card, UPI, cash, and a
fake pending tender) in any order; a declined part and another tender; the exact sum; a
part over the balance refused; a cancel that gives everything back with a manager's
approval; repair after a stop mid-bill (a real SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from support import MANAGER, VISA, actions, card_input, open_runtime
from test_fake_tender import Voucher

from bank_sim.testcards import card_for
from gateway_core.access import NotPermitted
from gateway_core.bill_models import BillError
from gateway_core.bills import BillNotOpen, UnknownBill
from gateway_core.clock import FixedClock
from gateway_core.errors import InputError
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.payments import CashInput, IdempotencyConflict, UpiInput
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings
from gateway_core.upi_api import TEST_PIN

DECLINED = card_for("4000 0000 0000 0002")


@pytest.fixture
async def gateway(runtime: Runtime, clock: FixedClock) -> Gateway:
    """The runtime's gateway (cards, UPI, cash, managers' approvals) with a fake pending
    tender (answered by the test), a shift open on its terminal for cash."""
    rt = runtime
    tenders = {**rt.gateway.tenders, "netbanking": Voucher("netbanking", pending=True)}
    await rt.gateway.shifts.open_shift(count={50000: 2, 10000: 5}, cashier="asha")  # ₹1,500
    return Gateway(
        rt.records,
        rt.vault,
        rt.audit,
        rt.gateway.bank,
        rt.settings,
        clock=clock,
        access=rt.access,
        tenders=tenders,
        upi=rt.gateway.upi,
    )


def card(amount: int, which=VISA, **kw) -> ChargeRequest:
    return ChargeRequest(
        amount=amount, currency="INR", card=card_input(which), operator="asha", **kw
    )


def upi(amount: int) -> ChargeRequest:
    return ChargeRequest(
        amount=amount, currency="INR", method="upi", upi=UpiInput(), operator="asha"
    )


def cash(amount: int, tendered: int | None = None) -> ChargeRequest:
    return ChargeRequest(
        amount=amount,
        currency="INR",
        method="cash",
        cash=CashInput(tendered=tendered or amount),
        operator="asha",
    )


def bill_actions(rt: Runtime, bill_id: str) -> list[str]:
    return actions(rt, bill_id)


async def test_a_bill_is_paid_by_card_upi_and_cash_in_any_order(
    runtime: Runtime, gateway: Gateway
) -> None:
    bills = gateway.bills
    bill = await bills.open_bill(amount=1000_00, currency="inr", operator="asha")
    assert (bill.status, bill.balance, bill.currency) == ("open", 1000_00, "INR")
    assert bill.id.startswith("bill_20261128_")
    bill = await bills.pay_bill(bill.id, cash(300_00, tendered=500_00))
    assert (bill.parts[0].change, bill.parts[0].label) == (200_00, "Cash")
    bill = await bills.pay_bill(bill.id, upi(200_00))
    (waiting,) = [p for p in bill.parts if p.method == "upi"]
    assert (waiting.status, bill.balance, bill.status) == ("pending", 700_00, "open")
    with pytest.raises(BillError, match=r"₹600.00 is more than the ₹500.00 still due"):
        await bills.pay_bill(bill.id, card(600_00))  # the pending UPI part counts as taken
    await runtime.payer.pay(
        "success@payer", TEST_PIN, link=gateway.get(waiting.payment_id).upi.link
    )
    await gateway.refresh(waiting.payment_id)
    assert bills.get_bill(bill.id).balance == 500_00  # its payment ended: read from it
    bill = await bills.pay_bill(bill.id, card(500_00))
    assert (bill.status, bill.paid, bill.balance) == ("paid", 1000_00, 0)
    assert [(p.method, p.amount, p.status) for p in bill.parts] == [
        ("cash", 300_00, "succeeded"),
        ("upi", 200_00, "succeeded"),
        ("card", 500_00, "succeeded"),
    ]
    assert [p.label for p in bill.parts] == ["Cash", "UPI su****@payer", "Visa •••• 4242"]
    assert all(gateway.get(p.payment_id).bill_id == bill.id for p in bill.parts)
    assert runtime.gateway.bills.get_bill(bill.id) == bill  # as stored
    assert bill_actions(runtime, bill.id) == [
        "bill.opened",
        "bill.part",
        "bill.part",
        "bill.part",  # the UPI part paid
        "bill.part",
        "bill.paid",
    ]
    with pytest.raises(BillNotOpen, match="is paid: it takes no more payments"):
        await bills.pay_bill(bill.id, cash(1_00))
    assert [b.id for b in bills.bills()] == [bill.id]
    assert runtime.audit.verify().ok


async def test_a_declined_part_stays_listed_and_another_tender_pays(
    runtime: Runtime, gateway: Gateway
) -> None:
    bills = gateway.bills
    bill = await bills.open_bill(amount=500_00, currency="INR", operator="asha")
    bill = await bills.pay_bill(bill.id, card(200_00))
    bill = await bills.pay_bill(bill.id, card(300_00, DECLINED))
    assert [p.status for p in bill.parts] == ["succeeded", "declined"]
    assert (bill.status, bill.balance) == ("open", 300_00)
    bill = await bills.pay_bill(bill.id, cash(300_00))
    assert (bill.status, bill.paid) == ("paid", 500_00)
    assert [p.status for p in bill.parts] == ["succeeded", "declined", "succeeded"]


async def test_a_part_must_fit_the_bill(gateway: Gateway) -> None:
    bills = gateway.bills
    bill = await bills.open_bill(amount=500_00, currency="INR", operator="asha")
    refusals = [
        (card(500_01), r"₹500.01 is more than the ₹500.00 still due"),
        (card(100_00).model_copy(update={"currency": "USD"}), "is in INR, not USD"),
        (card(100_00, tip=10_00), "no tip"),
        (card(100_00, capture="manual"), "captured at once"),
        (ChargeRequest(amount=100_00, currency="INR", method="link"), "not by a payment link"),
    ]
    for request, message in refusals:
        with pytest.raises(BillError, match=message):
            await bills.pay_bill(bill.id, request)
    assert gateway.list_day() == []  # nothing stored, no bank asked
    with pytest.raises(UnknownBill, match="no bill bill_20261128_nope"):
        await bills.pay_bill("bill_20261128_nope", cash(1_00))
    with pytest.raises(UnknownBill, match="no bill pay_x"):
        gateway.bills.get_bill("pay_x")
    with pytest.raises(InputError, match="more than zero"):
        await bills.open_bill(amount=0, currency="INR", operator="asha")


async def test_open_bill_by_the_same_key_answers_the_same_bill(gateway: Gateway) -> None:
    bills = gateway.bills
    first = await bills.open_bill(amount=900_00, currency="INR", operator="a", idempotency_key="k1")
    again = await bills.open_bill(amount=900_00, currency="INR", operator="a", idempotency_key="k1")
    assert again == first and len(bills.bills()) == 1
    with pytest.raises(IdempotencyConflict, match=f"opened bill {first.id} of ₹900.00"):
        await bills.open_bill(amount=800_00, currency="INR", operator="a", idempotency_key="k1")


async def test_a_part_paid_again_with_its_key_is_paid_once(gateway: Gateway) -> None:
    bills = gateway.bills
    bill = await bills.open_bill(amount=500_00, currency="INR", operator="asha")
    once = await bills.pay_bill(bill.id, card(500_00, idempotency_key="part-1"))
    twice = await bills.pay_bill(bill.id, card(500_00, idempotency_key="part-1"))
    assert once == twice and len(twice.parts) == 1 and twice.status == "paid"


async def test_cancel_gives_back_every_part_with_a_manager(
    runtime: Runtime, gateway: Gateway
) -> None:
    bills = gateway.bills
    bill = await bills.open_bill(amount=1000_00, currency="INR", operator="asha")
    await bills.pay_bill(bill.id, card(300_00))
    await bills.pay_bill(bill.id, cash(200_00))
    await bills.pay_bill(bill.id, card(100_00, DECLINED))
    bill = await bills.pay_bill(bill.id, upi(250_00))
    assert [p.status for p in bill.parts] == ["succeeded", "succeeded", "declined", "pending"]
    with pytest.raises(NotPermitted, match="a manager must approve"):
        await bills.cancel_bill(bill.id, operator="asha")
    assert bills.get_bill(bill.id).status == "open"  # nothing done without the manager
    canceled = await bills.cancel_bill(bill.id, operator="asha", approval=MANAGER)
    assert (canceled.status, canceled.paid, canceled.approved_by) == ("canceled", 0, "meera")
    assert [(p.status, p.refunded) for p in canceled.parts] == [
        ("succeeded", 300_00),
        ("succeeded", 200_00),
        ("declined", 0),
        ("canceled", 0),
    ]
    for part in canceled.parts[:2]:
        (refund,) = gateway.get(part.payment_id).refunds
        assert refund.approver == "meera"
    assert bill_actions(runtime, bill.id)[-3:] == ["bill.canceling", "bill.part", "bill.canceled"]
    assert await bills.cancel_bill(bill.id, operator="asha") == canceled  # done already
    with pytest.raises(BillNotOpen, match="is canceled"):
        await bills.pay_bill(bill.id, cash(1_00))
    books = await runtime.gateway.bank.ledger_check()
    assert books.ok, books.problem


async def test_a_paid_bill_is_not_canceled(gateway: Gateway) -> None:
    bill = await gateway.bills.open_bill(amount=100_00, currency="INR", operator="asha")
    await gateway.bills.pay_bill(bill.id, cash(100_00))
    with pytest.raises(BillNotOpen, match="is paid: refund its payments instead"):
        await gateway.bills.cancel_bill(bill.id, operator="asha", approval=MANAGER)


async def test_a_bill_with_only_pending_parts_is_canceled_without_a_manager(
    gateway: Gateway,
) -> None:
    bill = await gateway.bills.open_bill(amount=100_00, currency="INR", operator="asha")
    bill = await gateway.bills.pay_bill(bill.id, upi(100_00))
    bill = await gateway.bills.cancel_bill(bill.id, operator="asha")
    assert (bill.status, [p.status for p in bill.parts]) == ("canceled", ["canceled"])


async def test_repair_finishes_a_canceling_bill_under_its_approval(
    runtime: Runtime, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    bills = gateway.bills
    bill = await bills.open_bill(amount=500_00, currency="INR", operator="asha")
    await bills.pay_bill(bill.id, card(200_00))
    await bills.pay_bill(bill.id, cash(100_00))

    async def stopped(*args, **kw):
        raise KeyboardInterrupt  # the process stops after `canceling` is stored

    with monkeypatch.context() as m:
        m.setattr(gateway, "refund", stopped)
        with pytest.raises(KeyboardInterrupt):
            await bills.cancel_bill(bill.id, operator="asha", approval=MANAGER)
    assert bills.get_bill(bill.id).status == "canceling"
    assert await bills.repair() == [f"{bill.id}: canceled"]
    repaired = bills.get_bill(bill.id)
    assert (repaired.status, repaired.paid, repaired.approved_by) == ("canceled", 0, "meera")
    assert await bills.repair() == []


async def test_repair_marks_paid_an_open_bill_whose_parts_add_up(
    runtime: Runtime, gateway: Gateway
) -> None:
    nb: Voucher = gateway.tenders["netbanking"]  # type: ignore[assignment]  # its answers
    bill = await gateway.bills.open_bill(amount=300_00, currency="INR", operator="asha")
    await gateway.bills.pay_bill(bill.id, cash(100_00))
    nb_part = ChargeRequest(
        amount=200_00, currency="INR", method="netbanking", netbanking={"bank": "FAKE"}
    )
    bill = await gateway.bills.pay_bill(bill.id, nb_part)
    nb.answers[bill.parts[1].payment_id] = True
    assert len(await gateway.repair()) == 1  # the payment settles; the bill is not read
    assert await gateway.bills.repair() == [f"{bill.id}: paid"]
    assert "bill.paid" in bill_actions(runtime, bill.id)


# -- a stop between a part's payment and the bill's update -----------------------------
STOP = """
import asyncio, os, signal, sys
from datetime import date
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from support import MANAGER, VISA, card_input
from bank_sim.embedded import simulated_banks
from gateway_core.gateway import ChargeRequest
from gateway_core.runtime import Runtime
from gateway_core.settings import load_settings

def part(amount):
    return ChargeRequest(amount=amount, currency="INR", card=card_input(VISA), operator="asha")

def kill(*args, **kw):
    os.kill(os.getpid(), signal.SIGKILL)

async def main(then):
    settings = load_settings(data_dir=Path(sys.argv[1]), timezone="Asia/Kolkata")
    rt = Runtime.open(settings, banks=simulated_banks)
    bills = rt.gateway.bills
    bill = await bills.open_bill(amount=500_00, currency="INR", operator="asha")
    await bills.pay_bill(bill.id, part(200_00))
    print(bill.id, flush=True)
    if then == "canceling":  # killed once `canceling` is stored, before the first refund
        rt.gateway.refund = kill
        await bills.cancel_bill(bill.id, operator="asha", approval=MANAGER)
    settled = bills._settled
    def killed(bill_id, actor, *found):
        if found:  # the part's payment is stored; the bill is not updated yet
            kill()
        return settled(bill_id, actor, *found)
    bills._settled = killed
    await bills.pay_bill(bill.id, part(300_00 if then == "complete" else 200_00))

asyncio.run(main(sys.argv[3]))
"""


def stop_mid_bill(data_dir: Path, then: str) -> str:
    """A process opens a bill, pays a part, and is SIGKILLed after the next part's
    payment is stored, before the bill is updated (or, `canceling`, once the cancel is
    stored, before any refund): the bill's id."""
    tests = Path(__file__).parents[1]
    proc = subprocess.run(
        [sys.executable, "-c", STOP, str(data_dir), str(tests), then],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    return proc.stdout.split()[0]


async def test_a_stop_after_the_last_part_is_repaired_to_paid(settings: Settings) -> None:
    bill_id = stop_mid_bill(settings.data_dir, "complete")
    rt = open_runtime(settings)
    try:
        stored = rt.gateway.bills.get_bill(bill_id)
        assert (stored.status, len(stored.parts)) == ("open", 1)  # the second not listed
        notes = await rt.gateway.bills.repair()
        assert notes[-1] == f"{bill_id}: paid" and "listed (stored before a stop)" in notes[0]
        bill = rt.gateway.bills.get_bill(bill_id)
        assert (bill.status, [p.amount for p in bill.parts]) == ("paid", [200_00, 300_00])
    finally:
        await rt.aclose()


async def test_a_stop_mid_bill_then_cancel_gives_back_the_part_not_listed(
    settings: Settings,
) -> None:
    bill_id = stop_mid_bill(settings.data_dir, "cancel")
    rt = open_runtime(settings)
    try:
        assert await rt.gateway.bills.repair() == [
            f"{bill_id}: part {p} listed (stored before a stop)"
            for p in [rt.gateway.list_day()[-1].id]
        ]
        bill = await rt.gateway.bills.cancel_bill(bill_id, operator="asha", approval=MANAGER)
        assert (bill.status, [p.refunded for p in bill.parts]) == ("canceled", [200_00, 200_00])
        books = await rt.gateway.bank.ledger_check()
        assert books.ok, books.problem
    finally:
        await rt.aclose()


async def test_a_stop_mid_cancel_is_finished_by_repair_under_the_approval(
    settings: Settings,
) -> None:
    bill_id = stop_mid_bill(settings.data_dir, "canceling")
    rt = open_runtime(settings)
    try:
        stored = rt.gateway.bills.get_bill(bill_id)
        assert (stored.status, stored.approved_by, stored.paid) == ("canceling", "meera", 200_00)
        assert await rt.gateway.bills.repair() == [f"{bill_id}: canceled"]
        bill = rt.gateway.bills.get_bill(bill_id)
        assert (bill.status, bill.paid, bill.parts[0].refunded) == ("canceled", 0, 200_00)
        (refund,) = rt.gateway.get(bill.parts[0].payment_id).refunds
        assert (refund.approver, refund.operator) == ("meera", "repair")
        books = await rt.gateway.bank.ledger_check()
        assert books.ok, books.problem
    finally:
        await rt.aclose()


async def test_a_key_of_another_payment_is_not_taken_for_a_part(gateway: Gateway) -> None:
    sale = await gateway.charge(card(100_00, idempotency_key="k-9"))
    bill = await gateway.bills.open_bill(amount=500_00, currency="INR", operator="asha")
    with pytest.raises(IdempotencyConflict, match=f"this idempotency key paid {sale.id}"):
        await gateway.bills.pay_bill(bill.id, card(100_00, idempotency_key="k-9"))
    assert gateway.bills.get_bill(bill.id).parts == []


async def test_a_lookup_creates_nothing_and_a_failed_write_stores_nothing(
    runtime: Runtime, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = runtime.store.days()
    with pytest.raises(UnknownBill):
        gateway.bills.get_bill("bill_20300101_nothing")
    assert gateway.bills.bills(date(2030, 1, 1)) == []
    assert runtime.store.days() == days  # no day's files made by a lookup

    def broken(*args, **kw):
        raise OSError("disk full")

    monkeypatch.setattr(runtime.audit, "record", broken)
    with pytest.raises(OSError):
        await gateway.bills.open_bill(amount=100_00, currency="INR", operator="asha")
    monkeypatch.undo()
    assert gateway.bills.bills() == [] and runtime.audit.verify().ok
    bill = await gateway.bills.open_bill(amount=100_00, currency="INR", operator="asha")
    assert [b.id for b in gateway.bills.bills()] == [bill.id]


async def test_a_net_banking_part_waits_and_a_cancel_gives_it_up(runtime: Runtime) -> None:
    bills = runtime.gateway.bills
    bill = await bills.open_bill(amount=300_00, currency="INR", operator="asha")
    nb = ChargeRequest(
        amount=300_00, currency="INR", method="netbanking", netbanking={"bank": "DEMOA"}
    )
    bill = await bills.pay_bill(bill.id, nb)
    (part,) = bill.parts
    assert (part.status, part.label, bill.balance) == ("pending", "Net banking Demo Bank A", 300_00)
    with pytest.raises(BillError, match=r"still due on bill .* \(₹300.00 waiting\)"):
        await bills.pay_bill(bill.id, card(1_00))
    bill = await bills.cancel_bill(bill.id, operator="asha")  # nothing taken: no manager
    assert (bill.status, bill.parts[0].status) == ("canceled", "canceled")
