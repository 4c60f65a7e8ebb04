"""Refunds on the simulated UPI network, the switch's settlement file, and restarts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from upi_sim_support import BASE, START, upi_world

from gateway_core.clock import FixedClock
from gateway_core.upi_api import TEST_BALANCE, UpiRefund, UpiSettlementLine

DAY = START.date()


@pytest.fixture
async def world(tmp_path):
    async with upi_world(tmp_path) as w:
        yield w


async def paid(world, vpa: str = "success@payer", amount: int = 500_00):
    txn = await world.create(amount)
    result = (await world.pay(txn, vpa)).json()
    assert result["status"] in ("SUCCESS", "PENDING")
    return txn


async def refund(world, txn_id: str, amount: int, refund_id: str):
    body = {"refund_id": refund_id, "txn_id": txn_id, "amount": amount, "note": "returned"}
    return await world.client.post(f"{BASE}/refunds", json=body)


async def settlement(world, day: date = DAY) -> list[UpiSettlementLine]:
    r = await world.client.get(f"{BASE}/settlement/{day}")
    assert r.status_code == 200, r.text
    return [UpiSettlementLine.model_validate(line) for line in r.json()]


async def test_partial_refunds_up_to_the_amount_paid(world):
    txn = await paid(world)
    first = UpiRefund.model_validate((await refund(world, txn.txn_id, 200_00, "rf_1")).json())
    assert (first.status, first.response_code, first.original_txn_id) == (
        "SUCCESS",
        "00",
        txn.txn_id,
    )
    assert first.txn_id != txn.txn_id and len(first.txn_id) <= 35 and len(first.rrn or "") == 12
    assert world.banks.upi.payers.balance("success@payer") == TEST_BALANCE - 300_00
    r = await refund(world, txn.txn_id, 300_01, "rf_2")
    assert r.status_code == 409 and "₹300.00" in r.json()["error"]
    assert (await refund(world, txn.txn_id, 300_00, "rf_2")).json()["status"] == "SUCCESS"
    assert (await refund(world, txn.txn_id, 1, "rf_3")).status_code == 409
    check = await world.ledger_ok()
    assert check["ok"] and check["refunds"] == 500_00


async def test_the_same_refund_id_answers_the_same_refund(world):
    txn = await paid(world)
    first = (await refund(world, txn.txn_id, 100_00, "rf_1")).json()
    again = (await refund(world, txn.txn_id, 100_00, "rf_1")).json()
    assert again == first
    assert (await world.client.get(f"{BASE}/refunds/rf_1")).json() == first
    assert world.banks.upi.payers.balance("success@payer") == TEST_BALANCE - 400_00
    assert (await world.client.get(f"{BASE}/refunds/rf_nope")).status_code == 404


async def test_only_a_paid_transaction_is_refunded(world):
    txn = await world.create()
    r = await refund(world, txn.txn_id, 100, "rf_1")
    assert r.status_code == 409 and r.json()["error"].startswith("only a paid transaction")
    assert (await refund(world, "PGBNOSUCH", 100, "rf_2")).status_code == 404
    assert (await world.client.get(f"{BASE}/refunds/rf_1")).status_code == 404  # nothing kept


async def test_a_refund_while_the_payers_bank_is_down_is_pending_then_done(world):
    txn = await paid(world, "bankdown@payer")
    world.clock.advance(minutes=2)
    assert (await world.status(txn.txn_id)).status == "SUCCESS"
    pending = (await refund(world, txn.txn_id, 500_00, "rf_1")).json()
    assert (pending["status"], pending["response_code"]) == ("PENDING", "BT")
    assert (await world.ledger_ok())["refunds"] == 0
    world.clock.advance(minutes=2)
    done = (await world.client.get(f"{BASE}/refunds/rf_1")).json()
    assert (done["status"], done["response_code"]) == ("SUCCESS", "00")
    assert world.banks.upi.payers.balance("bankdown@payer") == TEST_BALANCE
    assert (await world.ledger_ok())["ok"]


async def test_the_settlement_file_lists_credits_refunds_and_reversals(world):
    a = await paid(world, amount=100_00)
    b = await world.create(200_00)
    await world.pay(b, "timeout@payer")
    await world.client.post(f"{BASE}/transactions/{b.txn_id}/reverse")
    await refund(world, a.txn_id, 40_00, "rf_1")
    await world.pay(await world.create(300_00), "decline@payer")  # nothing moved
    lines = await settlement(world)
    assert [(x.kind, x.amount, x.response_code) for x in lines] == [
        ("credit", 100_00, "00"),
        ("reversal", 200_00, "UT"),
        ("refund", 40_00, "00"),
    ]
    assert all(x.rrn and len(x.rrn) == 12 and x.day == START.date() for x in lines)
    assert lines[0].txn_id == a.txn_id and lines[2].original_txn_id == a.txn_id
    assert lines[0].payer_vpa == "success@payer" and lines[0].reference == a.reference
    assert await settlement(world, START.date() + timedelta(days=1)) == []


async def test_a_late_resolution_lands_on_the_day_it_was_due(world):
    world.clock.advance(hours=13, minutes=59, seconds=50)  # 23:59:50 IST
    txn = await world.create(100_00)
    await world.pay(txn, "slow@payer")  # due 00:00:20, the next day
    world.clock.advance(hours=1)
    [line] = await settlement(world, START.date() + timedelta(days=1))
    assert line.txn_id == txn.txn_id
    assert await settlement(world) == []


async def test_state_survives_a_restart(tmp_path):
    clock = FixedClock(START)
    async with upi_world(tmp_path, clock) as world:
        done = await paid(world)
        slow = await paid(world, "slow@payer")
        for _ in range(3):
            await world.pay(await world.create(), "limit@payer", "0000")  # locked for the day
        await refund(world, done.txn_id, 100_00, "rf_1")
        assert await world.ack(await world.callbacks()) == 4
        refs = world.refs
    clock.advance(seconds=30)
    async with upi_world(tmp_path, clock) as world:
        world.refs = refs
        assert (await world.status(done.txn_id)).status == "SUCCESS"
        assert (await world.status(slow.txn_id)).status == "SUCCESS"  # the timer survived
        assert [cb.txn_id for cb in await world.callbacks()] == [slow.txn_id]
        assert (await world.client.get(f"{BASE}/refunds/rf_1")).json()["amount"] == 100_00
        locked = (await world.pay(await world.create(), "limit@payer")).json()
        assert locked["response_code"] == "ZD"
        again = await world.create(reference=done.reference)
        assert again.txn_id == done.txn_id
        assert (await world.ledger_ok())["ok"] and world.banks.check().ok
