"""Durability under SIGKILL: no acknowledged write is ever lost.

A writer subprocess inserts documents and prints each id only after `insert` returned
(the acknowledgement). The test kills it with SIGKILL at random moments, also while
it compacts, then reopens the store and checks every acknowledged write is there.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap

import pytest

from gateway_core.store import JournaledDB, JournalStorage

WRITER = textwrap.dedent(
    """
    import sys
    from gateway_core.store import JournaledDB, JournalStorage
    db = JournaledDB(sys.argv[1], "t", storage=JournalStorage)
    table = db.table("t")
    start = len(table)
    for i in range(start, start + 100_000):
        table.insert({"i": i, "pad": "x" * (i % 300)})
        print(i, flush=True)          # acknowledged: insert has returned
        if i % 97 == 0:
            db.journal.compact()
    """
)

COMPACT_AND_DIE = textwrap.dedent(
    """
    import os, sys
    from gateway_core.store import JournaledDB, JournalStorage
    step = sys.argv[2]
    def hook(at):
        if at == step:
            os._exit(9)
    db = JournaledDB(sys.argv[1], "t", storage=JournalStorage, crash_hook=hook)
    table = db.table("t")
    for i in range(len(table), len(table) + 20):
        table.insert({"i": i})
    print("acked", len(table), flush=True)
    db.journal.compact()
    print("survived", flush=True)
    """
)

STEPS = [
    "snapshot-half-written",
    "snapshot-written",
    "snapshot-renamed",
    "directory-synced",
    "journal-trimmed",
]


def _reopen_ids(path) -> list[int]:
    db = JournaledDB(path, "t", storage=JournalStorage)
    ids = [doc["i"] for doc in db.table("t")]
    db.close()
    return ids


@pytest.mark.parametrize("trial", range(12))
def test_sigkill_at_a_random_moment_loses_no_acknowledged_write(tmp_path, trial):
    rng = random.Random(trial)
    acked: list[int] = []
    for _round in range(3):  # kill, reopen, write more, kill again
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        target = rng.randint(1, 400)  # acknowledgements to read before the kill
        for count, line in enumerate(proc.stdout, start=1):
            acked.append(int(line))
            if count >= target:
                break
        os.kill(proc.pid, signal.SIGKILL)
        # Writes acknowledged after we stopped reading are still promises: collect them.
        acked.extend(int(line) for line in proc.stdout)
        proc.wait()
        ids = _reopen_ids(tmp_path)
        assert set(acked) <= set(ids), "an acknowledged write was lost"
        assert ids == list(range(len(ids))), "writes reordered, duplicated or holed"


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("earlier_snapshot", [False, True])
def test_compaction_killed_at_each_step_loses_nothing(tmp_path, step, earlier_snapshot):
    if earlier_snapshot:
        db = JournaledDB(tmp_path, "t", storage=JournalStorage)
        db.table("t").insert_multiple({"i": i} for i in range(10))
        db.close()  # compacts: a snapshot exists that the crash must not damage
    proc = subprocess.run(
        [sys.executable, "-c", COMPACT_AND_DIE, str(tmp_path), step],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 9, proc.stderr
    acked = int(proc.stdout.split()[1])
    assert "survived" not in proc.stdout
    assert _reopen_ids(tmp_path) == list(range(acked))
    assert not list(tmp_path.glob("*.tmp")), "a half-written snapshot was left behind"
    db = JournaledDB(tmp_path, "t", storage=JournalStorage)
    db.table("t").insert({"i": acked})
    db.close()
    assert _reopen_ids(tmp_path) == list(range(acked + 1))
