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

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support import gateway_settings, open_runtime

CHARGER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from support import charge_until_killed

    asyncio.run(charge_until_killed(Path(sys.argv[1])))
    """
)
TESTS = str(Path(__file__).parents[1])


def run_and_kill(data_dir: Path, rng: random.Random) -> dict[str, str]:
    """Start a charging writer, SIGKILL it at a random moment; payment id → acked status."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHARGER, str(data_dir), TESTS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = proc.stdout.readline()
    if ready.strip() != "ready":
        proc.kill()
        raise AssertionError(f"the writer did not start: {proc.communicate()[1][-2000:]}")
    acked = {}
    for _ in range(rng.randint(0, 6)):
        payment_id, status = proc.stdout.readline().split()
        acked[payment_id] = status
    time.sleep(rng.uniform(0, 0.03))  # land anywhere inside the next payment
    os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate()
    acked.update(line.split() for line in out.splitlines())  # acked before it died
    return acked


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
