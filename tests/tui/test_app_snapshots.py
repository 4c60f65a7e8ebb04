"""Snapshots of every screen of the terminal at 80×24 (pytest-textual-snapshot).

Frozen clock (2026-11-28 10:00 IST), counted payment ids, a fixed sequence of auth and
OTP codes, no animations and no blinking cursor: the same pixels on every run. Update
them with `pytest tests/test_app_snapshots.py --snapshot-update` after checking the
report (`snapshot_report.html`) by eye.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from app_support import (
    PANS,
    SIZE,
    build_app,
    compare_app,
    key_card,
    login,
    on_screen,
    press,
    sale,
    typ,
    wait_for,
    widget_text,
)

from bank_sim import acquirer as acquirer_module
from gateway_core.clock import FixedClock
from gateway_core.settings import Settings
from pos_app import route as route_module


@pytest.fixture
def snap(snap_compare, settings: Settings, clock: FixedClock, tmp_path: Path):
    """`snap(steps, demo=..., theme=..., settings_=...)`: run `steps(pilot)` on a fresh
    terminal, then compare the screen with the stored snapshot."""

    def take(steps, *, theme: str | None = None, settings_: Settings | None = None, **options):
        # The help screen names the config dir: a path of one length wherever pytest runs
        # (its own tmp path grows with the run number and the xdist worker's name).
        config = Path(tempfile.mkdtemp(prefix="paygate-snap-")) / "config"
        cleanup.append(config.parent)
        config.mkdir(exist_ok=True)
        if theme:
            (config / "ui.toml").write_text(f'theme = "{theme}"\n', encoding="utf-8")
        tune = options.pop("tune", None)
        app = build_app(settings_ or settings, clock, config, **options)
        if tune:
            tune(app)

        async def run_before(pilot) -> None:
            await steps(pilot)

        return compare_app(snap_compare, app, run_before, SIZE)

    cleanup: list[Path] = []
    yield take
    for path in cleanup:
        shutil.rmtree(path, ignore_errors=True)


async def nothing(pilot) -> None:
    await on_screen(pilot, "LoginScreen")


def test_login(snap) -> None:
    assert snap(nothing, demo=True)


def test_login_wrong_pin(snap) -> None:
    async def steps(pilot) -> None:
        await on_screen(pilot, "LoginScreen")
        await typ(pilot, "asha")
        await press(pilot, "enter")
        await typ(pilot, "9999")
        await press(pilot, "enter")
        await wait_for(pilot, lambda: "tries left" in widget_text(pilot.app, "#login-error"))

    assert snap(steps)


def test_sale_with_tip_and_reference(snap) -> None:
    async def steps(pilot) -> None:
        await login(pilot)
        await typ(pilot, "1250")
        await press(pilot, "t", "t")  # 15 %
        await press(pilot, "r")
        await typ(pilot, "table 7")
        await press(pilot, "enter")

    assert snap(steps)


def test_card_with_feedback_under_the_fields(snap) -> None:
    async def steps(pilot) -> None:
        await login(pilot)
        await typ(pilot, "1250")
        await press(pilot, "enter")
        await on_screen(pilot, "CardScreen")
        await typ(pilot, "378282246310005")
        await press(pilot, "enter")
        await typ(pilot, "0121")
        await press(pilot, "enter")

    assert snap(steps)


def test_processing_while_the_bank_is_silent(snap, settings: Settings) -> None:
    def tune(app) -> None:
        app.rt.banks.config.timeout_fault_s = 60

    async def steps(pilot) -> None:
        await login(pilot)
        await typ(pilot, "420")
        await press(pilot, "enter")
        await key_card(pilot, PANS["timeout"])
        await press(pilot, "enter")
        await on_screen(pilot, "ProcessingScreen")
        await wait_for(pilot, lambda: pilot.app.flow.route_log)

    assert snap(steps, tune=tune, settings_=settings.model_copy(update={"bank_timeout_s": 30}))


def test_processing_route_lit_hop_by_hop(snap, monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = itertools.count()
    fake = SimpleNamespace(perf_counter=lambda: next(ticks) * 0.125)  # 125 ms a hop
    monkeypatch.setattr(acquirer_module, "time", fake)
    monkeypatch.setattr(route_module, "time", fake)

    async def steps(pilot) -> None:
        await login(pilot)
        await typ(pilot, "420")
        await press(pilot, "enter")
        await key_card(pilot, "4000 0000 0000 9995")  # declined 51 at the issuer
        await press(pilot, "enter")
        await on_screen(pilot, "ProcessingScreen")
        await wait_for(pilot, lambda: "Response 51" in widget_text(pilot.app, "#wait-text"))

    assert snap(steps, result_delay=600)


def test_otp_with_the_demo_phone(snap) -> None:
    async def steps(pilot) -> None:
        await login(pilot)
        await sale(pilot, "15000", PANS["otp"], until="OtpScreen")
        await wait_for(pilot, lambda: pilot.app.screen.sms)
        await typ(pilot, "12")

    assert snap(steps, demo=True)


def test_result_approved_with_receipt(snap) -> None:
    async def steps(pilot) -> None:
        await login(pilot)
        await typ(pilot, "1250")
        await press(pilot, "t")
        await sale(pilot, "", PANS["approve"])

    assert snap(steps)


def test_result_declined(snap) -> None:
    async def steps(pilot) -> None:
        await login(pilot)
        await sale(pilot, "99", "4000 0000 0000 9995")

    assert snap(steps)


def test_manager_approval_to_void(snap) -> None:
    async def steps(pilot) -> None:
        await login(pilot)
        await press(pilot, "a")  # pre-authorization
        await sale(pilot, "2400", PANS["approve"])
        await press(pilot, "v")
        await on_screen(pilot, "ManagerApprovalScreen")
        await typ(pilot, "meera")
        await press(pilot, "enter")
        await typ(pilot, "0000")
        await press(pilot, "enter")
        await wait_for(pilot, lambda: "tries left" in widget_text(pilot.app, "#manager-error"))

    assert snap(steps)


def test_today_on_this_terminal(snap) -> None:
    async def steps(pilot) -> None:
        await login(pilot)
        await sale(pilot, "1250", PANS["approve"])
        await press(pilot, "enter")
        await sale(pilot, "80", "4000 0000 0000 0002")
        await press(pilot, "enter")
        await press(pilot, "f2")
        await on_screen(pilot, "TodayScreen")
        await wait_for(pilot, lambda: len(pilot.app.screen.payments) == 2)

    assert snap(steps)


def test_help(snap) -> None:
    async def steps(pilot) -> None:
        await login(pilot)
        await press(pilot, "f1")
        await on_screen(pilot, "HelpScreen")

    assert snap(steps)


def test_inspector(snap) -> None:
    async def steps(pilot) -> None:
        await login(pilot)
        await sale(pilot, "1250", PANS["approve"])
        await press(pilot, "f3")
        await on_screen(pilot, "InspectorScreen")
        await wait_for(pilot, lambda: pilot.app.screen.frames)

    assert snap(steps)


def test_demo_cards(snap) -> None:
    async def steps(pilot) -> None:
        await login(pilot)
        await typ(pilot, "500")
        await press(pilot, "enter")
        await on_screen(pilot, "CardScreen")
        await press(pilot, "ctrl+d")
        await on_screen(pilot, "DemoCardsScreen")

    assert snap(steps, demo=True)


def test_sale_on_receipt_paper(snap) -> None:
    async def steps(pilot) -> None:
        await login(pilot)
        await typ(pilot, "349.5")

    assert snap(steps, theme="receipt-paper")


def test_result_in_high_contrast(snap) -> None:
    async def steps(pilot) -> None:
        await login(pilot)
        await sale(pilot, "349.50", PANS["approve"])

    assert snap(steps, theme="high-contrast")
