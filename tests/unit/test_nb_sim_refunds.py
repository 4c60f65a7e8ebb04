"""Refunds against a debit's bank_ref, the banks' settlement files and the books check
(also within `paygate ledger check`'s `Banks.check`)."""

from __future__ import annotations

from datetime import date

import pytest
from nb_sim_support import BASE, MERCHANT_ID, START, bank_return, nb_world

from gateway_core.netbanking_api import TEST_BALANCE, NbRefund, NbSettlementLine


@pytest.fixture
async def world(tmp_path):
    async with nb_world(tmp_path) as w:
        yield w


async def paid(world, amount=1_000_00, bank="DEMOA"):
    txn = await world.create(amount, bank=bank)
    ret = bank_return(await world.pay(txn))
    assert ret.status == "SUCCESS"
    return txn, ret.bank_ref


async def refund(world, txn, bank_ref, amount, refund_id):
    body = {
        "bank": txn.bank,
        "refund_id": refund_id,
        "merchant_id": MERCHANT_ID,
        "payment_id": txn.payment_id,
        "bank_ref": bank_ref,
        "amount": amount,
    }
    return await world.client.post(f"{BASE}/refunds", json=body)


async def test_partial_refunds_up_to_the_debit_then_refunded(world):
    txn, ref = await paid(world)
    first = NbRefund.model_validate((await refund(world, txn, ref, 300_00, "re_1")).json())
    assert (first.state, first.code, first.bank_ref, first.amount) == ("SUCCESS", "00", ref, 300_00)
    assert first.refund_ref.startswith("DEMOAR") and first.refund_ref != ref
    assert (await world.status(txn)).refunded == 300_00
    over = await refund(world, txn, ref, 700_01, "re_2")
    assert over.status_code == 409 and over.json() == {
        "error": "a refund is more than ₹0.00 and at most the ₹700.00 left"
    }
    assert (await refund(world, txn, ref, 700_00, "re_3")).status_code == 200
    done = await world.status(txn)
    assert (done.state, done.refunded) == ("REFUNDED", 1_000_00)
    assert (await refund(world, txn, ref, 1, "re_4")).status_code == 409
    assert world.banks.ledger.balance("nb:DEMOA:demo") == TEST_BALANCE
    assert (await world.ledger())["ok"]


async def test_the_same_refund_id_is_the_same_refund(world):
    txn, ref = await paid(world)
    one = (await refund(world, txn, ref, 100_00, "re_same")).json()
    assert (await refund(world, txn, ref, 100_00, "re_same")).json() == one
    assert (await world.status(txn)).refunded == 100_00
    r = await world.client.get(f"{BASE}/refunds/DEMOA/re_same")
    assert r.json() == one
    assert (await world.client.get(f"{BASE}/refunds/DEMOA/re_none")).status_code == 404
    assert (await world.client.get(f"{BASE}/refunds/DEMOB/re_same")).status_code == 404


async def test_refusals(world):
    txn, ref = await paid(world)
    assert (await refund(world, txn, "DEMOAD9999999999", 1_00, "re_a")).status_code == 409
    assert (await refund(world, txn, ref, 0, "re_b")).status_code == 409
    unpaid = await world.create()
    r = await refund(world, unpaid, ref, 1_00, "re_c")
    assert r.status_code == 409 and "only a paid transaction" in r.json()["error"]
    stranger = txn.model_copy(update={"payment_id": "pay_none"})
    assert (await refund(world, stranger, ref, 1_00, "re_d")).status_code == 404
    assert (await world.status(txn)).refunded == 0
    for refund_id in ("re_a", "re_b", "re_c", "re_d"):
        assert (await world.client.get(f"{BASE}/refunds/DEMOA/{refund_id}")).status_code == 404


async def test_settlement_file_per_bank_and_day(world):
    a, ref_a = await paid(world, 1_000_00)
    b, _ = await paid(world, 250_00, bank="DEMOB")
    world.clock.advance(days=1)
    await refund(world, a, ref_a, 400_00, "re_next_day")
    await world.pay(await world.create(50_00), "poor")  # declined: no line

    def lines(bank, day):
        return world.client.get(f"{BASE}/settlement/{bank}/{day.isoformat()}")

    day1, day2 = START.date(), date(2026, 11, 29)
    [credit] = [NbSettlementLine.model_validate(x) for x in (await lines("DEMOA", day1)).json()]
    assert (credit.kind, credit.amount, credit.bank_ref, credit.payment_id) == (
        "credit",
        1_000_00,
        ref_a,
        a.payment_id,
    )
    assert credit.at == START and credit.day == day1 and credit.refund_id is None
    [back] = [NbSettlementLine.model_validate(x) for x in (await lines("DEMOA", day2)).json()]
    assert (back.kind, back.amount, back.bank_ref, back.refund_id) == (
        "refund",
        400_00,
        ref_a,
        "re_next_day",
    )
    [other] = (await lines("DEMOB", day1)).json()
    assert other["amount"] == 250_00 and other["payment_id"] == b.payment_id
    assert (await lines("DOWN", day1)).json() == []
    assert (await lines("NOPE", day1)).status_code == 404


async def test_the_books_balance_and_a_break_is_found(world):
    txn, ref = await paid(world, 1_000_00)
    await paid(world, 2_000_00, bank="DEMOC")
    await refund(world, txn, ref, 100_00, "re_1")
    check = await world.ledger()
    assert check == {
        "ok": True,
        "debits": 3_000_00,
        "credits": 2_900_00,
        "refunds": 100_00,
        "in_transit": 0,
        "problems": [],
    }
    assert check["debits"] == check["credits"] + check["refunds"] + check["in_transit"]
    assert world.banks.check().ok
    # money moved in the ledger without a movement line: both checks see it
    world.banks.ledger.post("tamper", "x", [("nb:DEMOA:demo", -1), ("nb_merchant:DEMOA:M", 1)])
    broken = await world.ledger()
    assert not broken["ok"] and broken["problems"]
    verdict = world.banks.check()
    assert not verdict.ok and verdict.problem.startswith("net banking: ")


async def test_the_books_survive_a_restart(tmp_path):
    async with nb_world(tmp_path) as world:
        txn, ref = await paid(world)
        await refund(world, txn, ref, 1_00, "re_1")
        secret = world.secrets["DEMOA"]
        pending = await world.create()
    async with nb_world(tmp_path) as world:
        assert world.secrets["DEMOA"] == secret
        assert (await world.ledger())["ok"]
        world.clock.advance(minutes=10)
        assert (await world.status(pending)).state == "EXPIRED"
        assert world.banks.ledger.balance("nb:DEMOA:demo") == TEST_BALANCE - 1_000_00 + 1_00
