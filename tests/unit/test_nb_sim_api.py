"""The simulated banks' `/netbanking/v1` server to server: banks, boarding and its secret,
create (idempotent, what it refuses), status and its transitions, one-line errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from nb_sim_support import BASE, MERCHANT_ID, START, bank_config, nb_world

from bank_sim import serve as serving
from gateway_core.clock import FixedClock
from gateway_core.netbanking_api import MAX_NB_AMOUNT, TEST_BANKS, NbBank, NbMerchant


@pytest.fixture
async def world(tmp_path):
    async with nb_world(tmp_path) as w:
        yield w


async def test_the_banks_with_their_codes_and_the_down_one(world):
    r = await world.client.get(f"{BASE}/banks")
    banks = [NbBank.model_validate(b) for b in r.json()]
    assert [b.code for b in banks] == list(TEST_BANKS)
    assert [b.code for b in banks if not b.up] == ["DOWN"]


async def test_boarding_again_answers_the_same_secret_per_bank(world):
    merchant = {"merchant_id": MERCHANT_ID, "name": "Renamed Store"}
    r = await world.client.post(f"{BASE}/merchants", params={"bank": "DEMOA"}, json=merchant)
    assert r.status_code == 200 and r.json()["secret"] == world.secrets["DEMOA"]
    assert len(bytes.fromhex(world.secrets["DEMOA"])) == 32
    assert len(set(world.secrets.values())) == len(TEST_BANKS)
    txn = await world.create()
    page = await world.client.get(txn.login_url)
    assert "Renamed Store" in page.text


async def test_a_merchant_may_bring_its_secret_and_keeps_it(world):
    mine = "cd" * 16
    body = {"merchant_id": "OTHER0001", "name": "Other", "secret": mine}
    r = await world.client.post(f"{BASE}/merchants", params={"bank": "DEMOB"}, json=body)
    assert NbMerchant.model_validate(r.json()).secret == mine
    again = await world.client.post(
        f"{BASE}/merchants", params={"bank": "DEMOB"}, json=body | {"secret": "ef" * 16}
    )
    assert again.status_code == 409 and "ef" * 16 not in again.text and mine not in again.text
    short = await world.client.post(
        f"{BASE}/merchants", params={"bank": "DEMOC"}, json=body | {"secret": "abcd"}
    )
    assert short.json() == {"error": "secret: hex, 16 bytes or more"}


@pytest.mark.parametrize(("params", "status"), [({"bank": "NOPE"}, 404), ({}, 422)])
async def test_boarding_needs_a_known_bank(world, params, status):
    body = {"merchant_id": "M2", "name": "M"}
    r = await world.client.post(f"{BASE}/merchants", params=params, json=body)
    assert r.status_code == status and list(r.json()) == ["error"]


async def test_create_is_idempotent_by_bank_and_payment_id(world):
    first = await world.create(payment_id="pay_same")
    again = await world.create(payment_id="pay_same")
    assert again == first
    other_bank = await world.create(payment_id="pay_same", bank="DEMOB")
    assert other_bank.bank_txn != first.bank_txn
    changed = await world.post_create(1_00, payment_id="pay_same")
    assert changed.status_code == 409 and "otherwise" in changed.json()["error"]


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"amount": MAX_NB_AMOUNT + 1}, 409, "at most ₹10,00,000.00"),
        ({"amount": 0}, 409, "more than ₹0.00"),
        ({"currency": "USD"}, 409, "INR only"),
        ({"bank": "NOPE"}, 404, "no bank"),
        ({"merchant_id": "STRANGER"}, 404, "not boarded"),
        ({"return_url": "/relative"}, 409, "return_url"),
        ({"expires_at": START.isoformat()}, 409, "expires_at"),
        ({"payment_id": ""}, 409, "payment id"),
        ({"amount": "lots"}, 422, "amount"),
    ],
)
async def test_create_refuses_bad_input_with_one_line_and_stores_nothing(
    world, change, status, words
):
    r = await world.post_create(**change)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert words in error and "\n" not in error and list(r.json()) == ["error"]
    assert world.banks.nb.txns.all() == []


async def test_the_largest_amount_is_taken(world):
    assert (await world.create(MAX_NB_AMOUNT)).amount == MAX_NB_AMOUNT


async def test_status_of_an_unknown_payment_is_404_and_creates_nothing(world):
    for url in (f"{BASE}/transactions/DEMOA/pay_none", f"{BASE}/transactions/NOPE/pay_none"):
        r = await world.client.get(url)
        assert r.status_code == 404 and list(r.json()) == ["error"]
    assert world.banks.nb.txns.all() == []


async def test_status_moves_created_to_expired_by_the_clock_only(world):
    txn = await world.create()
    world.clock.advance(seconds=599)
    assert (await world.status(txn)).state == "CREATED"
    world.clock.advance(seconds=1)
    done = await world.status(txn)
    assert (done.state, done.code) == ("EXPIRED", "EX")
    assert done.expires_at == txn.created_at + timedelta(minutes=10)


async def test_the_login_url_follows_the_public_address(world):
    world.banks.config.nb_public_url = "http://127.0.0.1:8080/sim/"
    txn = await world.create()
    assert txn.login_url == f"http://127.0.0.1:8080/sim/nb/DEMOA/pay/{txn.bank_txn}"


def test_banks_serve_serves_the_pages_at_its_own_address(tmp_path, monkeypatch):
    served = {}
    monkeypatch.setattr(serving.uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    config = bank_config(tmp_path, FixedClock(START))
    serving.serve(config, host="127.0.0.1", port=8711)
    assert config.nb_public_url == "http://127.0.0.1:8711"
    paths = served["app"].openapi()["paths"]
    assert {"/nb/{bank}/pay/{bank_txn}", "/netbanking/v1/transactions"} <= set(paths)
