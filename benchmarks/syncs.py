"""Counting durable syncs: every `os.fdatasync` and `os.fsync` call while a block runs,
by whose file it was (the banks' under `data_dir/banks/`, else the gateway's)."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

CALLS = ("fdatasync", "fsync")
OWN = ("gateway_core", "bank_sim")  # modules that may hold a call under another name


@contextlib.contextmanager
def counted_syncs(data_dir: Path) -> Iterator[Counter[str]]:
    """A Counter that gets "gateway", "banks" and "total" while the block runs (calls
    from any thread; the originals are back on exit)."""
    counts: Counter[str] = Counter()
    banks = str((data_dir / "banks").resolve())

    def counting(real: Callable[[int], None]) -> Callable[[int], None]:
        def call(fd: int) -> None:
            try:
                path = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:  # no /proc: counted as the gateway's
                path = ""
            counts["banks" if path.startswith(banks) else "gateway"] += 1
            counts["total"] += 1
            real(fd)

        return call

    wrappers = {name: counting(getattr(os, name)) for name in CALLS}
    patched = [(os, name, getattr(os, name)) for name in CALLS]
    for module in list(sys.modules.values()):  # `from os import fdatasync` too
        if getattr(module, "__name__", "").startswith(OWN):
            for attr, value in list(vars(module).items()):
                for name in CALLS:
                    if value is getattr(os, name):
                        patched.append((module, attr, value))
    try:
        for module, attr, value in patched:
            setattr(module, attr, wrappers[value.__name__])
        counts.update(gateway=0, banks=0, total=0)
        yield counts
    finally:
        for module, attr, value in patched:
            setattr(module, attr, value)


def fsync_probe(directory: Path, count: int = 200) -> float:
    """Milliseconds of one 1 KB append + fdatasync in `directory`: the floor under every
    durable write on this disk (median of `count`)."""
    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    times = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            os.write(fd, b"x" * 1023 + b"\n")
            os.fdatasync(fd)
            times.append(time.perf_counter() - start)
    finally:
        os.close(fd)
        path.unlink()
    return round(statistics.median(times) * 1000, 3)
