"""A cash sale at the terminal: c on the Sale screen, the cash tendered keyed or chosen
with a quick key, the change in large digits as it is keyed, Enter takes it and the
receipt prints tendered, change and rounding. With no shift open the cashier counts
the float first. Keys in one burst, as a fast typist or `tmux send-keys` sends them."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import build_app, burst, drive, flat, login, on_screen, press, typ, widget_text

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings
from pos_app.screens.cash import cash_due, quick_amounts


@pytest.fixture
def app(settings: Settings, clock: FixedClock, tmp_path: Path):
    app = build_app(settings, clock, tmp_path / "config", demo=True)
    return app


async def open_shift(app, count=None) -> None:
    await app.gateway.shifts.open_shift(count=count or {50000: 4}, cashier="asha")


def digits(app, selector: str) -> str:
    return app.screen.query_one(selector).value


async def test_cash_in_one_burst_shows_the_change_and_prints_it(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await open_shift(app)
        await burst(pilot, *"99.6", "c", *"500")
        await on_screen(pilot, "CashScreen")
        assert digits(app, "#cash-due") == "₹99.60"
        assert digits(app, "#cash-tendered") == "500"
        assert digits(app, "#cash-change") == "₹400.40"
        await press(pilot, "enter")
        await on_screen(pilot, "ResultScreen")
        payment = app.gateway.get(app.flow.last_payment_id)
        assert payment.method == "cash" and payment.status == "succeeded"
        assert (payment.cash.tendered, payment.cash.change) == (50000, 40040)
        receipt = " ".join(widget_text(app, "#receipt").split())
        for words in ("Paid by Cash", "TOTAL ₹99.60", "Tendered ₹500.00", "Change ₹400.40"):
            assert words in receipt
        assert "Cash, change ₹400.40" in flat(app)


async def test_no_shift_open_counts_the_float_first_then_the_cash(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await burst(pilot, *"250", "c")
        await on_screen(pilot, "ShiftOpenScreen")
        assert "No shift is open on" in flat(app)
        # ₹500 × 2, ₹200 × 0, ₹100 × 5, then done with ctrl+s
        await burst(pilot, "2", "enter", "enter", "5", "ctrl+s")
        await on_screen(pilot, "CashScreen")
        shift = app.gateway.shifts.current_shift()
        assert shift.float_amount == 150000 and shift.cashier == "asha"
        await burst(pilot, "e", "enter")  # the exact amount
        await on_screen(pilot, "ResultScreen")
        payment = app.gateway.get(app.flow.last_payment_id)
        assert (payment.amount, payment.cash.change, payment.cash.shift_id) == (25000, 0, shift.id)


async def test_the_float_total_runs_as_pieces_are_typed(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await press(pilot, "o")
        await on_screen(pilot, "ShiftOpenScreen")
        await burst(pilot, "3", "down", "1", "enter", "enter", "1", "0")
        text = flat(app)
        assert "₹500 × 3 = ₹1,500.00" in text and "₹200 × 1 = ₹200.00" in text
        assert "₹50 × 10 = ₹500.00" in text
        assert "Counted ₹2,200.00" in text


async def test_less_than_due_is_refused_on_the_screen(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await open_shift(app)
        await burst(pilot, *"120", "c", *"100", "enter")
        await on_screen(pilot, "CashScreen")
        assert "Tendered ₹100.00 is less than the ₹120.00 due" in flat(app)
        assert digits(app, "#cash-change") == ""
        assert app.flow.last_payment_id is None


async def test_quick_keys_give_the_next_notes_up(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await open_shift(app)
        await burst(pilot, *"99.6", "c")
        await on_screen(pilot, "CashScreen")
        text = flat(app)
        for label in ("e Exact ₹99.60", "a ₹100.00", "b ₹200.00", "d ₹500.00", "f ₹1,000.00"):
            assert label in text
        await press(pilot, "d")
        assert digits(app, "#cash-change") == "₹400.40"
        await press(pilot, "backspace", "backspace", "backspace")
        assert digits(app, "#cash-tendered") == "500"


async def test_esc_goes_back_to_the_sale_with_its_amount(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await open_shift(app)
        await burst(pilot, *"42", "c", "5", "escape")
        await on_screen(pilot, "SaleScreen")
        assert app.flow.draft.amount_text == "42"


async def test_a_pre_authorization_is_not_taken_in_cash(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await burst(pilot, *"500", "a", "c")
        assert type(app.screen).__name__ == "SaleScreen"
        assert "Cash has no pre-authorization" in widget_text(app, "#amount-note")


async def test_rounding_is_its_own_line(settings: Settings, clock: FixedClock, tmp_path) -> None:
    settings.cash.rounding["INR"] = 100
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        await login(pilot)
        await open_shift(app)
        await burst(pilot, *"99.6", "c")
        await on_screen(pilot, "CashScreen")
        assert digits(app, "#cash-due") == "₹100.00"
        assert "Bill ₹99.60 · rounding +₹0.40" in flat(app)
        await typ(pilot, "200")
        await press(pilot, "enter")
        await on_screen(pilot, "ResultScreen")
        receipt = " ".join(widget_text(app, "#receipt").split())
        for words in ("TOTAL ₹99.60", "Rounding +₹0.40", "Cash due ₹100.00", "Change ₹100.00"):
            assert words in receipt


def test_due_and_quick_amounts(settings: Settings) -> None:
    assert cash_due(9960, "INR", settings) == 9960
    settings.cash.rounding["INR"] = 100
    assert [cash_due(a, "INR", settings) for a in (9949, 9950, 9960, 10000)] == [
        9900,
        10000,
        10000,
        10000,
    ]
    assert quick_amounts(9960, "INR") == [10000, 20000, 50000, 100000]
    assert quick_amounts(4200, "INR") == [5000, 6000, 10000, 20000]
    assert quick_amounts(50000, "INR") == [60000, 100000, 150000, 200000]
    assert quick_amounts(1234, "USD") == [2000, 5000, 10000, 20000]


async def test_the_keypad_and_the_quick_keys_take_clicks_too(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        await open_shift(app)
        await burst(pilot, *"99.6", "c")
        await on_screen(pilot, "CashScreen")
        await pilot.click("#quick-2")  # ₹200
        assert digits(app, "#cash-change") == "₹100.40"
        await pilot.click("#key-clear")
        await pilot.click("#key-1")
        await pilot.click("#key-00")
        assert digits(app, "#cash-tendered") == "100"
        await pilot.click("#key-enter")
        await on_screen(pilot, "ResultScreen")
        assert app.gateway.get(app.flow.last_payment_id).cash.change == 40


async def test_a_cash_refund_needs_a_manager_and_comes_out_of_the_drawer(app) -> None:
    async with drive(app) as pilot:
        await login(pilot)
        shift = await app.gateway.shifts.open_shift(count={50000: 4}, cashier="asha")
        await burst(pilot, *"120", "c", "e", "enter")
        await on_screen(pilot, "ResultScreen")
        await press(pilot, "v")
        await on_screen(pilot, "ManagerApprovalScreen")
        assert "refunds ₹120.00 to the customer, from the drawer" in app.screen.describe()[1]
        await burst(pilot, *"meera", "enter", *"4321", "enter")
        await on_screen(pilot, "ResultScreen")
        payment = app.gateway.get(app.flow.last_payment_id)
        assert payment.amount_refunded == 12000
        report = app.gateway.shifts.shift_report(shift.id)
        assert (report.refunds_count, report.refunds, report.expected) == (1, 12000, 200000)
        assert "Refunded (meera)" in widget_text(app, "#receipt")
