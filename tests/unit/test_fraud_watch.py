"""Watching the fraud model: the day's score bands and decisions, drift against the
model's test days, and the console's risk tab showing them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from app_support import build_app, drive, flat, wait_for
from console_support import VISA, console, tab
from fraud_support import install_model, small_model
from support import charge

from bank_sim.testcards import bin_country
from gateway_core.clock import FixedClock
from gateway_core.fraud.hook import attach_model
from gateway_core.fraud.monitor import psi, watch_day
from gateway_core.settings import Settings


def record(day: str, score: int, action: str) -> dict:
    return {"id": f"pay_{day}_x", "risk": {"model": {"score": score, "action": action}}}


def test_a_day_is_split_into_bands_and_decisions() -> None:
    payments = [
        record("20261206", 3, "allow"),
        record("20261206", 45, "otp"),
        record("20261206", 97, "block"),
        record("20261205", 99, "block"),  # another day's
        {"id": "pay_20261206_y", "risk": {"score": 20}},  # scored by the rules alone
    ]
    watch = watch_day(date(2026, 12, 6), payments, [0.9, 0.05, 0.03, 0.01, 0.01], 0.2)
    assert watch is not None and watch.scored == 3
    assert watch.bands == [1, 0, 1, 0, 1]
    assert watch.decisions == {"allow": 1, "review": 0, "otp": 1, "block": 1}
    assert watch.drift is not None and watch.drifted  # a third blocked: far from 1%
    assert watch_day(date(2026, 12, 7), payments, [], 0.2) is None


def test_psi_is_zero_for_the_same_shares_and_grows_with_the_move() -> None:
    same = [0.9, 0.05, 0.03, 0.01, 0.01]
    assert psi(same, same) == 0
    assert 0 < psi([0.85, 0.08, 0.04, 0.02, 0.01], same) < psi([0.5, 0.1, 0.1, 0.1, 0.2], same)


def test_the_model_file_keeps_its_test_days_score_bands() -> None:
    reference = small_model()[0].info.reference
    assert len(reference) == 5 and abs(sum(reference) - 1) < 1e-3
    assert reference[0] > 0.8  # most payments score low


async def test_the_console_risk_tab_shows_the_model_day(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    install_model(settings.data_dir)
    app = build_app(settings, clock, tmp_path / "config")
    # the test app builds its own gateway: attached as the runtime's would be on open
    attach_model(app.rt.gateway.risk, app.rt.settings, country_of=bin_country)
    for _ in range(3):
        await app.rt.gateway.charge(charge(VISA, 120_00))
        clock.advance(minutes=3)
    async with drive(app) as pilot:
        await console(pilot)
        await tab(pilot, "risk")
        await wait_for(pilot, lambda: "Fraud model today" in flat(app))
        text = flat(app)
        assert "3 scored" in text and "model says allow" in text
