"""The failed-authentication limit is kept in the store: it holds across every gateway
process on a store (two apps here) and across a restart, and the record stays small."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from support import gateway_settings, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.runtime import Runtime
from gateway_core.service.app import create_app

BAD = {"Authorization": "Bearer pk_000000000000_" + "x" * 43}


async def statuses(rt: Runtime, tries: int) -> list[int]:
    """`tries` bad keys sent to a gateway app of its own over `rt`."""
    transport = httpx.ASGITransport(app=create_app(rt, repair_on_start=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        return [(await client.get("/v1/payments", headers=BAD)).status_code for _ in range(tries)]


async def test_the_limit_holds_across_gateways_on_one_store(
    runtime: Runtime, clock: FixedClock
) -> None:
    assert await statuses(runtime, 6) == [401] * 6
    assert await statuses(runtime, 5) == [401] * 4 + [429]
    assert await statuses(runtime, 1) == [429]
    clock.advance(minutes=1)
    assert await statuses(runtime, 1) == [401]


async def test_the_limit_survives_a_restart(tmp_path: Path, clock: FixedClock) -> None:
    settings = gateway_settings(tmp_path / "data", 5.0)
    first = open_runtime(settings, clock=clock)
    try:
        assert await statuses(first, 10) == [401] * 10
    finally:
        await first.aclose()
    again = open_runtime(settings, clock=clock)
    try:
        assert await statuses(again, 1) == [429]
    finally:
        await again.aclose()


def test_addresses_whose_failures_aged_out_are_forgotten(
    runtime: Runtime, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway_core.store import auth_failures

    repo = auth_failures.TinyFailedAuthRepository(runtime.store)
    window = timedelta(minutes=1)
    for address in ("10.0.0.1", "10.0.0.2"):
        repo.record(address, clock.now(), since=clock.now() - window)
    clock.advance(minutes=2)
    repo.record("10.0.0.3", clock.now(), since=clock.now() - window)
    assert (repo.failures("10.0.0.1"), repo.failures("10.0.0.2")) == ([], [])
    assert len(runtime.store.main.table("auth_failures")) == 1

    monkeypatch.setattr(auth_failures, "MAX_ADDRESSES", 2)
    for address in ("10.0.0.4", "10.0.0.5"):
        clock.advance(seconds=1)
        repo.record(address, clock.now(), since=clock.now() - window)
    assert repo.failures("10.0.0.3") == []  # the one failing longest ago went first
    assert len(runtime.store.main.table("auth_failures")) == 2
