"""What a new cashier's walk found on the terminal: a reprint shows the receipt again,
payment ids show whole at 80 columns, a lock says who can lift it, an expiry that does
not match the card is declined as such, and `risk explain` speaks JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from app_support import (
    PANS,
    build_app,
    drive,
    flat,
    login,
    on_screen,
    press,
    sale,
    screen_text,
    typ,
    wait_for,
    widget_text,
)

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings


@pytest.fixture
def app(settings: Settings, clock: FixedClock, tmp_path: Path):
    return build_app(settings, clock, tmp_path / "config")


async def test_reprint_shows_the_receipt_again_marked_duplicate(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await sale(pilot, "120", PANS["approve"])
        payment = app.screen.payment
        await press(pilot, "p")
        await on_screen(pilot, "ReceiptDialog")
        text = flat(app)
        assert "Receipt (reprint)" in text and "** DUPLICATE **" in text
        assert payment.id in text and "TOTAL ₹120.00" in text
        await press(pilot, "escape")
        await on_screen(pilot, "ResultScreen")


async def test_payment_ids_show_whole_on_the_result_and_today_at_80_columns(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await sale(pilot, "4999", PANS["approve"])
        approved = app.screen.payment.id
        assert approved in screen_text(app)
        await press(pilot, "enter")
        await on_screen(pilot, "SaleScreen")
        await sale(pilot, "75", "4000 0000 0000 9995")  # declined 51
        declined = app.screen.payment.id
        assert declined in screen_text(app)
        await press(pilot, "f2")
        await on_screen(pilot, "TodayScreen")
        await wait_for(pilot, lambda: len(app.screen.payments) == 2)
        text = screen_text(app)
        assert approved in text and declined in text
        assert "declined 51" in text


async def test_a_locked_cashier_is_told_who_can_unlock(app) -> None:
    async with drive(app) as pilot:
        await on_screen(pilot, "LoginScreen")
        await typ(pilot, "asha")
        await press(pilot, "enter")
        for _ in range(5):
            await typ(pilot, "9999")
            await press(pilot, "enter")
        await wait_for(pilot, lambda: "locked until" in widget_text(app, "#login-error"))
        error = widget_text(app, "#login-error")
        assert "An admin can unlock now: paygate users unlock asha" in error
        # on screen, not cut (once the screen has repainted after the widget changed)
        await wait_for(pilot, lambda: "paygate users unlock asha" in flat(app))


async def test_an_expiry_that_does_not_match_the_card_is_declined_as_such(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await sale(pilot, "200", "4000 0000 0000 0069")  # the issuer has 01/24 on file
        payment = app.screen.payment
        assert (payment.status, payment.response_code) == ("declined", "54")
        assert widget_text(app, "#reason") == "54 · Expiry date does not match the card"


def test_risk_explain_prints_json(cli, tmp_path: Path) -> None:
    data = tmp_path / "d"
    card = ("--card", PANS["approve"], "--exp", "12/30", "--cvv", "123")
    paid = json.loads(cli("charge", "--amount", "12", *card, "--data-dir", data, "--json").out)
    done = cli("risk", "explain", paid["id"], "--json", "--data-dir", data)
    assert done.code == 0
    document = json.loads(done.out)
    assert document["payment_id"] == paid["id"]
    assert document["risk"]["action"] == "allow" and isinstance(document["risk"]["score"], int)
    assert isinstance(document["risk"]["factors"], list)
