"""The probes: `/healthz` (alive) and `/readyz` (store writable, banks reachable, keys
ready) on the gateway, without a key; `/healthz` on `paygate banks serve`.

The gateway runs in process (`httpx.ASGITransport`); the banks it checks are either
embedded or a real `banks serve` process, stopped half-way to see readiness fail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pg_support import drop_database, new_database
from support import BankServer, free_port, gateway_settings, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.runtime import Runtime
from gateway_core.service.app import create_app

READY = {"store": "ok", "banks": "ok", "keys": "ok"}


async def _probe(rt: Runtime) -> tuple[httpx.Response, httpx.Response]:
    """`/healthz` and `/readyz` of an app over `rt`, asked without any key."""
    app = create_app(rt, repair_on_start=False, poll_every_s=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        return await client.get("/healthz"), await client.get("/readyz")


@pytest.fixture
async def embedded(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Runtime]:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    try:
        yield rt
    finally:
        await rt.aclose()


@pytest.fixture
def banks(tmp_path: Path) -> Iterator[BankServer]:
    server = BankServer(tmp_path / "banks", timeout_fault_s=5.0, slow_fault_s=0.5)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _remote_runtime(data_dir: Path, bank_url: str, clock: FixedClock) -> Runtime:
    settings = gateway_settings(data_dir, 5.0).model_copy(update={"bank_url": bank_url})
    return open_runtime(settings, clock=clock)


async def test_alive_and_ready_with_the_embedded_banks(embedded: Runtime) -> None:
    alive, ready = await _probe(embedded)
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": READY, "failing": []}
    assert not list(embedded.settings.data_dir.glob(".ready-*"))  # the probe file is gone


async def test_ready_then_not_when_the_banks_process_stops(
    banks: BankServer, tmp_path: Path, clock: FixedClock
) -> None:
    rt = _remote_runtime(tmp_path / "data", banks.url, clock)
    try:
        _, ready = await _probe(rt)
        assert (ready.status_code, ready.json()["checks"]) == (200, READY)
        banks.stop()
        alive, unready = await _probe(rt)
    finally:
        await rt.aclose()
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})  # alive all the same
    body = unready.json()
    assert (unready.status_code, body["status"], body["failing"]) == (503, "not ready", ["banks"])
    assert body["checks"]["banks"].startswith("unreachable: the bank cannot be reached")
    assert (body["checks"]["store"], body["checks"]["keys"]) == ("ok", "ok")


async def test_not_ready_when_no_bank_listens(tmp_path: Path, clock: FixedClock) -> None:
    rt = _remote_runtime(tmp_path / "data", f"http://127.0.0.1:{free_port()}", clock)
    try:
        _, unready = await _probe(rt)
    finally:
        await rt.aclose()
    assert (unready.status_code, unready.json()["failing"]) == (503, ["banks"])


async def test_not_ready_without_the_key_file_or_a_writable_store(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = gateway_settings(tmp_path / "data", 5.0)
    open_runtime(settings, clock=clock).close()  # a data dir with data and a key file
    reader = open_runtime(settings, clock=clock, read_only=True)
    key_file = settings.resolved_key_file
    key_file.rename(key_file.with_name("elsewhere.json"))
    try:
        _, unready = await _probe(reader)
    finally:
        await reader.aclose()
    body = unready.json()
    assert (unready.status_code, body["failing"]) == (503, ["store", "keys"])
    assert body["checks"]["store"] == "opened read-only"
    assert body["checks"]["keys"] == f"key file {key_file} cannot be read"


def test_banks_serve_answers_healthz(banks: BankServer) -> None:
    answer = httpx.get(f"{banks.url}/healthz", timeout=5)
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


async def test_on_postgresql_ready_then_not_when_its_database_goes(
    pg_server: str, tmp_path: Path, clock: FixedClock
) -> None:
    url = new_database(pg_server, "readyz")
    settings = gateway_settings(tmp_path / "data", 5.0).model_copy(update={"database_url": url})
    rt = open_runtime(settings, clock=clock)
    try:
        _, ready = await _probe(rt)
        assert (ready.status_code, ready.json()["checks"]) == (200, READY)
        drop_database(pg_server, url)  # its connections go with it
        _, unready = await _probe(rt)
    finally:
        await rt.aclose()
    body = unready.json()
    assert (unready.status_code, body["failing"]) == (503, ["store"]), body
    assert body["checks"]["store"].startswith("not writable")
