"""SIGKILL in the middle of UPI payments loses nothing that was acknowledged.

A subprocess takes UPI QR payments, has test payers pay them and refreshes them,
printing each payment's id and status once the gateway returned it. The test kills it at
random moments; after each kill the reopened data dir holds every acknowledged payment
(in that state or one it may move on to), the UPI books balance, the audit chain
verifies, and repair settles what the crash left `unknown`.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from support import gateway_settings, kill_writer, open_runtime

LATER = {  # an acknowledged state, and those a payment may have reached since
    "pending": {"pending", "succeeded", "declined", "expired", "canceled"},
    "unknown": {"unknown", "pending", "succeeded", "declined", "expired", "canceled"},
}


def run_and_kill(data_dir: Path, rng: random.Random) -> dict[str, str]:
    """The UPI writer killed at a random moment; payment id → last acked status."""
    return kill_writer("pay_upi_until_killed", data_dir, rng, acks=(1, 8), within_s=0.05)


async def check_after_crash(data_dir: Path, acked: dict[str, str]) -> None:
    rt = open_runtime(gateway_settings(data_dir, 10.0))
    try:
        gw = rt.gateway
        for payment_id, status in acked.items():
            stored = gw.get(payment_id).status
            assert stored in LATER.get(status, {status}), (payment_id, status, stored)
        books = await rt.payer.ledger_check()
        assert books.ok, books.problem
        assert rt.audit.verify().ok, str(rt.audit.verify())
        await gw.repair()  # a creation cut short is resumed (or declined)
        assert [p.id for p in gw.list_day() if p.status == "unknown"] == []
        await gw.poll()
        books = await rt.payer.ledger_check()
        assert books.ok, books.problem
    finally:
        await rt.aclose()


@pytest.mark.parametrize("trial", range(2))
async def test_sigkill_during_upi_payments_loses_no_acknowledged_payment(
    tmp_path: Path, trial: int
) -> None:
    rng = random.Random(trial)
    data_dir = tmp_path / "data"
    acked: dict[str, str] = {}
    for _kill in range(4):  # 2 trials x 4 kills
        acked.update(run_and_kill(data_dir, rng))
        await check_after_crash(data_dir, acked)
    assert any(s == "succeeded" for s in acked.values()), "no payment was ever paid"
