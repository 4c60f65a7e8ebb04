"""`paygate serve --workers N`: a supervisor and N gateway processes on one database.

The supervisor binds the port once and hands the listening socket to every worker (a
`paygate serve` started with `--listen-fd`), which accepts on it: the kernel gives each
connection to one of them, the port stays open while a dead worker is replaced
(connections wait in the backlog instead of being refused), and a taken port is said
once. (uvicorn's own `workers=` wants an import string where our app is built over an
open runtime, and neither starts the banks nor says what it restarted; SO_REUSEPORT
sockets, one per worker, would drop the connections queued at a worker that dies.)

The simulated banks keep an embedded store with one writer, so here they run as one
process of their own (`paygate banks serve` on a free local port) that every worker
reaches at `bank_url`, unless the settings name a `bank_url` already. A worker that
exits is started again (one that keeps dying stops everything); SIGTERM or Ctrl-C
stops the workers, then the banks.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gateway_core.errors import InputError, SystemFailure
from gateway_core.settings import Settings

EMBEDDED_REFUSAL = (
    "the embedded store has one writer process: "
    "use --database-url postgresql://... for several workers"
)
STOP_WAIT_S = 15.0  # how long a child has to stop on SIGTERM before it is killed
BANKS_WAIT_S = 30.0  # how long the banks have to answer their health check
RESTARTS = 5  # a child that exits this many times ...
RESTART_WINDOW_S = 60.0  # ... within this many seconds is given up on (with the rest)
PR_SET_PDEATHSIG = 1  # prctl(2)


def check_workers(workers: int, database_url: str | None) -> None:
    """Refuse (exit 2) a number of workers the store cannot take: several need PostgreSQL."""
    if workers < 1:
        raise InputError(f"--workers must be 1 or more, not {workers}")
    if workers > 1 and not database_url:
        raise InputError(EMBEDDED_REFUSAL)


def listen(host: str, port: int) -> socket.socket:
    """The listening socket every worker accepts on (inherited by them)."""
    try:
        sock = socket.create_server((host, port), backlog=2048)
    except OSError as exc:
        raise SystemFailure(
            f"the gateway could not listen on {host}:{port}: {exc.strerror}"
        ) from None
    sock.set_inheritable(True)
    return sock


def free_local_port() -> int:
    """A TCP port free on the loopback now (for the banks' process)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _paygate(*argv: str) -> list[str]:
    """This interpreter running the `paygate` command with `argv`."""
    return [sys.executable, "-m", "paygate_cli.main", *argv]


def _die_with_parent() -> None:
    """In the child, before it runs: SIGTERM when the supervisor dies (even by kill -9),
    so that no worker is left holding the port (Linux; elsewhere nothing)."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _exit_text(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


@dataclass
class Child:
    """One supervised process: how to start it, and its recent exits."""

    name: str
    argv: list[str]
    env: dict[str, str]
    pass_fds: tuple[int, ...] = ()
    proc: subprocess.Popen[bytes] | None = None
    exits: deque[float] = field(default_factory=lambda: deque(maxlen=RESTARTS))

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            pass_fds=self.pass_fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # their banners; what they log goes to stderr
            process_group=0,  # Ctrl-C reaches the supervisor only: it stops them in order
            preexec_fn=_die_with_parent,
        )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def exited(self) -> int | None:
        """The exit code if the process has ended (None while it runs)."""
        return None if self.proc is None else self.proc.poll()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not ended within STOP_WAIT_S."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Supervisor:
    """The banks' process (unless `bank_url` is set) and `workers` gateway processes
    sharing `sock`, kept running until `stop` is asked for."""

    def __init__(
        self,
        settings: Settings,
        sock: socket.socket,
        workers: int,
        worker_argv: Callable[[str, int], list[str]],
        env: dict[str, str],
        say: Callable[[str], None],
    ) -> None:
        self._say, self._sock = say, sock
        self._stopping = threading.Event()
        self.bank_url = settings.bank_url
        self.banks: Child | None = None
        if self.bank_url is None:
            port = free_local_port()
            self.bank_url = f"http://127.0.0.1:{port}"
            argv = _paygate("banks", "serve", "--host", "127.0.0.1", "--port", str(port))
            argv += ["--data-dir", str(settings.data_dir)]
            self.banks = Child("banks", argv, env)
        fd = sock.fileno()
        self.workers = [
            Child(f"worker {n}", worker_argv(self.bank_url, fd), env, (fd,))
            for n in range(1, workers + 1)
        ]

    def stop(self, *_: object) -> None:
        """Ask the loop to stop everything (a signal handler)."""
        self._stopping.set()

    def run(self) -> None:
        """Start the banks (and wait for them), then the workers; restart whatever exits
        until stopped; stop the workers, then the banks, and close the port."""
        try:
            if self.banks is not None:
                self.banks.start()
                self._wait_for_banks()
            for worker in self.workers:
                worker.start()
                self._say(f"{worker.name} started (pid {worker.pid})")
            while not self._stopping.wait(0.2):
                for child in ([self.banks] if self.banks else []) + self.workers:
                    self._restart_if_exited(child)
        finally:
            for worker in self.workers:
                worker.stop()
            if self.banks is not None:
                self.banks.stop()
            self._sock.close()

    def _restart_if_exited(self, child: Child) -> None:
        code = child.exited()
        if code is None or self._stopping.is_set():
            return
        now = time.monotonic()
        child.exits.append(now)
        if len(child.exits) == RESTARTS and now - child.exits[0] < RESTART_WINDOW_S:
            raise SystemFailure(
                f"{child.name} exited {RESTARTS} times in {RESTART_WINDOW_S:.0f} s "
                f"(last: {_exit_text(code)}): stopped"
            )
        old = child.pid
        child.start()
        self._say(f"{child.name} (pid {old}) {_exit_text(code)}: restarted (pid {child.pid})")

    def _wait_for_banks(self) -> None:
        assert self.banks is not None
        deadline = time.monotonic() + BANKS_WAIT_S
        while time.monotonic() < deadline and not self._stopping.is_set():
            if (code := self.banks.exited()) is not None:
                raise SystemFailure(f"the banks did not start ({_exit_text(code)})")
            try:
                httpx.get(f"{self.bank_url}/banks/v1/health", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                self._stopping.wait(0.05)
        if not self._stopping.is_set():
            raise SystemFailure(f"the banks did not answer at {self.bank_url}")


def supervise(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    worker_argv: Callable[[str, int], list[str]],
    say: Callable[[str], None],
) -> Supervisor:
    """A supervisor of `workers` processes on `host:port` (bound now: a taken port is
    refused before anything starts); its `run` serves until `stop`."""
    sock = listen(host, port)
    env = dict(os.environ, PAYGATE_LOG_FORMAT=settings.log_format)  # they log as it does
    if settings.database_url:  # in the environment, never on a command line (a password)
        env["PAYGATE_DATABASE_URL"] = settings.database_url
    return Supervisor(settings, sock, workers, worker_argv, env, say)


def worker_argv(
    config_file: Path | None, settings: Settings, host: str, port: int, poll_every_s: float
) -> Callable[[str, int], list[str]]:
    """How a worker is started: `paygate serve` on the supervisor's socket (its fd) with
    its settings, the banks at `bank_url`."""

    def argv(bank_url: str, fd: int) -> list[str]:
        config = ["--config", str(config_file)] if config_file else []
        return _paygate(
            "serve",
            *config,
            "--data-dir",
            str(settings.data_dir),
            "--bank-url",
            bank_url,
            "--host",
            host,
            "--port",
            str(port),
            "--poll-every",
            str(poll_every_s),
            "--listen-fd",
            str(fd),
        )

    return argv
