"""Snapshots of the merchant console (F4): every tab at 80×24 and at 160×48, a payment's
detail and a tampered audit log (pytest-textual-snapshot).

The same set-up as test_app_snapshots.py: frozen clock, counted payment ids, fixed auth
and OTP codes, no animations, no blinking cursor. Update with
`pytest tests/test_merchant_snapshots.py --snapshot-update`, then look at the SVGs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from app_support import build_app, compare_app, fixed_auth_codes, press, wait_for
from console_support import console, open_payment, small_day, tab
from support import load_snapshot, save_snapshot
from textual.widgets import DataTable

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings

SMALL, LARGE = (80, 24), (160, 48)


@pytest.fixture
def snap(snap_compare, settings: Settings, clock: FixedClock, tmp_path: Path):
    """`snap(steps, size)`: a morning of payments, the console open as the demo manager,
    then `steps(pilot)`; compare the screen with the stored snapshot."""

    def take(steps, size: tuple[int, int], *, history: bool = True) -> bool:
        app = build_app(settings, clock, tmp_path / "config")

        async def run_before(pilot) -> None:
            if history:
                await small_day(app, clock)
            await console(pilot)
            await steps(pilot)

        return compare_app(snap_compare, app, run_before, size)

    return take


def on_tab(name: str):
    async def steps(pilot) -> None:
        await tab(pilot, name)
        if name == "audit":
            await press(pilot, "v")
            await wait_for(
                pilot, lambda: "intact" in str(pilot.app.screen.query_one("#audit-verdict").content)
            )

    return steps


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
@pytest.mark.parametrize("name", ["dashboard", "transactions", "settlement", "audit", "risk"])
def test_tab(snap, name: str, size: tuple[int, int]) -> None:
    assert snap(on_tab(name), size)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x48"])
def test_payment_detail(snap, size: tuple[int, int]) -> None:
    async def steps(pilot) -> None:
        await open_payment(pilot, pilot.app.rt.gateway.list_day()[2])  # the part refund
        await wait_for(pilot, lambda: pilot.app.screen.frames)

    assert snap(steps, size)


def test_refund_amount_prompt(snap) -> None:
    async def steps(pilot) -> None:
        await open_payment(pilot, pilot.app.rt.gateway.list_day()[0])
        await press(pilot, "f")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "AmountScreen")

    assert snap(steps, SMALL)


def test_tampered_audit_log(snap, settings: Settings, clock: FixedClock, tmp_path) -> None:
    first = build_app(settings, clock, tmp_path / "first-config")

    async def morning() -> None:
        with fixed_auth_codes():
            await small_day(first, clock)
        await first.rt.aclose()

    asyncio.run(morning())
    path = settings.data_dir / "db" / "days" / "2026-11-28.snapshot.json"
    snap_doc = load_snapshot(path)
    for event in snap_doc["tables"]["audit"].values():
        if event["seq"] == 12:
            event["actor"] = "mallory"
    save_snapshot(path, snap_doc)

    async def steps(pilot) -> None:
        await tab(pilot, "audit")
        await press(pilot, "v")
        await wait_for(
            pilot, lambda: "broken" in str(pilot.app.screen.query_one("#audit-verdict").content)
        )
        table = pilot.app.screen.query_one("#audit-table", DataTable)
        # the broken event is marked and under the cursor before the picture is taken
        await wait_for(pilot, lambda: str(table.get_row_at(table.cursor_row)[0]) == "⚠ 12")
        await pilot.pause()

    assert snap(steps, SMALL, history=False)
