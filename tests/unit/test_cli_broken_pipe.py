"""A reader that goes away (`paygate list --json | head -1`) ends paygate quietly, as
SIGPIPE ends a Unix tool: nothing on stderr, exit 141 (128 + SIGPIPE)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SIGPIPE_EXIT = 141  # what a shell reports for a process that SIGPIPE ended


def into_closed_pipe(paygate_cmd: list[str], *argv: str) -> subprocess.CompletedProcess:
    """Run paygate with stdout on a pipe whose reader is already gone: its first write
    fails with EPIPE, whatever the timing."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(
            [*paygate_cmd, *argv], stdout=writer, stderr=subprocess.PIPE, timeout=60, check=False
        )
    finally:
        os.close(writer)


def test_a_closed_pipe_ends_quietly_with_the_sigpipe_status(
    paygate_cmd: list[str], cli, tmp_path: Path
) -> None:
    data = str(tmp_path / "data")
    card = ("--card", "4242424242424242", "--exp", "12/30", "--cvv", "123")
    assert cli("charge", "--amount", "10", *card, "--data-dir", data).code == 0
    for argv in (("list", "--json"), ("report", "x"), ("test-cards",)):
        done = into_closed_pipe(paygate_cmd, *argv, "--data-dir", data)
        assert (done.returncode, done.stderr.decode()) == (SIGPIPE_EXIT, ""), argv
