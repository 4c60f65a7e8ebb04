"""Bank faults against a real `paygate banks serve` process: what the cashier reads.

test_gateway_remote.py covers every card, the late answer and the killed server with
repair; this adds the cashier's message after each fault, and that no money is held.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import SLOW_CARD, TIMEOUT_CARD, VISA, BankServer, account, charge, open_runtime

from bank_sim.testcards import card_for
from gateway_core.bank_client import BankClient
from gateway_core.payments import reason_for
from gateway_core.risk_models import RiskLimits
from gateway_core.runtime import Runtime
from gateway_core.settings import load_settings

HTTP_500_CARD = card_for("4000 0000 0000 0507")
DECLINED_91 = reason_for("91").text
CHECKING = "Bank did not answer; the result is being checked"


def remote(data_dir: Path, url: str, timeout_s: float) -> Runtime:
    settings = load_settings(
        data_dir=data_dir, bank_url=url, bank_timeout_s=timeout_s, risk=RiskLimits.relaxed()
    )
    return open_runtime(settings)


@pytest.fixture(scope="module")
def faulty_banks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BankServer]:
    banks = BankServer(tmp_path_factory.mktemp("banks"), timeout_fault_s=2.0, slow_fault_s=1.0)
    banks.start()
    try:
        yield banks
    finally:
        banks.stop()


@pytest.mark.parametrize("card", [TIMEOUT_CARD, HTTP_500_CARD, SLOW_CARD], ids=lambda c: c.pan)
async def test_a_bank_fault_reads_declined_91_and_holds_nothing(
    faulty_banks: BankServer, tmp_path: Path, card
) -> None:
    rt = remote(tmp_path / "data", faulty_banks.url, timeout_s=0.5)
    try:
        gw = rt.gateway
        before = await account(gw, card)
        payment = await gw.charge(charge(card, 100_00))
        assert (payment.status, payment.response_code) == ("declined", "91")
        assert payment.message == DECLINED_91
        assert payment.reversal.startswith("reversed after: ")
        await asyncio.sleep(1.3)  # the slow issuer's late approval comes and is reversed
        after = await account(gw, card)
        assert (after.available, after.held) == (before.available, 0)
        assert (await gw.bank.ledger_check()).ok
        assert await gw.repair() == []
    finally:
        await rt.aclose()


async def test_server_killed_mid_request_reads_checking_then_declined(tmp_path: Path) -> None:
    banks = BankServer(tmp_path / "banks", timeout_fault_s=60.0, slow_fault_s=0.1)
    banks.start()
    rt = remote(tmp_path / "data", banks.url, timeout_s=20)
    try:
        gw = rt.gateway
        before, start = await account(gw, VISA), await account(gw, TIMEOUT_CARD)
        asked = asyncio.ensure_future(gw.charge(charge(TIMEOUT_CARD, 80_00)))
        while (await account(gw, TIMEOUT_CARD)).available == start.available:  # a 0200: taken
            await asyncio.sleep(0.02)
        banks.kill()
        payment = await asked
        assert (payment.status, payment.message) == ("unknown", CHECKING)
        assert gw.get(payment.id).message == CHECKING
        await gw.bank.close()
        gw.bank = BankClient.remote(banks.start(), timeout_s=20)
        assert await gw.repair() == [f"{payment.id}: reversed, declined 91"]
        settled = gw.get(payment.id)
        assert (settled.status, settled.message) == ("declined", DECLINED_91)
        assert await account(gw, TIMEOUT_CARD) == start  # nothing held, the money back
        assert await account(gw, VISA) == before
        assert (await gw.bank.ledger_check()).ok
    finally:
        await rt.aclose()
        banks.stop()
