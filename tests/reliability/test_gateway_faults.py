"""Faults between the gateway and the banks never leave money held.

An issuer timeout or an HTTP 5xx: the gateway reverses and declines 91; when the
reversal fails too the payment is `unknown` until `repair()` settles it (a refused
connection never reached the bank: tests/test_bank_unreachable.py). Repair also
finishes captures that failed and voids stale pre-authorizations.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from support import (
    MANAGER,
    SLOW_CARD,
    TIMEOUT_CARD,
    VISA,
    account,
    actions,
    authorization_retry,
    charge,
    open_world,
)
from support import World as BaseWorld

from bank_sim.app import create_app
from bank_sim.testcards import EXPIRY, card_for
from gateway_core.acquirer_api import Account, AuthorizationRequest
from gateway_core.bank_client import BankClient, BankUnavailable
from gateway_core.clock import FixedClock
from gateway_core.gateway import NotAllowed
from gateway_core.payments import Payment

HTTP_500_CARD = card_for("4000 0000 0000 0507")
TIMEOUT_S = 1.0  # generous: a loaded CI machine must not time out by accident


class FaultyTransport(httpx.AsyncBaseTransport):
    """Passes requests to the banks, except those a rule breaks.

    `refuse`: path fragments whose requests never reach the bank (connection refused).
    `lose`: path fragments whose requests reach the bank but whose answer is lost.
    `dual`: an acquirer that takes a sale as an 0100 hold and a separate capture (no
    single-message 0200), so that the capture's own faults can be met.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, refuse=(), lose=(), dual=False) -> None:
        self.inner, self.refuse, self.lose, self.dual = inner, set(refuse), set(lose), dual
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.seen.append(path)
        if self.dual and path.endswith("/authorizations"):
            body = {**json.loads(request.content), "capture": False}
            request = httpx.Request(request.method, request.url, json=body)
        if any(part in path for part in self.refuse):
            raise httpx.ConnectError("connection refused", request=request)
        response = await self.inner.handle_async_request(request)
        if any(part in path for part in self.lose):
            await response.aread()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


class World(BaseWorld):
    """The gateway over the embedded banks, and ways to break the link to them."""

    @asynccontextmanager
    async def bank_swapped(self, client: BankClient) -> AsyncIterator[BankClient]:
        """The gateway talks to the banks through `client` for the block; then `client` is
        closed and the gateway is back on its own embedded client."""
        embedded = self.gw.bank
        self.gw.bank = client
        try:
            yield client
        finally:
            await client.close()
            self.gw.bank = embedded

    def faulty(self, refuse=(), lose=(), dual=False):
        """`bank_swapped` to a client on the same banks through a `FaultyTransport`."""
        asgi = httpx.ASGITransport(app=create_app(self.rt.banks), raise_app_exceptions=False)
        transport = FaultyTransport(asgi, refuse=refuse, lose=lose, dual=dual)
        client = httpx.AsyncClient(transport=transport, base_url="http://banks")
        return self.bank_swapped(BankClient(client, timeout_s=TIMEOUT_S))


@pytest.fixture
async def world(tmp_path: Path, clock: FixedClock) -> AsyncIterator[World]:
    async with open_world(tmp_path / "data", clock, TIMEOUT_S, World) as opened:
        yield opened  # `bank_swapped` puts the embedded client back, even on failure


async def sale_with_faulty_capture(world: World, **fault) -> tuple[Payment, Account]:
    """A ₹300.00 sale on VISA while `world.faulty(**fault)` breaks the link to the banks,
    and the card's account before it; the capture did not go through."""
    before = await account(world.gw, VISA)
    async with world.faulty(dual=True, **fault):
        payment = await world.gw.charge(charge(VISA, 300_00))
    assert payment.status == "requires_capture"
    return payment, before


async def assert_captured_once(
    world: World, payment: Payment, before: Account, amount: int
) -> None:
    """`amount` was captured, once: the card paid it, holds nothing, the merchant has it."""
    assert (payment.status, payment.amount_captured) == ("succeeded", amount)
    after = await account(world.gw, VISA)
    assert (after.available, after.held) == (before.available - amount, 0)
    assert world.merchant == amount
    assert (await world.gw.bank.ledger_check()).ok


# -- timeout and 5xx -----------------------------------------------------------------------
async def test_issuer_timeout_is_reversed_and_declined_91(world: World) -> None:
    gw = world.gw
    before = await account(gw, TIMEOUT_CARD)
    payment = await gw.charge(charge(TIMEOUT_CARD))
    assert (payment.status, payment.response_code) == ("declined", "91")
    assert payment.decline_code == "issuer_not_available"
    # the issuer had placed the hold before its answer was lost; the reversal released it
    assert payment.reversal == "reversed after: the bank did not answer in time (released 10000)"
    after = await account(gw, TIMEOUT_CARD)
    assert (after.available, after.held) == (before.available, 0)
    assert {"0400", "0410"} <= {f.mti for f in await gw.bank.frames(payment.id)}
    assert actions(world.rt, payment.id) == [
        "payment.created",
        "payment.bank_failed",
        "payment.reversed",
    ]
    assert (await gw.bank.ledger_check()).ok
    assert await gw.repair() == []


async def test_issuer_http_500_is_declined_91(world: World) -> None:
    gw = world.gw
    before = await account(gw, HTTP_500_CARD)
    payment = await gw.charge(charge(HTTP_500_CARD))
    assert (payment.status, payment.response_code) == ("declined", "91")
    assert "HTTP 502" in payment.reversal
    assert await account(gw, HTTP_500_CARD) == before
    assert (await gw.bank.ledger_check()).ok


# -- the bank cannot be reached --------------------------------------------------------------
async def test_lost_answer_and_failed_reversal_hold_until_repair(world: World) -> None:
    """The bank approved and held, the answer was lost and so was the way back."""
    gw = world.gw
    before = await account(gw, VISA)
    async with world.faulty(lose={"/authorizations"}, refuse={"/reversals"}, dual=True):
        payment = await gw.charge(charge(VISA, 700_00))
        assert payment.status == "unknown"
    held = await account(gw, VISA)
    assert held.held == 700_00  # the issuer holds it: only repair can release it
    assert (await gw.bank.ledger_check()).ok
    assert await gw.repair() == [f"{payment.id}: reversed, declined 91"]
    assert await account(gw, VISA) == before
    assert world.merchant == 0
    assert (await gw.bank.ledger_check()).ok


# -- captures that fail ----------------------------------------------------------------------
async def test_repair_captures_a_sale_whose_capture_never_arrived(world: World) -> None:
    gw = world.gw
    payment, before = await sale_with_faulty_capture(world, refuse={"/captures"})
    assert payment.response_code == "00"
    assert "capture will be retried" in payment.message
    assert actions(world.rt, payment.id)[-1] == "payment.capture_failed"
    assert (await account(gw, VISA)).held == 300_00
    assert await gw.repair() == [f"{payment.id}: captured"]
    await assert_captured_once(world, gw.get(payment.id), before, 300_00)
    assert await gw.repair() == []


async def test_repair_of_a_capture_whose_answer_was_lost(world: World) -> None:
    """The bank captured but the gateway never heard: repair must not fail or charge twice."""
    gw = world.gw
    payment, before = await sale_with_faulty_capture(world, lose={"/captures"})
    assert await gw.repair() == [f"{payment.id}: captured"]
    await assert_captured_once(world, gw.get(payment.id), before, 300_00)


async def test_a_void_the_bank_never_got_can_be_retried(world: World) -> None:
    gw = world.gw
    before = await account(gw, VISA)
    payment = await gw.charge(charge(VISA, 200_00, capture="manual"))
    async with world.faulty(refuse={"/reversals"}):
        with pytest.raises(BankUnavailable):
            await gw.void(payment.id, approval=MANAGER)
        assert gw.get(payment.id).status == "requires_capture"
    assert (await gw.void(payment.id, approval=MANAGER)).status == "canceled"
    assert await account(gw, VISA) == before


# -- stale pre-authorizations -----------------------------------------------------------------
async def test_repair_voids_preauthorizations_older_than_seven_days(world: World) -> None:
    gw = world.gw
    before = await account(gw, VISA)
    old = await gw.charge(charge(VISA, 150_00, capture="manual"))
    world.clock.advance(days=6)
    recent = await gw.charge(charge(VISA, 50_00, capture="manual"))
    assert await gw.repair() == []
    world.clock.advance(days=2)  # old is 8 days old, recent 2
    assert await gw.repair() == [
        f"{old.id}: pre-authorization older than 7 days, voided",
    ]
    assert gw.get(old.id).status == "canceled"
    assert gw.get(recent.id).status == "requires_capture"
    after = await account(gw, VISA)
    assert (after.available, after.held) == (before.available - 50_00, 50_00)
    assert actions(world.rt, old.id)[-1] == "payment.voided"
    assert (await gw.bank.ledger_check()).ok


# -- the gateway gives up while the banks are still working ----------------------------------
async def test_a_capture_the_gateway_gave_up_on_is_booked_once(world: World) -> None:
    """In process as over a socket, the banks finish what they started: a capture whose
    deadline passed while the issuer was booking it is recorded, and the retry charges
    nothing more."""
    gw = world.gw
    before = await account(gw, VISA)
    payment = await gw.charge(charge(VISA, 100_00, capture="manual"))
    world.rt.banks.config.latency_ms = {"issuer": 1500 * TIMEOUT_S}  # beyond the deadline
    with pytest.raises(BankUnavailable, match=r"capture did not go through.*try again"):
        await gw.capture(payment.id)
    assert gw.get(payment.id).status == "requires_capture"
    world.rt.banks.config.latency_ms = {}
    gw.bank.timeout_s = 5.0  # the retry may wait for the first capture to finish
    await assert_captured_once(world, await gw.capture(payment.id), before, 100_00)


async def test_a_void_the_gateway_gave_up_on_still_releases_the_hold(world: World) -> None:
    gw = world.gw
    before = await account(gw, VISA)
    payment = await gw.charge(charge(VISA, 100_00, capture="manual"))
    world.rt.banks.config.latency_ms = {"issuer": 1500 * TIMEOUT_S}
    with pytest.raises(BankUnavailable):
        await gw.void(payment.id, approval=MANAGER)
    world.rt.banks.config.latency_ms = {}
    gw.bank.timeout_s = 5.0
    with pytest.raises(NotAllowed):  # the bank reversed it: no capture takes the money now
        await gw.capture(payment.id)
    assert (await gw.void(payment.id, approval=MANAGER)).status == "canceled"
    assert await account(gw, VISA) == before
    assert world.merchant == 0
    assert (await gw.bank.ledger_check()).ok


async def test_an_answer_after_its_reversal_leaves_no_hold_in_process(world: World) -> None:
    """As over a socket: the slow issuer approves after the gateway gave up and reversed."""
    gw = world.gw
    world.rt.banks.config.slow_fault_s = 2.5 * TIMEOUT_S
    before = await account(gw, SLOW_CARD)
    payment = await gw.charge(charge(SLOW_CARD))
    assert (payment.status, payment.response_code) == ("declined", "91")
    assert payment.reversal.endswith("(released 0)")  # nothing was held yet
    gw.bank.timeout_s = 5.0
    # the same authorization again waits for the one still at the acquirer: once it
    # answers, the late approval has come back and been reversed
    answer = await gw.bank.authorize(authorization_retry(payment, SLOW_CARD))
    assert (answer.approved, answer.response_code) == (False, "91")
    assert await account(gw, SLOW_CARD) == before
    assert (await gw.bank.ledger_check()).ok


# -- answers lost after the bank acted ----------------------------------------------------------
async def test_void_after_a_lost_capture_answer_is_refused(world: World) -> None:
    """The bank captured; the gateway does not know yet. A void must not mark the payment
    canceled while the merchant holds the money: repair then records the capture."""
    gw = world.gw
    payment, before = await sale_with_faulty_capture(world, lose={"/captures"})
    with pytest.raises(NotAllowed, match="captured"):
        await gw.void(payment.id, approval=MANAGER)
    assert gw.get(payment.id).status == "requires_capture"
    assert await gw.repair() == [f"{payment.id}: captured"]
    assert gw.get(payment.id).status == "succeeded"
    assert (await account(gw, VISA)).available == before.available - 300_00
    assert world.merchant == 300_00


async def test_refund_retried_after_a_lost_answer_is_not_paid_twice(world: World) -> None:
    gw = world.gw
    before = await account(gw, VISA)
    payment = await gw.charge(charge(VISA, 500_00))
    async with world.faulty(lose={"/refunds"}):
        with pytest.raises(BankUnavailable):
            await gw.refund(payment.id, 200_00, approval=MANAGER)
    assert gw.get(payment.id).amount_refunded == 0
    payment = await gw.refund(payment.id, 200_00, approval=MANAGER)  # the cashier tries again
    assert payment.amount_refunded == 200_00
    assert len(payment.refunds) == 1
    after = await account(gw, VISA)
    assert after.available == before.available - 500_00 + 200_00
    assert world.merchant == 500_00 - 200_00
    payment = await gw.refund(payment.id, 50_00, approval=MANAGER)  # a new refund is a new refund
    assert payment.amount_refunded == 250_00
    assert world.merchant == 500_00 - 250_00
    assert (await gw.bank.ledger_check()).ok


async def test_ledger_check_finds_a_hold_whose_authorization_is_gone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hold the issuer kept after its authorization was reversed is money stuck on the
    card: the check names it, though every balance still adds up."""
    gw = world.gw
    payment = await gw.charge(charge(VISA, 100_00, capture="manual"))
    assert (await gw.bank.ledger_check()).ok
    monkeypatch.setattr(world.rt.banks.issuers, "release", lambda rrn: 0)  # a lost release
    assert (await gw.void(payment.id, approval=MANAGER)).status == "canceled"
    assert (await account(gw, VISA)).held == 100_00
    verdict = await gw.bank.ledger_check()
    assert not verdict.ok
    assert verdict.current_total == verdict.opening_total
    assert payment.rrn in verdict.problem and "reversed" in verdict.problem


async def test_repair_of_named_payments_leaves_the_others(world: World) -> None:
    """A terminal repairs, at start, only the payments open before it took any: a sale
    of its own in progress is not an earlier run's leftover."""
    gw = world.gw
    left = await gw.charge(charge(VISA, 100_00, capture="manual"))
    mine = await gw.charge(charge(VISA, 50_00, capture="manual"))
    world.clock.advance(days=8)
    assert await gw.repair(only=[left.id]) == [
        f"{left.id}: pre-authorization older than 7 days, voided"
    ]
    assert (gw.get(left.id).status, gw.get(mine.id).status) == ("canceled", "requires_capture")


async def test_repair_goes_on_past_a_payment_it_cannot_settle(world: World) -> None:
    """A manual capture reached the bank but its answer was lost; a week later repair
    cannot void it (the bank captured it). It says so and still settles the others."""
    gw = world.gw
    captured = await gw.charge(charge(VISA, 100_00, capture="manual"))
    stale = await gw.charge(charge(VISA, 50_00, capture="manual"))
    async with world.faulty(lose={"/captures"}):
        with pytest.raises(BankUnavailable):
            await gw.capture(captured.id)
    world.clock.advance(days=8)
    notes = await gw.repair()
    assert f"{stale.id}: pre-authorization older than 7 days, voided" in notes
    assert any(n.startswith(f"{captured.id}: left open:") for n in notes)
    assert gw.get(stale.id).status == "canceled"
    payment = await gw.capture(captured.id)  # the cashier's retry is answered again
    assert (payment.status, payment.amount_captured) == ("succeeded", 100_00)
    assert world.merchant == 100_00
    assert (await gw.bank.ledger_check()).ok


async def test_an_authorization_overtaken_by_its_reversal_holds_nothing(world: World) -> None:
    """Over a busy socket the reversal can reach the acquirer before the authorization
    it reverses: that authorization, arriving late, must not place a hold."""
    gw = world.gw
    before = await account(gw, VISA)
    reversal = await gw.bank.reverse("pay_20261128_overtaken01", "timeout")
    assert reversal.response_code == "25"  # nothing to reverse yet
    late = AuthorizationRequest(
        payment_id="pay_20261128_overtaken01",
        merchant_id=world.rt.settings.merchant_id,
        terminal_id=world.rt.settings.terminal_id,
        pan=SecretStr(VISA.digits),
        expiry=EXPIRY,
        cvv=SecretStr(VISA.cvv),
        amount=100_00,
        currency="INR",
    )
    answer = await gw.bank.authorize(late)
    assert (answer.approved, answer.response_code) == (False, "91")
    assert await account(gw, VISA) == before
    assert (await gw.bank.capture("pay_20261128_overtaken01", 100_00)).response_code != "00"
    assert (await gw.bank.ledger_check()).ok
