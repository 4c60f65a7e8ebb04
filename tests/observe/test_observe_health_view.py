"""The console's Health view (merchant console, `h`): fixed recorders (the figures of
a test are its own: no latency measured now ever shows), a frozen clock, seeded ids.
A snapshot at 80×24, and a pilot that opens it, reads it, sees a new payment after a
refresh and goes back."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import build_app, compare_app, drive, on_screen, press, wait_for
from console_support import VISA, console, rendered
from support import charge

from gateway_core.clock import FixedClock
from gateway_core.observe import recorders
from gateway_core.observe.recorders import Recorders
from gateway_core.settings import Settings
from gateway_core.store import group_commit

BANK = "Paygate Demo Bank"


def fixed() -> Recorders:
    """A morning's figures: 40 approved and 3 declined at the demo bank, one lost answer,
    two UPI payments; hops of known lengths."""
    figures = Recorders()
    figures.payments.update(
        {
            ("card", "approved", "00", BANK): 40,
            ("card", "declined", "05", BANK): 3,
            ("card", "declined", "91", "none"): 1,
            ("upi", "approved", "00", "none"): 2,
        }
    )
    figures.reversals["timeout", "00"] = 1
    figures.timeouts["acquirer"] = 1
    for hop, seconds in (
        ("gateway", 0.004),
        ("acquirer", 0.0003),
        ("network", 0.0002),
        ("issuer", 0.0004),
        ("upi_switch", 0.002),
    ):
        for _ in range(10):
            figures.hop(hop).observe(seconds)
    figures.syncs.observe(0.0015)
    return figures


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the console is open, the recorders hold `fixed()` and nothing more is
    counted into them (a sign-in's store syncs would, at their real length)."""

    def freeze() -> None:
        monkeypatch.setattr(recorders, "METRICS", fixed())
        monkeypatch.setattr(group_commit, "store_synced", lambda *_: None)

    return freeze


def test_snapshot(snap_compare, settings: Settings, clock: FixedClock, tmp_path: Path, frozen):
    app = build_app(settings, clock, tmp_path / "config")

    async def run_before(pilot) -> None:
        await console(pilot)
        frozen()
        await press(pilot, "h")
        await on_screen(pilot, "HealthScreen")
        await wait_for(pilot, lambda: pilot.app.screen.health is not None)

    assert compare_app(snap_compare, app, run_before)


async def test_open_read_refresh_and_back(
    settings: Settings, clock: FixedClock, tmp_path: Path, frozen
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        await console(pilot)
        frozen()
        await press(pilot, "h")
        await on_screen(pilot, "HealthScreen")
        await wait_for(pilot, lambda: pilot.app.screen.health is not None)
        screen = pilot.app.screen

        def text(selector: str) -> str:
            return rendered(screen.query_one(selector))

        issuers = text("#health-issuers")
        assert BANK in issuers and "93%" in issuers  # 40 of 43
        hops = text("#health-hops")
        for name in ("gateway", "acquirer", "network", "issuer", "UPI switch", "fdatasync"):
            assert name in hops
        assert "gateway 10 3.8 ms 5.0 ms" in hops  # 4 ms, read in its bucket (2.5-5 ms)
        assert "ok" in text("#health-checks")
        assert screen.health.decided == 46 and screen.health.checks["banks"] == "ok"
        await app.rt.gateway.charge(charge(VISA, 100_00))
        clock.advance(minutes=1)
        await press(pilot, "f5")
        await wait_for(pilot, lambda: screen.health.decided == 47)
        assert screen.health.per_minute == 1.0
        assert "Payments decided 47" in text("#health-summary")
        await press(pilot, "escape")
        await on_screen(pilot, "MerchantScreen")
