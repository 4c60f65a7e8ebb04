"""After the Z report the terminal says so on the Sale screen, before anything is keyed,
and sales go on into the next business day instead of being refused until midnight."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from app_support import PANS, build_app, drive, flat, login, on_screen, press, sale

from gateway_core.clock import FixedClock
from gateway_core.payments import payment_day
from gateway_core.settings import Settings

TODAY, TOMORROW = date(2026, 11, 28), date(2026, 11, 29)


async def test_after_z_the_sale_screen_says_so_and_sales_count_for_the_next_day(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        await login(pilot)
        assert "is closed" not in flat(app)
        await sale(pilot, "120", PANS["approve"])
        app.office.settlement().close_day(TODAY, closed_by="meera")  # the console's Z
        clock.advance(minutes=1)
        await press(pilot, "enter")  # a new sale
        await on_screen(pilot, "SaleScreen")
        text = flat(app)
        assert "Business day 28 Nov is closed (Z report 1): sales now count for 29 Nov" in text
        await sale(pilot, "75", PANS["approve"])
        payment = app.screen.payment
        assert payment.status == "succeeded" and payment_day(payment.id) == TOMORROW
