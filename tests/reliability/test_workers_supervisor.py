"""`paygate serve --workers N`: the refusal on the embedded store, and the supervisor.

The supervisor is run here over real processes: the simulated banks (`paygate banks
serve`, started and stopped by it) and workers that answer on the socket it hands them
with their pid (the gateway's own workers need PostgreSQL: test_workers_pg.py). A worker
killed is started again, the port answering all along; stopping ends every child.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from server_support import issue
from support import free_port
from workers_support import sale, wait_until

from gateway_core.errors import SystemFailure
from gateway_core.settings import load_settings
from paygate_cli.workers import EMBEDDED_REFUSAL, Supervisor, supervise, worker_argv

ECHO_PID = """
import os, socket, sys
sock = socket.socket(fileno=int(sys.argv[1]))
while True:
    conn, _ = sock.accept()
    conn.recv(65536)
    body = str(os.getpid()).encode()
    conn.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n"
                 % len(body) + body)
    conn.close()
"""


def echo_pid(bank_url: str, fd: int) -> list[str]:
    return [sys.executable, "-c", ECHO_PID, str(fd)]


@pytest.mark.parametrize("workers", ["2", "8"])
def test_several_workers_on_the_embedded_store_are_refused(cli, tmp_path: Path, workers: str):
    data = tmp_path / "data"
    result = cli("serve", "--workers", workers, "--data-dir", data)
    assert result.code == 2
    assert result.err.strip() == f"paygate: {EMBEDDED_REFUSAL}"
    assert not data.exists()  # refused before anything is opened


def test_no_workers_is_refused(cli, tmp_path: Path):
    result = cli("serve", "--workers", "0", "--data-dir", tmp_path / "data")
    assert result.code == 2
    assert "--workers must be 1 or more" in result.err


def test_a_taken_port_is_refused_before_anything_starts(tmp_path: Path):
    settings = load_settings(data_dir=tmp_path / "data")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(SystemFailure, match=f"could not listen on 127.0.0.1:{port}"):
            supervise(
                settings,
                host="127.0.0.1",
                port=port,
                workers=2,
                worker_argv=echo_pid,
                say=print,
            )


class Running:
    """A supervisor run in a thread, with what it said."""

    def __init__(self, supervisor: Supervisor, url: str, said: list[str]) -> None:
        self.supervisor, self.url, self.said = supervisor, url, said
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            self.supervisor.run()
        except BaseException as exc:  # handed to the test
            self.error = exc

    def pids(self) -> set[int]:
        return {w.pid for w in self.supervisor.workers}

    def answering(self) -> set[int]:
        """The pids that answered 40 fresh connections."""
        return {int(httpx.get(self.url, timeout=10).text) for _ in range(40)}


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(workers: int = 2, **settings: str) -> Running:
        port = free_port()
        said: list[str] = []
        supervisor = supervise(
            load_settings(data_dir=tmp_path / "data", **settings),
            host="127.0.0.1",
            port=port,
            workers=workers,
            worker_argv=echo_pid,
            say=said.append,
        )
        run = Running(supervisor, f"http://127.0.0.1:{port}/", said)
        run.thread.start()
        started.append(run)
        wait_until(lambda: len(said) == workers, "the workers started")
        return run

    yield start
    for run in started:
        run.supervisor.stop()
        run.thread.join(60)


def test_workers_share_the_port_and_a_killed_one_is_replaced(running):
    run = running(workers=2)
    first = run.pids()
    wait_until(lambda: run.answering() == first, "both workers answer on the one port")
    banks = run.supervisor.banks
    assert banks is not None  # no bank_url: the banks run as their own process
    health = httpx.get(f"{run.supervisor.bank_url}/banks/v1/health", timeout=10)
    assert health.status_code == 200

    victim = run.supervisor.workers[0].pid
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: len(run.said) == 3, "the supervisor restarted the worker")
    assert run.said[2].startswith(f"worker 1 (pid {victim}) killed by SIGKILL: restarted (pid ")
    second = run.pids()
    assert victim not in second and len(second) == 2
    wait_until(lambda: run.answering() == second, "the new worker answers too")

    children = [w.proc for w in run.supervisor.workers] + [banks.proc]
    run.supervisor.stop()
    run.thread.join(60)
    assert run.error is None
    assert all(proc is not None and proc.poll() is not None for proc in children)
    with pytest.raises(httpx.ConnectError):
        httpx.get(run.url, timeout=10)  # the port is closed with the supervisor


def test_with_a_bank_url_no_banks_are_started(running):
    run = running(workers=1, bank_url="http://127.0.0.1:9")
    assert run.supervisor.banks is None
    assert run.supervisor.bank_url == "http://127.0.0.1:9"
    wait_until(lambda: run.answering() == run.pids(), "the worker answers")


def test_a_worker_that_keeps_dying_stops_everything(tmp_path: Path):
    said: list[str] = []
    supervisor = supervise(
        load_settings(data_dir=tmp_path / "data", bank_url="http://127.0.0.1:9"),
        host="127.0.0.1",
        port=free_port(),
        workers=1,
        worker_argv=lambda bank_url, fd: [sys.executable, "-c", "raise SystemExit(3)"],
        say=said.append,
    )
    with pytest.raises(
        SystemFailure, match=r"worker 1 exited 5 times in 60 s \(last: exit code 3\): stopped"
    ):
        supervisor.run()
    assert said[0].startswith("worker 1 started")
    assert all(w.exited() is not None for w in supervisor.workers)


OPEN = ("unknown", "requires_action", "requires_capture", "pending")


def test_a_gateway_worker_killed_mid_payment_is_repaired_by_the_next(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A real `paygate serve` worker (one: the embedded store) killed while a sale waits
    at the banks' process: the worker started in its place repairs it at its start, to a
    final state the banks' books agree with."""
    data = tmp_path / "data"
    key = issue(cli, data, "T1")
    monkeypatch.setenv("PAYGATE_BANK_LATENCY_MS", "1500")  # each hop: the sale waits there
    settings = load_settings(data_dir=data)
    port = free_port()
    said: list[str] = []
    supervisor = supervise(
        settings,
        host="127.0.0.1",
        port=port,
        workers=1,
        worker_argv=worker_argv(None, settings, "127.0.0.1", port, 0),
        say=said.append,
    )
    run = Running(supervisor, f"http://127.0.0.1:{port}", said)
    run.thread.start()
    try:
        http = httpx.Client(
            base_url=run.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        )
        wait_until(lambda: said and _answers(http), "the worker serves")
        first = supervisor.workers[0].pid
        sale_thread = threading.Thread(target=_sale_cut_short, args=(run.url, key))
        sale_thread.start()
        wait_until(lambda: [p["status"] for p in _today(http)] == ["unknown"], "at the banks")
        os.kill(first, signal.SIGKILL)
        sale_thread.join(60)
        wait_until(lambda: len(said) == 2, "the worker started again")
        wait_until(lambda: _today(http)[0]["status"] not in OPEN, "repaired at its start")
    finally:
        supervisor.stop()
        run.thread.join(60)
    assert run.error is None
    assert cli("ledger", "check", "--data-dir", data).code == 0  # no hold left behind
    assert cli("audit", "verify", "--data-dir", data).code == 0


def _answers(http: httpx.Client) -> bool:
    try:
        return http.get("/health").status_code == 200
    except httpx.HTTPError:
        return False


def _today(http: httpx.Client) -> list[dict]:
    try:
        return http.get("/v1/payments").json()["data"]
    except httpx.HTTPError:  # between a worker and the next
        return [{"status": "between workers"}]


def _sale_cut_short(url: str, key: str) -> None:
    """A sale whose worker is killed under it: the connection drops."""
    with pytest.raises(httpx.HTTPError):
        httpx.post(
            f"{url}/v1/payments",
            json=sale("4242 4242 4242 4242"),
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
