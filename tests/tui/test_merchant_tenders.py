"""The console with every tender: the dashboard's line per tender (net banking per bank,
cash and its rounding), the Settlement tab's shift reports under the X report, the Z
refused while a shift is open, and reconcile naming a drawer's short."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from app_support import build_app, drive, flat, press, wait_for, widget_text
from console_support import console, small_day, tab
from settle_support import Repos, netbanking
from support import MANAGER
from textual.pilot import Pilot

from gateway_core.clock import FixedClock
from gateway_core.payments import CashInput, ChargeRequest
from gateway_core.settings import CashSettings, Settings
from pos_app.app import PaygateApp

FLOAT = {50000: 2}  # ₹1,000.00
NB_ID = "pay_20261128_00000nb001"


@pytest.fixture
async def shop(settings: Settings, clock: FixedClock, tmp_path: Path):
    """The small day (its pre-authorization voided), a cash sale of ₹99.60 rounded to
    ₹100.00 in an open shift, and a net banking payment at DEMOA."""
    rounded = settings.model_copy(update={"cash": CashSettings(rounding={"INR": 100})})
    app = build_app(rounded, clock, tmp_path / "config")
    payments = await small_day(app, clock)
    gw = app.rt.gateway
    await gw.void(payments["preauth"].id, operator="asha", approval=MANAGER)
    shift = await gw.shifts.open_shift(count=FLOAT, cashier="asha")
    sale = ChargeRequest(
        amount=99_60, currency="INR", method="cash", cash=CashInput(tendered=200_00)
    )
    assert (await gw.charge(sale)).status == "succeeded"
    return app, shift


@pytest.fixture
async def pilot(shop) -> AsyncIterator[Pilot]:
    app, _shift = shop
    async with drive(app) as pilot:
        await console(pilot)
        yield pilot


def note(app: PaygateApp) -> str:
    return widget_text(app, "#settle-note")


async def test_the_dashboard_has_a_line_per_tender(shop, clock: FixedClock) -> None:
    app, _shift = shop
    repos = Repos(app.rt, clock.now().date())
    template = next(r for r in repos.payments.each(repos.day) if r.get("card"))
    repos.save(netbanking(template, NB_ID, 500_00, "DEMOA"))
    async with drive(app) as pilot:
        await console(pilot)
        await wait_for(pilot, lambda: "By brand" in flat(app))
        shown = flat(app)
        for tender in ("Visa", "Net banking DEMOA", "Cash", "Cash rounding"):
            assert tender in shown, tender


async def test_the_settlement_tab_lists_the_days_shifts(pilot: Pilot, shop) -> None:
    app, shift = shop
    await tab(pilot, "settlement")
    await wait_for(pilot, lambda: "SHIFTS" in widget_text(app, "#report-text"))
    shown = widget_text(app, "#report-text")
    assert "Cash: ₹100.00 kept in the drawer (no payout)" in shown
    assert f"SHIFT {shift.id}  TERM0001  asha  open" in shown
    assert "expected ₹1,100.00 so far; open, not counted yet" in shown


async def test_the_z_names_the_open_shift_and_closes_it_uncounted(pilot: Pilot, shop) -> None:
    app, shift = shop
    await tab(pilot, "settlement")
    await press(pilot, "z")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
    question = " ".join(widget_text(app, ".dialog-text").split())
    assert f"Shifts still open ({shift.id} on TERM0001, asha) are closed by you" in question
    await press(pilot, "escape")  # no: nothing changes
    await wait_for(pilot, lambda: "stays open" in note(app))
    assert app.rt.gateway.shifts.shift_report(shift.id).shift.status == "open"
    await press(pilot, "z")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")
    await press(pilot, "enter")
    await wait_for(pilot, lambda: "closed: Z report" in note(app))
    assert app.office.settlement().closing(shift.day) is not None
    closed = app.rt.gateway.shifts.shift_report(shift.id).shift
    assert (closed.status, closed.counted, closed.approved_by) == ("closed", None, "meera")


async def test_reconcile_names_a_drawer_counted_short(pilot: Pilot, shop) -> None:
    app, shift = shop
    await app.rt.gateway.shifts.close_shift(
        shift.id, count={50000: 2, 1000: 9}, operator="asha"
    )  # ₹1,090.00 of ₹1,100.00
    await tab(pilot, "settlement")
    await press(pilot, "r")
    await wait_for(pilot, lambda: "break" in note(app) or "Reconciled" in note(app))
    assert note(app) == "1 reconciliation break(s): see below the report"
    recon = " ".join(str(app.screen.query_one("#recon-text").content).split())
    assert f"drawer short count {shift.id} Cash expected ₹1,100.00, counted ₹1,090.00" in recon
