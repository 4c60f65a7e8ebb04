"""Snapshots of the UPI screen at 80×24 (frozen clock, counted payment ids: the same QR
and countdown on every run), and the screen fitting whole at 80×24 and 100×30."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import (
    SIZE,
    build_app,
    compare_app,
    drive,
    flat,
    login,
    on_screen,
    press,
    typ,
    wait_for,
)

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings
from pos_app.widgets.qr import QrCode


async def qr_up(pilot) -> None:
    await login(pilot)
    await typ(pilot, "250")
    await press(pilot, "u")
    await on_screen(pilot, "UpiScreen")
    await wait_for(pilot, lambda: pilot.app.screen.query_one(QrCode).link)


async def phone_with_pin(pilot) -> None:
    await qr_up(pilot)
    await press(pilot, "p", "down", "enter")
    await typ(pilot, "1234")


@pytest.mark.parametrize("steps", [qr_up, phone_with_pin], ids=["qr", "phone"])
def test_upi_screen(snap_compare, settings: Settings, clock: FixedClock, tmp_path, steps) -> None:
    app = build_app(settings, clock, tmp_path / "config", demo=True)
    assert compare_app(snap_compare, app, steps, SIZE)


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_qr_and_info_fit(
    settings: Settings, clock: FixedClock, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = build_app(settings, clock, tmp_path / "config", demo=True)
    async with drive(app) as pilot:
        await pilot.resize_terminal(*size)
        await qr_up(pilot)
        screen = app.screen.region
        for selector in ("#upi-qr", "#upi-info"):
            region = app.screen.query_one(selector).region
            assert screen.contains_region(region), (selector, region, size)
        qr = app.screen.query_one("#upi-qr").region
        assert (qr.width, qr.height) == (43, 22)
        text = flat(app)
        for words in ("Paygate Demo Store", "₹", "Waiting for the payer", "QR expires in 5:00"):
            assert words in text
        assert "Esc: cancel" in text
