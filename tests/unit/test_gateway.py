"""The gateway end to end over the embedded banks (httpx.ASGITransport, no sockets).

Every demo test card, OTP step-up, pre-authorization and its fate, refunds,
idempotency (also under 50 concurrent retries), the ISO 8583 frames the terminal shows,
and no card data in any file of the data dir.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pg_support import table_rows
from pydantic import SecretStr
from support import (
    MANAGER,
    VISA,
    World,
    account,
    actions,
    amount_for,
    card_input,
    charge,
    gateway_settings,
    latest_otp,
    open_runtime,
    open_world,
    pan_pattern,
)

from bank_sim.testcards import EXPIRY, LUHN_FAILURE, TEST_CARDS, card_for
from bank_sim.testcards import TestCard as DemoCard
from gateway_core.acquirer_api import Account
from gateway_core.bank_client import BankRefused
from gateway_core.cards import CardInput, LuhnFailed
from gateway_core.clock import FixedClock
from gateway_core.errors import InputError
from gateway_core.gateway import (
    ChargeRequest,
    IdempotencyConflict,
    NotAllowed,
    WrongOtp,
)
from gateway_core.payments import Payment, reason_for

OTP_CARD = card_for("4000 0000 0000 3220")
TIMEOUT_S = 1.0  # generous: only the timeout card may time out


@pytest.fixture
async def world(
    tmp_path: Path, clock: FixedClock, database_url: str | None
) -> AsyncIterator[World]:
    """The gateway on each backend: the embedded store, then PostgreSQL."""
    data = tmp_path / "data"
    async with open_world(data, clock, TIMEOUT_S, database_url=database_url) as opened:
        yield opened


# -- every card --------------------------------------------------------------------------
@pytest.mark.parametrize("card", TEST_CARDS, ids=lambda c: f"{c.digits}-{c.expect}")
async def test_every_test_card_end_to_end(world: World, card: DemoCard) -> None:
    gw, rt = world.gw, world.rt
    amount = amount_for(card)
    before = await account(gw, card)
    merchant_before = world.merchant

    payment = await gw.charge(charge(card, amount))
    expected_actions = ["payment.created"]
    if card.expect.startswith("otp->"):
        assert payment.status == "requires_action"
        assert payment.response_code == "1A"
        assert payment.challenge is not None and payment.challenge.tries_left == 3
        assert (await account(gw, card)).held == 0  # nothing held while the OTP is pending
        payment = await gw.confirm_otp(payment.id, await latest_otp(gw))
        expected_actions += ["payment.requires_action", "otp.authenticated"]
    code = card.expect.removeprefix("otp->")
    after = await account(gw, card)

    assert payment.response_code == code
    assert payment.decline_code == reason_for(code).decline_code
    assert after.held == 0
    if code == "00":
        assert payment.status == "succeeded"
        assert payment.amount_captured == amount
        assert payment.auth_code and len(payment.auth_code) == 6
        assert payment.rrn and len(payment.rrn) == 12
        assert payment.stan and len(payment.stan) == 6
        assert after.available == before.available - amount
        assert world.merchant == merchant_before + amount
        expected_actions += ["payment.captured"]  # one single message (0200)
    else:
        assert payment.status == "declined"
        assert payment.amount_captured == 0
        assert after.available == before.available
        assert world.merchant == merchant_before
        if card.fault in ("timeout", "http_500"):
            assert payment.reversal and payment.reversal.startswith("reversed")
            expected_actions += ["payment.bank_failed", "payment.reversed"]
        else:
            expected_actions += ["payment.declined"]

    assert gw.get(payment.id) == payment  # stored before it was returned
    assert actions(rt, payment.id) == expected_actions
    assert rt.audit.verify().ok
    assert (await gw.bank.ledger_check()).ok


async def test_amount_limit_card_approves_within_its_limit(world: World) -> None:
    card = card_for("4000 0000 0000 0614")
    payment = await world.gw.charge(charge(card, 1_000_00))
    assert (payment.status, payment.response_code) == ("succeeded", "00")
    over = await world.gw.charge(charge(card, 1_000_01))
    assert (over.status, over.response_code) == ("declined", "61")


async def test_count_limit_card_is_declined_at_once(world: World) -> None:
    card = card_for("4000 0000 0000 0655")
    payment = await world.gw.charge(charge(card, 1_00))
    assert (payment.status, payment.response_code) == ("declined", "65")


async def test_a_card_runs_out_of_money(world: World) -> None:
    card = card_for("4000 0000 0000 9995")  # ₹10.00
    first = await world.gw.charge(charge(card, 6_00))
    second = await world.gw.charge(charge(card, 6_00))
    assert first.status == "succeeded"
    assert (second.status, second.response_code) == ("declined", "51")
    assert (await account(world.gw, card)).available == 4_00


async def test_luhn_failure_is_refused_before_any_bank_call(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw, rt = world.gw, world.rt

    async def no_bank(*args, **kwargs):
        raise AssertionError("the bank was contacted")

    monkeypatch.setattr(gw.bank, "authorize", no_bank)
    with pytest.raises(LuhnFailed) as info:
        await gw.charge(_luhn_request())
    assert isinstance(info.value, InputError)
    assert "4241" not in str(info.value)
    assert gw.list_day() == []
    assert rt.banks.store.main.table("acquirer_payments").all() == []
    assert rt.vault.find("4242424242424241") is None


def _luhn_request() -> ChargeRequest:
    card = CardInput(pan=SecretStr(LUHN_FAILURE), expiry=EXPIRY, cvv=SecretStr("123"))
    return ChargeRequest(amount=100_00, currency="INR", card=card)


async def test_currency_is_normalized_before_the_bank(world: World) -> None:
    payment = await world.gw.charge(
        ChargeRequest(amount=100_00, currency="inr", card=card_input(VISA))
    )
    assert (payment.status, payment.currency) == ("succeeded", "INR")


async def test_bad_terminal_id_is_input_error_with_nothing_stored(world: World) -> None:
    with pytest.raises(InputError, match="terminal"):
        await world.gw.charge(charge(VISA, terminal_id="TERMINAL9"))
    assert world.gw.list_day() == []
    assert world.rt.banks.store.main.table("acquirer_payments").all() == []


# -- OTP ----------------------------------------------------------------------------------
async def test_otp_wrong_code_three_times_cancels(world: World) -> None:
    gw = world.gw
    before = await account(gw, OTP_CARD)
    payment = await gw.charge(charge(OTP_CARD))
    right = await latest_otp(gw)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(WrongOtp, match="2 tries left"):
        await gw.confirm_otp(payment.id, wrong)
    assert gw.get(payment.id).challenge.tries_left == 2
    with pytest.raises(WrongOtp, match="1 try left"):
        await gw.confirm_otp(payment.id, wrong)
    payment = await gw.confirm_otp(payment.id, wrong)
    assert payment.status == "canceled"
    assert "too many wrong codes" in payment.message
    with pytest.raises(NotAllowed):
        await gw.confirm_otp(payment.id, right)
    after = await account(gw, OTP_CARD)
    assert (after.available, after.held) == (before.available, 0)
    assert actions(world.rt, payment.id)[-1] == "payment.canceled"
    assert (await gw.bank.ledger_check()).ok


async def test_otp_resend_waits_for_the_cooldown(world: World) -> None:
    gw = world.gw
    payment = await gw.charge(charge(OTP_CARD))
    first = await latest_otp(gw)
    with pytest.raises(BankRefused, match="wait 30 s"):
        await gw.resend_otp(payment.id)
    world.clock.advance(seconds=30)
    resent = await gw.resend_otp(payment.id)
    assert resent.status == "requires_action"
    assert resent.challenge.resends_left == 2
    assert len(await gw.bank.outbox()) == 2
    second = await latest_otp(gw)
    if second != first:  # the old code stops working once a new one is sent
        with pytest.raises(WrongOtp):
            await gw.confirm_otp(payment.id, first)
    payment = await gw.confirm_otp(payment.id, second)
    assert (payment.status, payment.response_code) == ("succeeded", "00")
    assert "otp.resent" in actions(world.rt, payment.id)


async def test_otp_expired_code_cancels(world: World) -> None:
    gw = world.gw
    payment = await gw.charge(charge(OTP_CARD))
    code = await latest_otp(gw)
    world.clock.advance(minutes=5, seconds=1)
    payment = await gw.confirm_otp(payment.id, code)
    assert payment.status == "canceled"
    assert "expired" in payment.message
    assert (await account(gw, OTP_CARD)).held == 0


async def test_repair_cancels_an_expired_otp(world: World) -> None:
    gw = world.gw
    waiting = await gw.charge(charge(OTP_CARD))
    second = await gw.charge(charge(OTP_CARD, 50_00))
    assert await gw.repair() == []  # nothing is stale yet
    world.clock.advance(minutes=6)
    notes = await gw.repair()
    assert sorted(notes) == sorted(f"{p.id}: OTP expired, canceled" for p in (waiting, second))
    assert gw.get(waiting.id).status == "canceled"
    assert await gw.repair() == []


async def test_void_while_waiting_for_the_otp(world: World) -> None:
    payment = await world.gw.charge(charge(OTP_CARD))
    voided = await world.gw.void(payment.id, approval=MANAGER)
    assert voided.status == "canceled"
    with pytest.raises(NotAllowed):
        await world.gw.confirm_otp(payment.id, await latest_otp(world.gw))


# -- pre-authorization --------------------------------------------------------------------
async def preauth(world: World, amount: int = 1_000_00) -> tuple[Payment, Account]:
    before = await account(world.gw, VISA)
    payment = await world.gw.charge(charge(VISA, amount, capture="manual"))
    assert payment.status == "requires_capture"
    held = await account(world.gw, VISA)
    assert (held.available, held.held) == (before.available - amount, amount)
    return payment, before


async def test_partial_capture_releases_the_rest(world: World) -> None:
    gw = world.gw
    payment, before = await preauth(world)
    merchant = world.merchant
    payment = await gw.capture(payment.id, 400_00)
    assert (payment.status, payment.amount_captured) == ("succeeded", 400_00)
    after = await account(gw, VISA)
    assert (after.available, after.held) == (before.available - 400_00, 0)
    assert world.merchant == merchant + 400_00
    with pytest.raises(NotAllowed):
        await gw.capture(payment.id, 100_00)  # once only
    with pytest.raises(NotAllowed):
        await gw.void(payment.id, approval=MANAGER)  # captured: refund instead
    assert (await account(gw, VISA)) == after
    assert (await gw.bank.ledger_check()).ok


async def test_capture_above_the_authorization_is_refused(world: World) -> None:
    payment, _ = await preauth(world)
    for amount in (0, -1, 1_000_01):
        with pytest.raises(InputError):
            await world.gw.capture(payment.id, amount)
    assert world.gw.get(payment.id).status == "requires_capture"


async def test_void_before_capture_releases_the_hold(world: World) -> None:
    gw = world.gw
    payment, before = await preauth(world)
    merchant = world.merchant
    payment = await gw.void(payment.id, approval=MANAGER)
    assert payment.status == "canceled"
    assert await account(gw, VISA) == before
    assert world.merchant == merchant
    with pytest.raises(NotAllowed):
        await gw.capture(payment.id)
    with pytest.raises(NotAllowed):
        await gw.void(payment.id, approval=MANAGER)
    assert "0400" in {f.mti for f in await gw.bank.frames(payment.id)}
    assert actions(world.rt, payment.id)[-1] == "payment.voided"
    assert (await gw.bank.ledger_check()).ok


async def test_refunds_partial_several_never_above_the_capture(world: World) -> None:
    gw = world.gw
    payment, before = await preauth(world)
    payment = await gw.capture(payment.id, 600_00)
    merchant = world.merchant
    payment = await gw.refund(payment.id, 100_00, approval=MANAGER)
    payment = await gw.refund(payment.id, 150_00, approval=MANAGER)
    assert payment.amount_refunded == 250_00
    assert [r.amount for r in payment.refunds] == [100_00, 150_00]
    with pytest.raises(InputError, match="at most"):
        await gw.refund(payment.id, 350_01, approval=MANAGER)
    payment = await gw.refund(payment.id, approval=MANAGER)  # the rest
    assert payment.amount_refunded == payment.amount_captured == 600_00
    with pytest.raises(NotAllowed, match="fully refunded"):
        await gw.refund(payment.id, 1, approval=MANAGER)
    assert await account(gw, VISA) == before
    assert world.merchant == merchant - 600_00
    assert actions(world.rt, payment.id).count("payment.refunded") == 3
    assert (await gw.bank.ledger_check()).ok


async def test_refund_of_a_declined_or_uncaptured_payment_is_refused(world: World) -> None:
    payment, _ = await preauth(world)
    with pytest.raises(NotAllowed):
        await world.gw.refund(payment.id, 1_00, approval=MANAGER)
    declined = await world.gw.charge(charge(card_for("4000 0000 0000 0002")))
    with pytest.raises(NotAllowed):
        await world.gw.refund(declined.id, 1_00, approval=MANAGER)


# -- idempotency ---------------------------------------------------------------------------
async def test_same_key_same_params_returns_the_stored_payment(world: World) -> None:
    gw = world.gw
    before = await account(gw, VISA)
    first = await gw.charge(charge(VISA, 250_00, idempotency_key="order-1"))
    again = await gw.charge(charge(VISA, 250_00, idempotency_key="order-1"))
    assert again == first
    assert len(gw.list_day()) == 1
    assert (await account(gw, VISA)).available == before.available - 250_00
    world.clock.advance(hours=25)  # keys are kept at least 24 h, repair's sweep included
    await gw.repair()
    assert await gw.charge(charge(VISA, 250_00, idempotency_key="order-1")) == first
    assert (await account(gw, VISA)).available == before.available - 250_00


async def test_same_key_other_params_is_a_conflict(world: World) -> None:
    gw = world.gw
    await gw.charge(charge(VISA, 250_00, idempotency_key="order-2"))
    before = await account(gw, VISA)
    other_card = card_for("4111 1111 1111 1111")
    for req in (
        charge(VISA, 250_01, idempotency_key="order-2"),
        charge(VISA, 250_00, idempotency_key="order-2", capture="manual"),
        charge(other_card, 250_00, idempotency_key="order-2"),
    ):
        with pytest.raises(IdempotencyConflict):
            await gw.charge(req)
    assert len(gw.list_day()) == 1
    assert await account(gw, VISA) == before


async def test_fifty_concurrent_retries_make_one_payment_and_one_hold(world: World) -> None:
    gw = world.gw
    before = await account(gw, VISA)
    results = await asyncio.gather(
        *(gw.charge(charge(VISA, 321_00, capture="manual", idempotency_key="k")) for _ in range(50))
    )
    assert {p.id for p in results} == {results[0].id}
    assert {p.status for p in results} == {"requires_capture"}
    assert [p.id for p in gw.list_day()] == [results[0].id]
    after = await account(gw, VISA)
    assert (after.available, after.held) == (before.available - 321_00, 321_00)
    assert len(world.rt.banks.store.main.table("acquirer_payments")) == 1
    assert actions(world.rt, results[0].id).count("payment.created") == 1
    assert (await gw.bank.ledger_check()).ok


# -- frames and card data ------------------------------------------------------------------
async def test_frames_are_iso8583_with_the_pan_masked(world: World) -> None:
    gw = world.gw
    payment = await gw.charge(charge(VISA))
    frames = await gw.bank.frames(payment.id)
    mtis = [f.mti for f in frames]
    assert mtis == ["0200", "0200", "0210", "0210"]  # a sale: one single message
    preauth = await gw.capture((await gw.charge(charge(VISA, capture="manual"))).id)
    mtis = [f.mti for f in await gw.bank.frames(preauth.id)]
    assert mtis[:4] == ["0100", "0100", "0110", "0110"]
    assert {"0220", "0230"} <= set(mtis)
    request = frames[0]
    assert request.fields["2"] == "424242******4242"
    assert request.fields["14"] == "****"
    assert request.fields["4"] == "000000010000"
    assert request.fields["41"] == world.rt.settings.terminal_id
    response = frames[3]
    assert response.fields["39"] == "00"
    assert response.fields["38"] == payment.auth_code
    assert response.fields["37"] == payment.rrn
    text = "".join(f.model_dump_json() for f in frames).encode()
    assert not pan_pattern(VISA.pan).search(text)
    assert b"CVV=123" not in text
    assert all("123" not in f.fields.get("48", "") for f in frames)
    assert await gw.bank.frames("pay_20261128_nosuchthing") == []


async def test_no_card_data_in_any_file_after_every_card(
    tmp_path: Path, clock: FixedClock, database_url: str | None
) -> None:
    settings = gateway_settings(tmp_path / "data", TIMEOUT_S, database_url)
    rt = open_runtime(settings, clock=clock)
    gw = rt.gateway
    rt.banks.config.slow_fault_s = 0.02
    try:
        for number, card in enumerate(TEST_CARDS):
            key = f"order-{number}"
            payment = await gw.charge(charge(card, amount_for(card), idempotency_key=key))
            if payment.status == "requires_action":
                await gw.confirm_otp(payment.id, await latest_otp(gw))
            pre = await gw.charge(charge(card, 1_00, capture="manual"))
            if pre.status == "requires_capture":
                await gw.capture(pre.id, 50)
                await gw.refund(pre.id, approval=MANAGER)
        with pytest.raises(LuhnFailed):
            await gw.charge(_luhn_request())
        found_open = scan(settings.data_dir, database_url)
    finally:
        await rt.aclose()
    assert found_open == []
    assert scan(settings.data_dir, database_url) == []  # after compaction too


def scan(data_dir: Path, database_url: str | None = None) -> list[tuple[str, str]]:
    """Card numbers and CVVs found in the data dir's files, and in every row of every
    table of the database when the records are there."""
    patterns = [(c.pan, pan_pattern(c.pan)) for c in TEST_CARDS]
    patterns.append((LUHN_FAILURE, pan_pattern(LUHN_FAILURE)))
    files = [p for p in sorted(data_dir.rglob("*")) if p.is_file()]
    assert any("banks" in p.parts for p in files)  # the banks' store is scanned too
    contents = [(str(path), path.read_bytes()) for path in files]
    if database_url:
        rows = table_rows(database_url)
        assert dict(rows)["table payments"]  # the records are scanned there
        contents += rows
    found = []
    for path, content in contents:
        found += [(path, pan) for pan, pattern in patterns if pattern.search(content)]
        if b"CVV=123" in content or b"CVV=1234" in content:
            found.append((str(path), "CVV"))
    return found


# -- a write that fails half-way through a charge ----------------------------------------
class DiskFull(OSError):
    """A storage failure injected into one write."""


def _fail_once(monkeypatch: pytest.MonkeyPatch, obj: object, name: str) -> None:
    real = getattr(obj, name)

    def failing(*args, **kwargs):
        monkeypatch.setattr(obj, name, real)
        raise DiskFull("no space left on device")

    monkeypatch.setattr(obj, name, failing)


@pytest.mark.parametrize(
    "write", ["payments", "idempotency"], ids=["payment-save", "idempotency-insert"]
)
async def test_a_charge_cut_short_by_a_failed_write_is_repaired_and_retried_once(
    world: World, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    """The process stops between two writes of a charge (here: the write fails). Repair
    still runs, the retry with the same key takes the sale once, and nothing stays held."""
    gw = world.gw
    target, name = (
        (gw._payments, "save") if write == "payments" else (gw._records.idempotency, "add")
    )
    _fail_once(monkeypatch, target, name)
    req = charge(VISA, 640_00, idempotency_key="cut-short-1")
    with pytest.raises(DiskFull):
        await gw.charge(req)
    await gw.repair()  # never stuck on what the failed write left behind
    paid = await gw.charge(req)
    again = await gw.charge(req)
    assert paid.status == "succeeded" and again.id == paid.id
    assert await gw.repair() == []
    days = gw.list_day()
    assert [p.id for p in days if p.status == "succeeded"] == [paid.id]
    assert all(p.status == "declined" for p in days if p.id != paid.id)  # reversed: never sent
    assert (await gw.bank.ledger_check()).ok


async def test_a_step_failing_after_its_audit_event_stores_none_of_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bank's answer, its audit event and the risk statistics are one block of
    writes: when the last of them fails, none is stored, and the audit chain goes on
    from what is (it would skip a number if the log still counted the lost event)."""
    gw = world.gw
    events = len(list(world.rt.audit._repo.events()))
    _fail_once(monkeypatch, gw.risk, "record")
    with pytest.raises(DiskFull):
        await gw.charge(charge(VISA, 100_00))
    assert len(list(world.rt.audit._repo.events())) == events + 1  # payment.created only
    [left] = gw.list_day()
    assert left.status == "unknown"
    assert await gw.repair() == [f"{left.id}: reversed, declined 91"]
    paid = await gw.charge(charge(VISA, 50_00))
    assert paid.status == "succeeded"
    assert world.rt.audit.verify().ok
    assert (await gw.bank.ledger_check()).ok


async def test_a_failed_step_leaves_no_attempt_counted_by_the_risk_rules(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The risk rules count attempts in memory as they store them; when the block that
    stored one fails, the count forgets it too (velocity limits count stored ones)."""
    gw = world.gw
    _fail_once(monkeypatch, gw.risk._state, "add_ticket")  # after the attempt was counted
    with pytest.raises(DiskFull):
        await gw.charge(charge(VISA, 100_00))
    assert gw.risk._attempts == {}
    paid = await gw.charge(charge(VISA, 50_00))
    assert [len(times) for times in gw.risk._attempts.values()] == [1]
    assert paid.status == "succeeded"
