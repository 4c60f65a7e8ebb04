"""A `paygate serve` process for tests: start one, issue terminal keys to it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from support import free_port

from bank_sim.testcards import card_for

ADMIN = ("--admin", "owner", "--admin-pin", "9876")


CARDS = [card_for(p) for p in ("4242 4242 4242 4242", "5555 5555 5555 4444", "4111 1111 1111 1111")]


@dataclass
class Server:
    data_dir: Path
    proc: subprocess.Popen
    url: str
    log: Path

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)


def issue(cli: Callable, data_dir: Path, terminal: str, merchant: str | None = None) -> str:
    extra = ("--merchant", merchant) if merchant else ()
    result = cli("terminals", "add", "--terminal", terminal, *extra, *ADMIN, "--data-dir", data_dir)
    assert result.code == 0, result.err
    return result.out.splitlines()[1]


def start(paygate_cmd: list[str], data_dir: Path, port: int = 0, **env: str) -> Server:
    port = port or free_port()
    config = data_dir.with_name("config.toml")  # no risk rule gets in a bench's way
    config.write_text(
        'timezone = "Asia/Kolkata"\n[risk]\nper_minute = 100000\nper_day = 100000\n'
        "card_declines = 100000\ntesting_declines = 100000\n",
        encoding="utf-8",
    )
    log = data_dir.with_name("serve.log")
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*paygate_cmd, "serve", "--port", str(port), "--data-dir", str(data_dir)],
            stdout=out,
            stderr=out,
            env={**os.environ, "PAYGATE_CONFIG": str(config), **env},
        )
    server = Server(data_dir, proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"paygate serve did not start: {log.read_text()}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError("paygate serve did not answer /health in 30 s")
