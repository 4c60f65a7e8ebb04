"""The simulated UPI network through its routes: create, pay, status, callbacks, payers."""

from __future__ import annotations

import re

import pytest
from upi_sim_support import BASE, MERCHANT_ID, PAYEE_VPA, SECRET, upi_world

from gateway_core.upi_api import (
    TEST_BALANCE,
    TEST_VPAS,
    PayResult,
    callback_is_signed,
    upi_reason,
)


@pytest.fixture
async def world(tmp_path):
    async with upi_world(tmp_path) as w:
        yield w


async def test_a_qr_paid_by_success_payer_succeeds_with_a_signed_callback(world):
    txn = await world.create(250_00)
    assert txn.status == "PENDING" and len(txn.txn_id) <= 35 and txn.payee_vpa == PAYEE_VPA
    r = await world.pay(txn, "success@payer")
    paid = PayResult.model_validate(r.json())
    assert (paid.status, paid.response_code, paid.message) == ("SUCCESS", "00", "Paid")
    assert paid.rrn is not None and len(paid.rrn) == 12 and paid.rrn.isdigit()
    status = await world.status(txn.txn_id)
    assert (status.status, status.rrn, status.payer_vpa) == ("SUCCESS", paid.rrn, "success@payer")
    [cb] = await world.callbacks()
    assert (cb.txn_id, cb.status, cb.response_code, cb.amount) == (
        txn.txn_id,
        "SUCCESS",
        "00",
        250_00,
    )
    assert cb.reference == txn.reference and cb.rrn == paid.rrn
    assert callback_is_signed(cb, SECRET)
    assert not callback_is_signed(cb, "cd" * 32)
    forged = cb.model_copy(update={"amount": 1})
    assert not callback_is_signed(forged, SECRET)


async def test_ack_stops_redelivery(world):
    for _ in range(2):
        await world.pay(await world.create(), "success@payer")
    first = await world.callbacks()
    assert len(first) == 2 and first == await world.callbacks()  # sent again until acked
    assert await world.ack(first[:1]) == 1
    assert await world.callbacks() == first[1:]
    assert await world.ack(first) == 1  # the first one is not counted twice
    assert await world.callbacks() == []


@pytest.mark.parametrize(
    ("vpa", "amount", "code"),
    [
        ("insufficient@payer", 10_01, "Z9"),
        ("limit@payer", 2_000_01, "Z8"),
        ("decline@payer", 100_00, "ZA"),
        ("noaccount@payer", 100_00, "XH"),
        ("stranger@okbank", 100_00, "XH"),
        ("debitfail@payer", 100_00, "U30"),
    ],
)
async def test_each_payer_side_failure_fails_the_transaction_with_its_code(
    world, vpa, amount, code
):
    txn = await world.create(amount, flow="intent")
    paid = PayResult.model_validate((await world.pay(txn, vpa)).json())
    assert (paid.status, paid.response_code) == ("FAILURE", code)
    assert paid.message == upi_reason(code).text
    assert (await world.status(txn.txn_id)).status == "FAILURE"
    [cb] = await world.callbacks()
    assert (cb.status, cb.response_code, cb.payer_vpa) == ("FAILURE", code, vpa)
    assert (await world.ledger_ok())["ok"]


@pytest.mark.parametrize(
    ("vpa", "amount"), [("insufficient@payer", 10_00), ("limit@payer", 2_000_00)]
)
async def test_at_the_limit_the_payer_pays(world, vpa, amount):
    paid = (await world.pay(await world.create(amount), vpa)).json()
    assert paid["status"] == "SUCCESS"


async def test_a_wrong_pin_fails_with_zm_and_the_third_locks_the_payer_for_the_day(world):
    for code in ("ZM", "ZM", "ZD"):
        paid = (await world.pay(await world.create(), "success@payer", "9999")).json()
        assert (paid["status"], paid["response_code"]) == ("FAILURE", code)
    paid = (await world.pay(await world.create(), "success@payer")).json()
    assert paid["response_code"] == "ZD"  # the right PIN too, for the rest of the day
    world.clock.advance(hours=14)  # 00:00 IST: the next business day
    paid = (await world.pay(await world.create(), "success@payer")).json()
    assert paid["status"] == "SUCCESS"


async def test_a_right_pin_resets_the_wrong_pin_count(world):
    for pin in ("9999", "9999", "1234", "9999", "9999"):
        await world.pay(await world.create(), "success@payer", pin)
    paid = (await world.pay(await world.create(), "success@payer")).json()
    assert paid["status"] == "SUCCESS"


async def test_a_pin_that_is_not_4_or_6_digits_is_refused_and_changes_nothing(world):
    txn = await world.create()
    for pin in ("12", "12345", "abcd", "1234567"):
        r = await world.pay(txn, "success@payer", pin)
        assert r.status_code == 409 and r.json() == {"error": "a UPI PIN has 4 or 6 digits"}
        assert pin not in r.text
    assert (await world.status(txn.txn_id)).status == "PENDING"


async def test_the_same_reference_answers_the_first_transaction(world):
    first = await world.create(100_00, reference="order-1")
    again = await world.create(999_00, reference="order-1")
    assert again == first


async def test_refused_requests_answer_one_line(world):
    now = world.clock.now().isoformat()
    base = {"merchant_id": MERCHANT_ID, "reference": "r1", "flow": "qr", "expires_at": now}
    cases = [
        ({"amount": 1_00_000_01}, 409),
        ({"amount": 0}, 409),
        ({"amount": 100, "currency": "USD"}, 422),
        ({"amount": 100, "reference": "x" * 36}, 409),
        ({"amount": 100, "merchant_id": "NOBODY"}, 404),
        ({"amount": 100}, 409),  # expires now
        ({"amount": 100, "flow": "collect"}, 409),  # no payer VPA
    ]
    for fields, code in cases:
        r = await world.client.post(f"{BASE}/transactions", json=base | fields)
        assert r.status_code == code, (fields, r.text)
        assert list(r.json()) == ["error"] and "\n" not in r.json()["error"]
    r = await world.client.get(f"{BASE}/transactions/PGBNOSUCH")
    assert r.status_code == 404 and r.json() == {"error": "no UPI transaction PGBNOSUCH"}


async def test_a_closed_transaction_cannot_be_paid_again(world):
    txn = await world.create()
    await world.pay(txn, "success@payer")
    r = await world.pay(txn, "success@payer")
    assert r.status_code == 409 and r.json() == {"error": "this payment request is paid already"}


async def test_a_link_with_another_amount_or_reference_is_refused(world):
    txn = await world.create(100_00)
    r = await world.pay(txn, "success@payer", amount=99_00)
    assert r.status_code == 409
    other = txn.model_copy(update={"reference": "nobody"})
    assert (await world.pay(other, "success@payer")).status_code == 404


async def test_payers_lists_every_test_vpa(world):
    payers = (await world.client.get(f"{BASE}/payers")).json()
    assert [p["vpa"] for p in payers] == list(TEST_VPAS)
    balances = {p["vpa"]: p["balance"] for p in payers}
    assert balances["success@payer"] == TEST_BALANCE
    assert balances["insufficient@payer"] == 10_00
    assert all(p["bank"] == "Payer Bank" and p["behaviour"] for p in payers)


async def test_boarding_is_idempotent_and_never_echoes_the_secret(world):
    body = {"merchant_id": MERCHANT_ID, "vpa": PAYEE_VPA, "name": "Demo Store", "mcc": "5411"}
    r = await world.client.post(f"{BASE}/merchants", json=body)
    assert r.status_code == 200 and r.json()["callback_secret"] is None
    r = await world.client.post(f"{BASE}/merchants", json=body | {"callback_secret": SECRET})
    assert r.json()["callback_secret"] is None and SECRET not in r.text
    other = {"merchant_id": "OTHER", "vpa": "other@pgbank", "name": "Other", "mcc": "5411"}
    r = await world.client.post(f"{BASE}/merchants", json=other)  # no secret the first time
    assert r.status_code == 409
    r = await world.client.post(f"{BASE}/merchants", json=body | {"merchant_id": "OTHER"})
    assert r.status_code == 409  # the VPA is taken
    secret_bytes = bytes.fromhex(SECRET)
    data = b"".join(p.read_bytes() for p in world.banks.data_dir.rglob("*") if p.is_file())
    assert SECRET.encode() not in data and secret_bytes not in data


async def test_money_moves_payer_to_payee(world):
    await world.pay(await world.create(250_00), "success@payer")
    assert world.banks.upi.payers.balance("success@payer") == TEST_BALANCE - 250_00
    check = await world.ledger_ok()
    assert check == {
        "ok": True,
        "debits": 250_00,
        "credits": 250_00,
        "reversals": 0,
        "refunds": 0,
        "problem": None,
    }
    assert world.banks.check().ok


async def test_the_daily_count_and_amount_limits_give_z8(tmp_path):
    async with upi_world(tmp_path, upi_daily_count=2, upi_daily_amount=300_00) as world:
        results = [
            (await world.pay(await world.create(amount), "success@payer")).json()["response_code"]
            for amount in (100_00, 200_01, 200_00, 1_00)
        ]
        assert results == ["00", "Z8", "00", "Z8"]  # ₹300.01 in the day, then a third
        world.clock.advance(days=1)
        paid = (await world.pay(await world.create(100_00), "success@payer")).json()
        assert paid["response_code"] == "00"


async def test_a_pin_is_never_stored_nor_answered(world):
    r = await world.pay(await world.create(), "success@payer", "987654")
    assert r.json()["response_code"] == "ZM" and "987654" not in r.text
    data = b"".join(p.read_bytes() for p in world.banks.data_dir.rglob("*") if p.is_file())
    assert not re.search(rb"(?<![0-9A-Za-z])987654(?![0-9A-Za-z])", data)  # not in an id
