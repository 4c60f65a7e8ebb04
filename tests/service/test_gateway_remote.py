"""The same payments against the banks in their own process, over a real socket.

The test starts the simulated banks under uvicorn on 127.0.0.1 (`support.BankServer`, with
`paygate banks serve --data-dir D` semantics: the banks' store lives in `D/banks`),
points the gateway at it with `bank_url`, and kills it with SIGKILL mid-session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from support import (
    MANAGER,
    SLOW_CARD,
    TIMEOUT_CARD,
    VISA,
    BankServer,
    account,
    amount_for,
    authorization_retry,
    charge,
    latest_otp,
    open_runtime,
    pan_pattern,
)

from bank_sim.testcards import TEST_CARDS
from gateway_core.bank_client import BankClient
from gateway_core.payments import reason_for
from gateway_core.risk_models import RiskLimits
from gateway_core.runtime import Runtime
from gateway_core.settings import load_settings


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BankServer]:
    bank = BankServer(tmp_path_factory.mktemp("banks"), timeout_fault_s=3.0, slow_fault_s=2.0)
    bank.start()
    try:
        yield bank
    finally:
        bank.stop()


@asynccontextmanager
async def remote_gateway(data_dir: Path, url: str, timeout_s: float) -> AsyncIterator[Runtime]:
    settings = load_settings(
        data_dir=data_dir, bank_url=url, bank_timeout_s=timeout_s, risk=RiskLimits.relaxed()
    )
    rt = open_runtime(settings)
    try:
        assert rt.gateway.bank is not None and rt.banks is None  # nothing embedded
        yield rt
    finally:
        await rt.aclose()


# -- every card over the socket ----------------------------------------------------------------
async def test_every_test_card_against_a_bank_server(server: BankServer, tmp_path: Path) -> None:
    async with remote_gateway(tmp_path / "data", server.url, timeout_s=1.5) as rt:
        gw = rt.gateway
        patient = BankClient.remote(server.url, timeout_s=10)  # waits out the slow issuer
        fast = gw.bank
        try:
            for card in TEST_CARDS:
                gw.bank = patient if card is SLOW_CARD else fast
                amount = amount_for(card)
                before = await account(gw, card)
                payment = await gw.charge(charge(card, amount))
                if card.expect.startswith("otp->"):
                    assert payment.status == "requires_action", card.pan
                    payment = await gw.confirm_otp(payment.id, await latest_otp(gw))
                code = card.expect.removeprefix("otp->")
                after = await account(gw, card)
                assert payment.response_code == code, card.pan
                assert payment.decline_code == reason_for(code).decline_code, card.pan
                assert after.held == 0, card.pan
                if code == "00":
                    assert payment.status == "succeeded", card.pan
                    assert after.available == before.available - amount, card.pan
                else:
                    assert payment.status == "declined", card.pan
                    assert after.available == before.available, card.pan
                assert gw.get(payment.id) == payment
            assert (await gw.bank.ledger_check()).ok
            assert rt.audit.verify().ok
        finally:
            gw.bank = fast
            await patient.close()
    for data_dir in (tmp_path / "data", server.data_dir):
        for path in (p for p in data_dir.rglob("*") if p.is_file()):
            content = path.read_bytes()
            assert b"CVV=123" not in content, path
            for card in TEST_CARDS:
                assert not pan_pattern(card.pan).search(content), (path, card.pan)


async def test_preauth_capture_refund_and_void_over_the_socket(
    server: BankServer, tmp_path: Path
) -> None:
    async with remote_gateway(tmp_path / "data", server.url, timeout_s=5) as rt:
        gw = rt.gateway
        before = await account(gw, VISA)
        kept = await gw.charge(charge(VISA, 1_000_00, capture="manual"))
        dropped = await gw.charge(charge(VISA, 500_00, capture="manual"))
        assert (await account(gw, VISA)).held == 1_500_00
        await gw.void(dropped.id, approval=MANAGER)
        kept = await gw.capture(kept.id, 700_00)
        kept = await gw.refund(kept.id, 200_00, approval=MANAGER)
        after = await account(gw, VISA)
        assert (after.available, after.held) == (before.available - 500_00, 0)
        assert {"0100", "0110", "0220", "0230", "0200", "0210"} <= {
            f.mti for f in await gw.bank.frames(kept.id)
        }
        assert {"0400", "0410"} <= {f.mti for f in await gw.bank.frames(dropped.id)}
        assert (await gw.bank.ledger_check()).ok


async def test_fifty_concurrent_retries_over_the_socket(server: BankServer, tmp_path: Path) -> None:
    async with remote_gateway(tmp_path / "data", server.url, timeout_s=10) as rt:
        gw = rt.gateway
        before = await account(gw, VISA)
        req = charge(VISA, 123_00, capture="manual", idempotency_key="same")
        results = await asyncio.gather(*(gw.charge(req) for _ in range(50)))
        assert len({p.id for p in results}) == 1
        assert len(gw.list_day()) == 1
        after = await account(gw, VISA)
        assert (after.available, after.held) == (before.available - 123_00, before.held + 123_00)
        await gw.void(results[0].id, approval=MANAGER)
        assert await account(gw, VISA) == before


async def test_an_answer_after_its_reversal_leaves_no_hold(
    server: BankServer, tmp_path: Path
) -> None:
    """The slow issuer answers (approving, with a hold) after the gateway gave up and
    reversed: the acquirer releases that late hold at once."""
    async with remote_gateway(tmp_path / "data", server.url, timeout_s=0.5) as rt:
        gw = rt.gateway
        before = await account(gw, SLOW_CARD)
        payment = await gw.charge(charge(SLOW_CARD, 100_00))
        assert (payment.status, payment.response_code) == ("declined", "91")
        assert payment.reversal == "reversed after: the bank did not answer in time (released 0)"
        # A retry of the same authorization waits for the one still in flight at the
        # acquirer, then gets its stored answer: after this, the late answer has landed.
        retry = authorization_retry(payment, SLOW_CARD, capture=True)
        patient = BankClient.remote(server.url, timeout_s=10)
        try:
            answer = await patient.authorize(retry)
        finally:
            await patient.close()
        assert (answer.approved, answer.response_code) == (False, "91")
        after = await account(gw, SLOW_CARD)
        assert (after.available, after.held) == (before.available, 0)
        assert (await gw.bank.ledger_check()).ok
        assert await gw.repair() == []


# -- the bank process dies -----------------------------------------------------------------------
async def test_killed_bank_server_then_restart_and_repair(tmp_path: Path) -> None:
    banks = BankServer(tmp_path / "banks", timeout_fault_s=60.0, slow_fault_s=0.1)
    banks.start()
    try:
        async with remote_gateway(tmp_path / "data", banks.url, timeout_s=20) as rt:
            gw = rt.gateway
            visa_before = await account(gw, VISA)
            hung_before = await account(gw, TIMEOUT_CARD)
            first = await gw.charge(charge(VISA, 100_00))
            assert first.status == "succeeded"

            # the issuer takes the sale's money (0200), then sits on its answer; the
            # process dies meanwhile
            taken = hung_before.available - 250_00
            hung = asyncio.ensure_future(gw.charge(charge(TIMEOUT_CARD, 250_00)))
            for _ in range(400):
                if (await account(gw, TIMEOUT_CARD)).available == taken:
                    break
                await asyncio.sleep(0.025)
            assert (await account(gw, TIMEOUT_CARD)).available == taken
            banks.kill()
            hung = await hung
            assert hung.status == "unknown"  # no answer, and no way to reverse

            after_kill = await gw.charge(charge(VISA, 40_00))  # refused: never reached them
            assert (after_kill.status, after_kill.response_code) == ("declined", "91")
            assert after_kill.reversal is None

            await gw.bank.close()
            gw.bank = BankClient.remote(banks.start(), timeout_s=20)
            # the sale survived the crash on the banks' disk; the second never reached them
            assert (await account(gw, TIMEOUT_CARD)).available == taken
            assert (await account(gw, VISA)).held == 0
            assert await gw.repair() == [f"{hung.id}: reversed, declined 91"]
            for payment in (hung, after_kill):
                stored = gw.get(payment.id)
                assert (stored.status, stored.response_code) == ("declined", "91")
            hung_after = await account(gw, TIMEOUT_CARD)
            visa_after = await account(gw, VISA)
            assert (hung_after.available, hung_after.held) == (hung_before.available, 0)
            assert (visa_after.available, visa_after.held) == (visa_before.available - 100_00, 0)
            assert (await gw.bank.ledger_check()).ok
            assert rt.audit.verify().ok
    finally:
        banks.stop()
