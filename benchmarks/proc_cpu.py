"""CPU seconds of process trees, from /proc (Linux; elsewhere nothing is counted): what
the service's processes spent during a measurement, by role."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

PROC = Path("/proc")
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and of its children it has waited for)."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return int(fields[1]), ticks / TICK


def _role(pid: int) -> str:
    try:
        argv = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    return "banks" if b"banks" in argv else "gateway"


def tree_cpu(roots: dict[str, int]) -> Counter[str]:
    """CPU seconds so far of each root's process tree, by role: a root named "server"
    splits into "gateway" and "banks" (a process of `paygate banks serve`); any other
    root counts whole under its name."""
    stats = {int(p.name): s for p in PROC.glob("[0-9]*") if (s := _stat(int(p.name)))}
    children: dict[int, list[int]] = {}
    for pid, (parent, _cpu) in stats.items():
        children.setdefault(parent, []).append(pid)
    out: Counter[str] = Counter()
    for name, root in roots.items():
        todo = [root]
        while todo:
            pid = todo.pop()
            if pid in stats:
                out[_role(pid) if name == "server" else name] += stats[pid][1]
            todo += children.get(pid, [])
    return out
