"""An acknowledged payment never loses its status, whatever is killed and whoever reads.

A writer process takes sales through the gateway the way `paygate charge` does: it opens
the data dir, charges one to three cards, printing each payment's id and status once
`charge` returned (the acknowledgement), and closes it (compaction), over and over. The
test SIGKILLs it at random moments (opening, authorizing, writing, compacting) and starts
it again. Meanwhile, and after every kill, it looks each acknowledged payment up with
`paygate status <id> --json`, which must print the acknowledged status: not an error
because a writer holds the data dir, not an older state because the reader met a
compaction half way (see docs/STORAGE.md, "One writer, many readers").

In CI: 6 kills. `PAYGATE_LONG=1`: 100 kills.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from paygate_cli.main import main

KILLS = 100 if os.environ.get("PAYGATE_LONG") else 6
TESTS = str(Path(__file__).parents[1])

WRITER = textwrap.dedent(
    """
    import asyncio, itertools, random, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from support import charge, gateway_settings, open_runtime
    from bank_sim.testcards import TEST_CARDS

    CARDS = [c for c in TEST_CARDS if c.expect == "00" and c.fault is None]
    rng = random.Random(int(sys.argv[3]))

    async def main():
        print("ready", flush=True)
        for n in itertools.count():
            rt = open_runtime(gateway_settings(Path(sys.argv[1]), 10.0))
            try:
                for _ in range(rng.randint(1, 3)):
                    payment = await rt.gateway.charge(charge(CARDS[n % len(CARDS)], 1_00 + n))
                    print(payment.id, payment.status, flush=True)  # acknowledged
            finally:
                await rt.aclose()  # compacts, as a command does when it ends

    asyncio.run(main())
    """
)


def status_of(data_dir: Path, payment_id: str) -> tuple[int, str, str]:
    """`paygate status ID --json`, in this process: (exit code, status or "", stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["status", payment_id, "--json", "--data-dir", str(data_dir)])
    status = json.loads(out.getvalue())["status"] if out.getvalue() else ""
    return code, status, err.getvalue()


def assert_reads(data_dir: Path, acked: dict[str, str], ids: list[str]) -> None:
    for payment_id in ids:
        code, status, err = status_of(data_dir, payment_id)
        assert (code, status) == (0, acked[payment_id]), f"{payment_id}: {err.strip()}"


def run_once(data_dir: Path, rng: random.Random, acked: dict[str, str]) -> int:
    """One writer, killed at a random moment, read from all along: lookups made."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data_dir), TESTS, str(rng.randrange(1 << 30))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout])
    reader.start()
    assert lines.get(timeout=60).strip() == "ready", proc.stderr.read()[-2000:]
    # The kill comes after a number of acknowledgements, then a random moment: counted
    # in the writer's progress, not in time, so a slow machine kills as late in its work.
    acks_first, then = rng.randint(0, 4), rng.uniform(0.0, 0.5)
    seen, kill_at, lookups = 0, None, 0
    while kill_at is None or time.monotonic() < kill_at:
        with contextlib.suppress(queue.Empty):
            payment_id, status = lines.get(timeout=0.05).split()
            acked[payment_id] = status
            seen += 1
        assert proc.poll() is None, f"the writer died: {proc.stderr.read()[-2000:]}"
        if kill_at is None and seen >= acks_first:
            kill_at = time.monotonic() + then
        if acked:  # read while the writer writes, compacts, holds the data dir
            assert_reads(data_dir, acked, [rng.choice(list(acked))])
            lookups += 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    reader.join()
    while not lines.empty():  # acknowledged before it died
        payment_id, status = lines.get().split()
        acked[payment_id] = status
    assert_reads(data_dir, acked, list(acked))
    return lookups + len(acked)


def test_acknowledged_status_reads_back_through_kills_and_concurrent_writers(
    tmp_path: Path,
) -> None:
    rng = random.Random(15)
    data_dir = tmp_path / "data"
    acked: dict[str, str] = {}
    lookups = sum(run_once(data_dir, rng, acked) for _kill in range(KILLS))
    assert acked, "no payment was ever acknowledged: the test proved nothing"
    assert lookups > len(acked)
    print(f"{KILLS} kills, {len(acked)} payments acknowledged, {lookups} lookups")  # pytest -s
