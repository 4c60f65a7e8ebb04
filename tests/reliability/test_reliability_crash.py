"""SIGKILL in the middle of real payments loses nothing that was acknowledged.

A subprocess takes sales through `Gateway.charge` over the embedded banks and prints
each payment id and status once `charge` returned (the acknowledgement). The test kills
it at random moments, 20 times in all; after each kill the reopened data dir holds every
acknowledged payment in its acknowledged state, every hold at the issuer belongs to a
live authorization (`paygate ledger check`) and the audit chain verifies; repair then
settles what the crash left open, and nothing stays held. Then the next writer starts
on the same data dir.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from support import gateway_settings, kill_writer, open_runtime


def run_and_kill(data_dir: Path, rng: random.Random) -> dict[str, str]:
    """A charging writer killed at a random moment; payment id → acked status."""
    return kill_writer("charge_until_killed", data_dir, rng, acks=(0, 6), within_s=0.03)


async def check_after_crash(data_dir: Path, acked: dict[str, str]) -> None:
    rt = open_runtime(gateway_settings(data_dir, 10.0))
    try:
        gw = rt.gateway  # opens the banks' store too: it crashed with the gateway
        for payment_id, status in acked.items():
            assert gw.get(payment_id).status == status, payment_id
        verdict = rt.banks.check()  # every hold belongs to a live authorization
        assert verdict.ok, verdict.problem
        assert rt.audit.verify().ok, str(rt.audit.verify())
        await gw.repair()  # what the crash left open is settled: captured or reversed
        left = [p.id for p in gw.list_day() if p.status in ("unknown", "requires_capture")]
        assert left == [], left
        verdict = rt.banks.check()  # and no cardholder money stays held
        assert verdict.ok, verdict.problem
    finally:
        await rt.aclose()


@pytest.mark.parametrize("trial", range(4))
async def test_sigkill_during_payments_loses_no_acknowledged_payment(
    tmp_path: Path, trial: int
) -> None:
    rng = random.Random(trial)
    data_dir = tmp_path / "data"
    acked: dict[str, str] = {}
    for _kill in range(5):  # 4 trials x 5 kills: 20 kills
        acked.update(run_and_kill(data_dir, rng))
        await check_after_crash(data_dir, acked)
    assert acked, "no payment was ever acknowledged: the test proved nothing"
