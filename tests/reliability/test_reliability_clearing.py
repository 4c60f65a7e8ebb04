"""A capture and its clearing line are one step at the acquirer.

The issuer's booking, the acquirer's record and the clearing line owed to the day's
clearing file are one write; the line is then copied into the day's file (a capture's
and a refund's at once, a sale's in a batch). A failure or
a SIGKILL between the two never shows as a break in `reconcile`: a retry or the next
start copies the line, and never twice. And `ledger check` notices a clearing day that
was deleted.

The kill tests run a subprocess taking sales over the embedded banks and kill it: at
random moments, and exactly when the banks write a clearing line. CI runs a few of
each; PAYGATE_LONG=1 runs many more.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import MANAGER, VISA, World, charge, gateway_settings, open_runtime, open_world

from gateway_core.bank_client import BankUnavailable
from gateway_core.clock import FixedClock, business_day
from gateway_core.runtime import Runtime
from gateway_core.settlement import Settlement
from gateway_core.store.journal import JournalStorage

LONG = os.environ.get("PAYGATE_LONG") == "1"
TESTS = str(Path(__file__).parents[1])


# -- in process: a failed write between the two --------------------------------------------
@pytest.fixture
async def world(tmp_path: Path, clock: FixedClock) -> AsyncIterator[World]:
    async with open_world(tmp_path / "data", clock, 1.0) as opened:
        yield opened


def fail_once(monkeypatch, journal: JournalStorage, then=None) -> None:
    """The next journal entry that writes to `journal` raises OSError (nothing written);
    `then()` after the entry that follows it, if given, instead: the entry is written,
    then `then` runs."""
    wal = journal.wal
    real = wal.append
    left = [1]

    def append(parts):
        if journal.key not in parts:
            return real(parts)
        if then is not None:
            ticket = real(parts)
            monkeypatch.setattr(wal, "append", real)
            then()
            return ticket
        if left.pop():
            monkeypatch.setattr(wal, "append", real)
            raise OSError(28, "No space left on device")
        return real(parts)

    monkeypatch.setattr(wal, "append", append)


async def reconcile_all(rt: Runtime) -> list[str]:
    """Every break `reconcile` finds on any day of the data dir."""
    settlement = Settlement(rt.records, rt.settings, clock=rt.clock)
    breaks = []
    for day in rt.store.days():
        rec = await settlement.reconcile(day, rt.gateway.bank)
        breaks += [f"{day} missing at acquirer {e.ref}" for e in rec.missing_at_acquirer]
        breaks += [f"{day} missing at gateway {e.ref}" for e in rec.missing_at_gateway]
        breaks += [f"{day} amount {m.gateway.ref}" for m in rec.amount_mismatch]
    return breaks


def banks_day(world: World) -> JournalStorage:
    today = business_day(world.clock, world.rt.settings.tz)
    return world.rt.banks.store.day(today).journal


async def test_a_clearing_line_that_failed_to_write_is_written_on_retry(
    world: World, monkeypatch
) -> None:
    payment = await world.gw.charge(charge(VISA, 300_00, capture="manual"))
    fail_once(monkeypatch, banks_day(world))
    with pytest.raises(BankUnavailable, match="HTTP 500"):  # the capture's answer
        await world.gw.capture(payment.id)
    assert (await world.gw.capture(payment.id)).status == "succeeded"
    assert await reconcile_all(world.rt) == []
    assert (await world.gw.bank.ledger_check()).ok
    assert world.merchant == 300_00  # booked once


async def test_a_clearing_line_is_never_written_twice(world: World, monkeypatch) -> None:
    """The line reached the day's file, but forgetting it in the main database failed."""
    main = world.rt.banks.store.main.journal
    payment = await world.gw.charge(charge(VISA, 300_00, capture="manual"))
    fail_once(monkeypatch, banks_day(world), then=lambda: fail_once(monkeypatch, main))
    with pytest.raises(BankUnavailable, match="HTTP 500"):
        await world.gw.capture(payment.id)
    assert (await world.gw.capture(payment.id)).status == "succeeded"
    assert await reconcile_all(world.rt) == []
    assert len(await world.gw.bank.clearing(payment.created_at.date())) == 1


async def test_a_refund_line_that_failed_to_write_is_written_on_retry(
    world: World, monkeypatch
) -> None:
    payment = await world.gw.charge(charge(VISA, 300_00))
    fail_once(monkeypatch, banks_day(world))
    with pytest.raises(BankUnavailable, match="HTTP 500"):
        await world.gw.refund(payment.id, 100_00, approval=MANAGER)
    refunded = await world.gw.refund(payment.id, 100_00, approval=MANAGER)
    assert refunded.amount_refunded == 100_00
    assert await reconcile_all(world.rt) == []
    assert world.merchant == 200_00


# -- ledger check: a deleted clearing day ------------------------------------------------------
def test_ledger_check_reports_a_deleted_bank_day(cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    sale = ("charge", "--data-dir", data, "--amount", "12.50", "--card", VISA.pan,
            "--exp", "12/30", "--cvv", VISA.cvv)  # fmt: skip
    assert cli(*sale).code == 0 and cli(*sale).code == 0
    assert cli("ledger", "check", "--data-dir", data).code == 0
    days = data / "banks" / "db" / "days"
    (day,) = {p.name.split(".")[0] for p in days.iterdir()}
    for path in days.glob(f"{day}.*"):
        path.unlink()
    check = cli("ledger", "check", "--data-dir", data)
    assert check.code == 1 and check.out == ""
    assert check.err == (
        f"paygate: the books do not balance: the banks' clearing day {day} is missing "
        f"(2 capture and refund lines): restore {days / day}.* from a backup\n"
    )


def test_ledger_check_reports_a_clearing_day_that_lost_lines(cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    sale = ("charge", "--data-dir", data, "--amount", "12.50", "--card", VISA.pan,
            "--exp", "12/30", "--cvv", VISA.cvv)  # fmt: skip
    assert cli(*sale).code == 0
    days = data / "banks" / "db" / "days"
    (snapshot,) = days.glob("*.snapshot.json")
    day = snapshot.name.split(".")[0]
    shutil.copy(snapshot, tmp_path / "kept")
    assert cli(*sale).code == 0
    shutil.copy(tmp_path / "kept", snapshot)  # an old backup put back: one line lost
    check = cli("ledger", "check", "--data-dir", data)
    assert check.code == 1
    assert f"clearing day {day} holds 1 lines, 2 were written" in check.err


# -- SIGKILL ---------------------------------------------------------------------------------
CHARGER = textwrap.dedent(
    """
    import asyncio, os, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from support import charge_until_killed
    from gateway_core.store.wal import Wal

    import bank_sim.clearing
    bank_sim.clearing.BATCH = 1  # each sale's line copied at once: the window every sale
    die_at = int(sys.argv[3])  # > 0: die at that write of a clearing line, as SIGKILL would
    real = Wal.append

    def append(self, parts):
        global die_at
        days = [key for key in parts if key != "main"]
        if die_at and days and "banks" in self.path.parts:
            die_at -= 1
            if not die_at:
                os._exit(9)
        return real(self, parts)

    Wal.append = append

    asyncio.run(charge_until_killed(Path(sys.argv[1])))
    """
)


def run_and_kill(data_dir: Path, rng: random.Random, die_at: int) -> dict[str, str]:
    """Start a charging writer; it dies at clearing write `die_at`, or (0) is SIGKILLed at
    a random moment. Returns payment id → acknowledged status."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHARGER, str(data_dir), TESTS, str(die_at)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready", proc.communicate()[1][-2000:]
    if not die_at:
        time.sleep(rng.uniform(0.05, 0.4))
        os.kill(proc.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode in (9, -signal.SIGKILL), err[-2000:]
    return dict(line.split() for line in out.splitlines())


async def check_after_kill(data_dir: Path, acked: dict[str, str]) -> None:
    rt = open_runtime(gateway_settings(data_dir, 10.0))
    try:
        gw = rt.gateway
        await gw.repair()  # what the kill left open is settled
        for payment_id, status in acked.items():
            assert gw.get(payment_id).status == status, payment_id
        assert await reconcile_all(rt) == []
        verdict = rt.banks.check()
        assert verdict.ok, verdict.problem
    finally:
        await rt.aclose()


@pytest.mark.parametrize("trial", range(12 if LONG else 2))
async def test_sigkill_between_capture_and_clearing_leaves_no_break(
    tmp_path: Path, trial: int
) -> None:
    rng = random.Random(trial)
    data_dir = tmp_path / "data"
    acked: dict[str, str] = {}
    for kill in range(10 if LONG else 3):
        die_at = rng.randint(1, 4) if kill % 2 == 0 else 0  # in the window, or anywhere
        acked.update(run_and_kill(data_dir, rng, die_at))
        await check_after_kill(data_dir, acked)
    assert acked, "no payment was ever acknowledged: the test proved nothing"
