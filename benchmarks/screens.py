"""The terminal's lines of `make bench`: process start to the first screen on a
pseudo-terminal, and the merchant console on a held day (headless, in a fresh process)."""

from __future__ import annotations

import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

CHILD_FRAME = """
import sys
from pathlib import Path
from bank_sim.embedded import simulated_banks
from gateway_core.runtime import Runtime
from gateway_core.settings import load_settings
from paygate_cli.terminal import terminal_app

settings = load_settings(data_dir=Path(sys.argv[1]), timezone="Asia/Kolkata")
rt = Runtime.open(settings, banks=simulated_banks)
try:
    terminal_app(rt, config_dir=Path(sys.argv[2])).run()
finally:
    rt.close()
"""
FRAME_MARK = b"Cashier ID"  # a label of the sign-in screen


def first_frame(data_dir: Path, config_dir: Path, command: list[str] | None = None) -> float:
    """Seconds from starting the terminal in a pseudo-terminal (100x30) to the sign-in
    screen's text arriving on it: what a cashier waits for. (Headless `run_test` cannot
    tell: its `pause()` waits for the whole process to go idle, background work too.)
    `command` runs instead of a plain `PaygateApp` on `data_dir` (the demo's first start)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(
        command or [sys.executable, "-c", CHILD_FRAME, str(data_dir), str(config_dir)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color", "XDG_CONFIG_HOME": str(config_dir)},
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    try:
        while FRAME_MARK not in seen:
            ready, _, _ = select.select([master], [], [], 60)
            try:
                chunk = os.read(master, 65536) if ready else b""
            except OSError:  # EIO: the terminal exited
                chunk = b""
            if not chunk:
                raise RuntimeError(f"the terminal did not start: {seen[-2000:]!r}")
            seen += chunk
        return time.perf_counter() - start
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(master)


CHILD_CONSOLE = """
import asyncio, sys, time
sys.path.insert(0, sys.argv[3])
import bench
from textual.widgets import DataTable
from gateway_core.runtime import Runtime
from paygate_cli.terminal import terminal_app

def named(app, name):
    return type(app.screen).__name__ == name

async def until(pilot, check):
    deadline = time.monotonic() + 120
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"stuck on {type(pilot.app.screen).__name__}")
        await pilot.pause(0.01)

async def main():
    settings = bench.settings_for(bench.Path(sys.argv[1]))
    rt = Runtime.open(settings, clock=bench.FixedClock(bench.START), banks=bench.simulated_banks)
    app = terminal_app(rt, animate=False, config_dir=bench.Path(sys.argv[2]))
    async with app.run_test(size=(110, 34)) as pilot:
        await pilot.press(*"asha", "enter", *"1111", "enter")
        await until(pilot, lambda: named(app, "SaleScreen"))
        t0 = time.perf_counter()
        await pilot.press("f4")
        await until(pilot, lambda: named(app, "ConsoleApproval"))
        await pilot.press(*"meera", "enter", *"4321", "enter")
        await until(pilot, lambda: named(app, "MerchantScreen") and app.screen.data is not None)
        console = time.perf_counter() - t0
        t0 = time.perf_counter()
        await pilot.press("2")
        table = app.screen.query_one("#txn-table", DataTable)
        await until(pilot, lambda: table.row_count > 0)
        view = time.perf_counter() - t0
        print(bench.json.dumps({"console_s": console, "transactions_s": view,
                                "rows": table.row_count}), flush=True)
    await rt.aclose()

asyncio.run(main())
"""


def console_views(data_dir: Path, config_dir: Path) -> dict:
    """In a fresh process on the held day: F4 to the console's dashboard filled (manager
    PIN included), then tab 2 to the first page of the transaction table."""
    return child_json(
        [
            sys.executable,
            "-c",
            CHILD_CONSOLE,
            str(data_dir),
            str(config_dir),
            str(Path(__file__).parent),
        ]
    )


def child_json(argv: list[str]) -> dict:
    """The JSON object a child process prints last (its error output if it fails)."""
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited {done.returncode}: {done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])
