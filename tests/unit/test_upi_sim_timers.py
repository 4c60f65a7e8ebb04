"""The simulated UPI network's pending transactions: slow and down banks, deemed and
timed-out debits, expiry, collect requests, cancel and reverse (all on a fixed clock)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from upi_sim_support import BASE, START, upi_world

from gateway_core.upi_api import TEST_BALANCE


@pytest.fixture
async def world(tmp_path):
    async with upi_world(tmp_path) as w:
        yield w


def balance(world, vpa: str) -> int:
    return world.banks.upi.payers.balance(vpa)


async def test_slow_payer_is_pending_then_succeeds_30_s_later(world):
    txn = await world.create(100_00)
    paid = (await world.pay(txn, "slow@payer")).json()
    assert (paid["status"], paid["response_code"]) == ("PENDING", None)
    world.clock.advance(seconds=29)
    assert (await world.status(txn.txn_id)).status == "PENDING"
    assert await world.callbacks() == []
    world.clock.advance(seconds=1)
    [cb] = await world.callbacks()  # the fetch itself resolves what is due
    assert (cb.status, cb.response_code, cb.rrn) == ("SUCCESS", "00", paid["rrn"])
    assert balance(world, "slow@payer") == TEST_BALANCE - 100_00
    status = await world.status(txn.txn_id)
    assert status.status == "SUCCESS"
    assert status.updated_at == START + timedelta(seconds=30)  # when it was due


async def test_bank_down_is_bt_pending_and_succeeds_when_the_bank_is_back(world):
    txn = await world.create(100_00)
    paid = (await world.pay(txn, "bankdown@payer")).json()
    assert (paid["status"], paid["response_code"]) == ("PENDING", "BT")
    world.clock.advance(seconds=119)
    assert (await world.status(txn.txn_id)).response_code == "BT"
    world.clock.advance(seconds=1)
    assert (await world.status(txn.txn_id)).status == "SUCCESS"
    [cb] = await world.callbacks()
    assert cb.status == "SUCCESS"


async def test_any_call_resolves_what_is_due(world):
    txn = await world.create(100_00)
    await world.pay(txn, "slow@payer")
    world.clock.advance(minutes=1)
    await world.pay(await world.create(), "success@payer")  # another payment
    first, _ = await world.callbacks()
    assert first.txn_id == txn.txn_id


async def test_deemed_is_debited_and_confirmed_at_the_first_status_check(world):
    txn = await world.create(100_00)
    paid = (await world.pay(txn, "deemed@payer")).json()
    assert (paid["status"], paid["response_code"]) == ("DEEMED", "RB")
    assert balance(world, "deemed@payer") == TEST_BALANCE - 100_00
    assert await world.callbacks() == []
    check = await world.ledger_ok()
    assert check["ok"] and check["debits"] == 100_00 and check["credits"] == 0
    status = await world.status(txn.txn_id)
    assert (status.status, status.response_code) == ("SUCCESS", "00")
    [cb] = await world.callbacks()
    assert cb.status == "SUCCESS"
    assert (await world.ledger_ok())["credits"] == 100_00


async def test_timeout_is_debited_never_confirmed_and_reversed(world):
    txn = await world.create(100_00)
    paid = (await world.pay(txn, "timeout@payer")).json()
    assert (paid["status"], paid["response_code"]) == ("PENDING", "UT")
    world.clock.advance(minutes=10)  # past the expiry: a debited one does not expire
    assert (await world.status(txn.txn_id)).response_code == "UT"
    assert balance(world, "timeout@payer") == TEST_BALANCE - 100_00
    r = await world.client.post(f"{BASE}/transactions/{txn.txn_id}/reverse")
    assert (r.json()["status"], r.json()["response_code"]) == ("REVERSED", "UT")
    assert balance(world, "timeout@payer") == TEST_BALANCE
    [cb] = await world.callbacks()
    assert (cb.status, cb.response_code) == ("REVERSED", "UT")
    lines = await world.client.get(f"{BASE}/settlement/{START.date()}")
    [line] = lines.json()
    assert (line["kind"], line["txn_id"], line["original_txn_id"]) == (
        "reversal",
        txn.txn_id,
        txn.txn_id,
    )
    assert (line["response_code"], line["amount"]) == ("UT", 100_00)
    check = await world.ledger_ok()
    assert check["ok"] and (check["debits"], check["reversals"]) == (100_00, 100_00)
    again = await world.client.post(f"{BASE}/transactions/{txn.txn_id}/reverse")
    assert again.json()["status"] == "REVERSED" and balance(world, "timeout@payer") == TEST_BALANCE


async def test_nobody_pays_the_qr_it_expires_with_u69(world):
    txn = await world.create(100_00)
    world.clock.advance(minutes=5)
    paid = (await world.pay(txn, "success@payer")).json()
    assert (paid["status"], paid["response_code"]) == ("EXPIRED", "U69")
    [cb] = await world.callbacks()
    assert (cb.status, cb.response_code) == ("EXPIRED", "U69")
    assert balance(world, "success@payer") == TEST_BALANCE


async def test_cancel_before_anyone_paid_is_canceled_without_a_callback(world):
    txn = await world.create(100_00)
    r = await world.client.post(f"{BASE}/transactions/{txn.txn_id}/cancel")
    assert r.json()["status"] == "CANCELED"
    assert (await world.pay(txn, "success@payer")).status_code == 409
    world.clock.advance(minutes=10)
    assert (await world.status(txn.txn_id)).status == "CANCELED"
    assert await world.callbacks() == []


async def test_cancel_after_a_debit_never_confirmed_reverses_it(world):
    txn = await world.create(100_00)
    await world.pay(txn, "deemed@payer")
    r = await world.client.post(f"{BASE}/transactions/{txn.txn_id}/cancel")
    assert (r.json()["status"], r.json()["response_code"]) == ("REVERSED", "RB")
    assert balance(world, "deemed@payer") == TEST_BALANCE
    assert (await world.status(txn.txn_id)).status == "REVERSED"  # not confirmed any more


async def test_cancel_of_a_paid_transaction_answers_it_as_it_is(world):
    txn = await world.create(100_00)
    await world.pay(txn, "success@payer")
    r = await world.client.post(f"{BASE}/transactions/{txn.txn_id}/cancel")
    assert r.json()["status"] == "SUCCESS"


async def test_cancel_while_the_payers_bank_works_on_it_changes_nothing(world):
    txn = await world.create(100_00)
    await world.pay(txn, "slow@payer")
    for action in ("cancel", "reverse"):
        r = await world.client.post(f"{BASE}/transactions/{txn.txn_id}/{action}")
        assert r.json()["status"] == "PENDING"
    world.clock.advance(seconds=30)
    [cb] = await world.callbacks()  # the credit comes late: the payee refunds it
    assert cb.status == "SUCCESS"
    assert balance(world, "slow@payer") == TEST_BALANCE - 100_00


async def test_a_bank_down_past_the_expiry_credits_late(world):
    txn = await world.create(100_00)
    world.clock.advance(minutes=4, seconds=50)
    await world.pay(txn, "bankdown@payer")
    world.clock.advance(seconds=100)  # expired by the clock, but the payer approved it
    assert (await world.status(txn.txn_id)).response_code == "BT"
    r = await world.client.post(f"{BASE}/transactions/{txn.txn_id}/reverse")
    assert r.json()["status"] == "PENDING"
    world.clock.advance(seconds=20)
    assert (await world.status(txn.txn_id)).status == "SUCCESS"


# -- collect requests ------------------------------------------------------------------------
async def test_a_collect_request_waits_in_the_payers_inbox_and_is_paid(world):
    txn = await world.create(300_00, flow="collect", payer_vpa="success@payer", note="Order 7")
    inbox = (await world.client.get(f"{BASE}/payer/inbox", params={"vpa": "success@payer"})).json()
    assert [(c["request_id"], c["amount"], c["note"]) for c in inbox] == [
        (txn.txn_id, 300_00, "Order 7")
    ]
    assert inbox[0]["payee_name"] == "Demo Store"
    other = await world.client.get(f"{BASE}/payer/inbox", params={"vpa": "slow@payer"})
    assert other.json() == []
    paid = (await world.pay(txn, "success@payer")).json()
    assert paid["status"] == "SUCCESS"
    assert (
        await world.client.get(f"{BASE}/payer/inbox", params={"vpa": "success@payer"})
    ).json() == []


async def test_a_collect_request_is_paid_only_by_its_payer(world):
    txn = await world.create(flow="collect", payer_vpa="success@payer")
    body = {"request_id": txn.txn_id, "vpa": "slow@payer", "pin": "1234"}
    r = await world.client.post(f"{BASE}/payer/pay", json=body)
    assert r.status_code == 409 and r.json() == {
        "error": "this collect request is for another UPI ID"
    }


async def test_the_payer_declines_a_collect_request(world):
    txn = await world.create(flow="collect", payer_vpa="success@payer")
    body = {"request_id": txn.txn_id, "vpa": "success@payer"}
    r = await world.client.post(f"{BASE}/payer/decline", json=body)
    assert (r.json()["status"], r.json()["response_code"]) == ("FAILURE", "ZA")
    [cb] = await world.callbacks()
    assert (cb.status, cb.response_code) == ("FAILURE", "ZA")


async def test_a_collect_to_a_vpa_without_account_fails_xh_at_once(world):
    for vpa in ("noaccount@payer", "nobody@okbank"):
        txn = await world.create(flow="collect", payer_vpa=vpa)
        assert (txn.status, txn.response_code) == ("FAILURE", "XH")
    assert [cb.response_code for cb in await world.callbacks()] == ["XH", "XH"]


async def test_a_collect_request_expires_and_paying_it_answers_u69(world):
    txn = await world.create(flow="collect", payer_vpa="success@payer")
    world.clock.advance(minutes=5)
    assert (
        await world.client.get(f"{BASE}/payer/inbox", params={"vpa": "success@payer"})
    ).json() == []
    paid = (await world.pay(txn, "success@payer")).json()
    assert (paid["status"], paid["response_code"]) == ("EXPIRED", "U69")
    [cb] = await world.callbacks()
    assert cb.status == "EXPIRED"


async def test_a_qr_cannot_be_declined_nor_paid_as_a_request(world):
    txn = await world.create()
    r = await world.client.post(
        f"{BASE}/payer/decline", json={"request_id": txn.txn_id, "vpa": "success@payer"}
    )
    assert r.status_code == 404
    r = await world.client.post(
        f"{BASE}/payer/pay", json={"request_id": txn.txn_id, "vpa": "success@payer", "pin": "1234"}
    )
    assert r.status_code == 404
    r = await world.client.post(f"{BASE}/payer/pay", json={"vpa": "success@payer", "pin": "1234"})
    assert r.status_code == 409
