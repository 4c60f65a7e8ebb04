"""The merchant console (F4) driven like a manager would: open it with a PIN, walk the
tabs, capture, void and refund with a manager's approval, close the day, export,
verify the audit chain, and a day of 100,000 payments."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from app_support import (
    assert_no_pan,
    build_app,
    drive,
    flat,
    login,
    on_screen,
    press,
    settle,
    typ,
    wait_for,
    widget_text,
)
from console_support import (
    DECLINE_51,
    VISA,
    act,
    approve,
    console,
    large_day,
    open_console,
    open_payment,
    rendered,
    search,
    small_day,
    stored,
    tab,
)
from support import charge, load_snapshot, open_runtime, pay_upi, save_snapshot
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from gateway_core.clock import FixedClock
from gateway_core.payments import ChargeRequest
from gateway_core.settings import Settings
from paygate_cli.terminal import terminal_app
from pos_app import back_office
from pos_app.app import PaygateApp


@pytest.fixture
async def shop(settings: Settings, clock: FixedClock, tmp_path: Path):
    """The app on a morning of payments (not yet running) and those payments by name."""
    app = build_app(settings, clock, tmp_path / "config")
    payments = await small_day(app, clock)
    return app, payments


@pytest.fixture
async def pilot(shop) -> AsyncIterator[Pilot]:
    app, _payments = shop
    async with drive(app) as pilot:
        await console(pilot)
        yield pilot


# ---------------------------------------------------------------------------- opening
async def test_a_cashier_is_refused_with_one_line(shop) -> None:
    app, _ = shop
    async with drive(app) as pilot:
        await login(pilot)
        await open_console(pilot, "asha", "1111")
        await wait_for(pilot, lambda: "manager" in widget_text(app, "#manager-error"))
        assert widget_text(app, "#manager-error") == (
            "Asha (cashier) is a cashier: a manager must approve"
        )
        assert type(app.screen).__name__ == "ConsoleApproval"
        await press(pilot, "escape")
        await on_screen(pilot, "SaleScreen")


async def test_the_console_opens_before_the_gateway_was_ever_used(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    """The console reads the day in a thread: the gateway it needs is built on the app's
    own thread first, never inside that reader (where it would never finish)."""
    app = terminal_app(
        open_runtime(settings, clock=clock), config_dir=tmp_path, animate=False, startup=False
    )
    assert app.rt._gateway is None
    async with drive(app) as pilot:
        await console(pilot)
        assert widget_text(app, "#fig-count") == "Sales\n0"


async def test_the_console_reads_the_day_once_when_it_opens(
    shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shown first is resumed too: the day (100k payments on a busy day) is loaded once,
    from its running totals and a page of payments: the whole day is never read."""
    app, _ = shop
    reads: list[date] = []
    whole: list[date] = []
    real, real_day = back_office.BackOffice.day_data, back_office.read_day
    monkeypatch.setattr(
        back_office.BackOffice, "day_data", lambda o, d: reads.append(d) or real(o, d)
    )
    monkeypatch.setattr(back_office, "read_day", lambda *a: whole.append(a[2]) or real_day(*a))
    async with drive(app) as pilot:
        await console(pilot)
        await settle(pilot)
        assert len(reads) == 1
        await press(pilot, "f5")  # a refresh reads it again
        await wait_for(pilot, lambda: len(reads) == 2)
        assert whole == []


async def test_a_wrong_pin_stays_in_the_dialog(shop) -> None:
    app, _ = shop
    async with drive(app) as pilot:
        await login(pilot)
        await open_console(pilot, "meera", "0000")
        await wait_for(pilot, lambda: "tries left" in widget_text(app, "#manager-error"))
        assert type(app.screen).__name__ == "ConsoleApproval"


async def test_the_dashboard_adds_up_the_day(pilot: Pilot) -> None:
    text = flat(pilot.app)
    # captured: 1,250 (tip included) + 800 (refunded in part) + 6,000 (OTP); the void is
    # not a sale; the pre-authorization is not captured yet
    names = ("gross", "net", "count", "rate", "average")
    figures = [widget_text(pilot.app, f"#fig-{n}") for n in names]
    assert figures == [
        "Gross sales\n₹8,050.00",
        "Net sales\n₹7,750.00",  # the ₹300 refund taken off
        "Sales\n3",
        "Approval rate\n83.3%",  # 5 approved of 6 decided
        "Average sale\n₹2,683.33",
    ]
    assert widget_text(pilot.app, "#attempts") == (
        "payments 6: approved 5, declined 1, failed OTP 0, open 1"
    )
    assert "Sales by hour · busiest 11:00-12:00 (₹6,000.00)" in text
    assert "Visa 2 ₹7,250.00" in text and "Mastercard 1 ₹800.00" in text
    assert "51 1 Insufficient funds" in text


async def test_f4_is_in_help_the_palette_and_keys_toml(settings, clock, tmp_path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "keys.toml").write_text('"app.merchant" = "f9"\n', encoding="utf-8")
    app = build_app(settings, clock, config)
    async with drive(app) as pilot:
        await login(pilot)
        names = [name for name, _help, _call in app.palette_commands()]
        assert "Merchant console" in names
        await press(pilot, "f9")
        await on_screen(pilot, "ConsoleApproval")
        await press(pilot, "escape")
        await on_screen(pilot, "SaleScreen")
        await press(pilot, "f1")
        await on_screen(pilot, "HelpScreen")
        help_text = flat(app)
        assert "f9 The merchant console" in help_text and "app.merchant" in help_text


# ---------------------------------------------------------------------------- transactions


def ids(table: DataTable) -> list[str]:
    return [str(table.get_row_at(n)[3]) for n in range(table.row_count)]


async def test_search_and_sort_the_day(pilot: Pilot, shop) -> None:
    p = shop[1]
    table = await search(pilot, "4444", 2)  # last-4: both Mastercard payments
    assert set(ids(table)) == {p["preauth"].id, p["refunded"].id}
    table = await search(pilot, "6000", 1)  # an amount
    assert ids(table) == [p["otp"].id]
    table = await search(pilot, "declined", 1)  # a status
    assert ids(table) == [p["declined"].id]
    table = await search(pilot, "visa approved", 2)  # every word must match
    assert set(ids(table)) == {p["sale"].id, p["otp"].id}
    table = await search(pilot, p["voided"].id[-3:], 1)  # a part of the id
    assert ids(table) == [p["voided"].id]
    table = await search(pilot, "", 6)
    assert ids(table)[0] == p["otp"].id  # newest first
    await press(pilot, "s")  # by amount, largest first
    await wait_for(pilot, lambda: "sorted by amount ↓" in flat(pilot.app))
    assert ids(table)[0] == p["otp"].id
    await press(pilot, "o")  # smallest first
    await wait_for(pilot, lambda: ids(table)[0] == p["voided"].id)
    assert "6 of 6 shown · sorted by amount ↑" in flat(pilot.app)


async def test_the_detail_has_the_whole_timeline(shop) -> None:
    app, p = shop
    async with drive(app) as pilot:
        await pilot.resize_terminal(160, 48)
        await console(pilot)
        await open_payment(pilot, p["otp"])
        await wait_for(pilot, lambda: app.screen.frames)
        text = " ".join(rendered(line) for line in app.screen.query(".detail"))
        for event in ("payment.created", "payment.requires_action", "otp.authenticated"):
            assert event in text
        assert "Visa 4000 00•• •••• 3220" in text
        assert "Risk: score 20/100, verdict otp" in text
        assert "step_up_threshold 20 amount above the ₹5,000.00 OTP threshold" in text
        assert "0200 financial request (sale or refund)" in text  # a sale: one 0200
        assert "0210 financial response" in text
        assert_no_pan(text, "4000 0000 0000 3220")
        assert_no_pan(flat(app), "4000 0000 0000 3220")


# ---------------------------------------------------------------------------- actions


async def test_partial_capture_then_capture_twice_is_refused(pilot: Pilot, shop) -> None:
    app, p = shop
    await open_payment(pilot, p["preauth"])
    assert await act(pilot, "c", "2000") == "Captured ₹2,000.00 (approved by meera)"
    await wait_for(pilot, lambda: "APPROVED" in flat(app))
    assert stored(app, p["preauth"]).amount_captured == 2_000_00
    note = await act(pilot, "c", "100")
    assert note == (
        f"Payment {p['preauth'].id} cannot be captured (it is approved); nothing was changed"
    )
    assert stored(app, p["preauth"]).amount_captured == 2_000_00


async def test_void_an_authorization(pilot: Pilot, shop) -> None:
    app, p = shop
    await open_payment(pilot, p["preauth"])
    assert await act(pilot, "v") == "Voided ₹2,400.00 (approved by meera)"
    assert stored(app, p["preauth"]).status == "canceled"


async def test_refund_in_part_and_never_above_the_capture(pilot: Pilot, shop) -> None:
    app, p = shop
    await open_payment(pilot, p["refunded"])  # ₹800 captured, ₹300 refunded
    note = await act(pilot, "f", "600")
    assert note == "Refund at most ₹500.00 (what is left of the capture); nothing was changed"
    assert stored(app, p["refunded"]).amount_refunded == 300_00
    assert await act(pilot, "f", "200.50") == "Refunded ₹200.50 (approved by meera)"
    assert stored(app, p["refunded"]).amount_refunded == 500_50
    await wait_for(pilot, lambda: "Refunded ₹500.50" in flat(app))


async def test_a_wrong_manager_pin_changes_nothing(pilot: Pilot, shop) -> None:
    app, p = shop
    await open_payment(pilot, p["sale"])
    await press(pilot, "f")
    await on_screen(pilot, "AmountScreen")
    await press(pilot, "enter")  # the whole amount
    await approve(pilot, pin="0000")
    await wait_for(pilot, lambda: "tries left" in widget_text(app, "#manager-error"))
    assert type(app.screen).__name__ == "ActionApproval"
    await press(pilot, "escape")
    await on_screen(pilot, "PaymentScreen")
    assert stored(app, p["sale"]).amount_refunded == 0


async def test_an_amount_is_checked_before_the_pin(pilot: Pilot, shop) -> None:
    app, p = shop
    await open_payment(pilot, p["sale"])
    await press(pilot, "f")
    await on_screen(pilot, "AmountScreen")
    field = app.screen.query_one("#amount-field", Input)
    assert field.value == "1250.00"  # all of it
    field.value = ""
    await typ(pilot, "1.234")
    await press(pilot, "enter")
    assert widget_text(app, "#amount-error") == "INR amounts have at most 2 decimals"
    await press(pilot, "escape")
    await on_screen(pilot, "PaymentScreen")


# ---------------------------------------------------------------------------- settlement
def settle_note(app: PaygateApp) -> str:
    return widget_text(app, "#settle-note")


async def test_close_the_day(pilot: Pilot, shop) -> None:
    app, p = shop
    await tab(pilot, "settlement")
    await wait_for(pilot, lambda: "X REPORT" in flat(app))
    assert "payout ₹7,661.55 on Mon 30 Nov" in flat(app)
    await press(pilot, "z")
    await wait_for(pilot, lambda: "still open" in settle_note(app))
    assert settle_note(app).startswith("1 payment(s) of 2026-11-28 are still open")
    await open_payment(pilot, p["preauth"])
    await act(pilot, "v")
    await press(pilot, "escape")
    await on_screen(pilot, "MerchantScreen")
    await tab(pilot, "settlement")
    await press(pilot, "z")
    await on_screen(pilot, "ConfirmScreen")
    assert "Close business day Sat 2026-11-28 with Z report 1?" in flat(app)
    await press(pilot, "enter")
    await wait_for(pilot, lambda: "closed" in settle_note(app))
    assert settle_note(app) == "Business day 2026-11-28 closed: Z report 1"
    await wait_for(pilot, lambda: "Z REPORT 1" in flat(app) and "(closed: Z report 1)" in flat(app))
    assert app.office.settlement().closing(date(2026, 11, 28)).closed_by == "meera"
    await open_payment(pilot, p["sale"])
    note = await act(pilot, "f", "100")
    assert note.startswith("Business day 2026-11-28 is closed (Z report 1)")
    assert note.endswith("; nothing was changed")
    assert stored(app, p["sale"]).amount_refunded == 0


async def test_reconcile_and_export(pilot: Pilot, shop) -> None:
    app, _ = shop
    await tab(pilot, "settlement")
    await press(pilot, "r")
    await wait_for(pilot, lambda: settle_note(app).startswith("Reconciled"))
    assert settle_note(app) == "Reconciled: no breaks"
    await press(pilot, "e")
    await wait_for(pilot, lambda: settle_note(app).startswith("Exported"))
    path = app.settings.data_dir / "exports" / "paygate-2026-11-28.csv"
    assert settle_note(app) == f"Exported 7 rows to {path}"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("time,type,payment_id") and len(lines) == 8
    assert_no_pan(path.read_text(encoding="utf-8"), "4242 4242 4242 4242")


async def test_reconcile_takes_upi_against_the_switchs_file(pilot: Pilot, shop) -> None:
    app, _ = shop
    sale = ChargeRequest(amount=120_00, currency="INR", method="upi", operator="asha")
    assert (await pay_upi(app.rt, sale)).status == "succeeded"
    await tab(pilot, "settlement")
    await press(pilot, "r")
    await wait_for(pilot, lambda: settle_note(app).startswith("Reconciled"))
    assert settle_note(app) == "Reconciled: no breaks"
    recon = str(app.screen.query_one("#recon-text").content)
    assert "the UPI switch's settlement file" in recon


async def test_reconciliation_breaks_are_highlighted(pilot: Pilot, shop) -> None:
    app, p = shop
    clearing = app.rt.banks.store.day(date(2026, 11, 28)).table("clearing")
    row = next(doc for doc in clearing if doc["ref"] == p["sale"].id)
    clearing.update({"amount": 999_00}, doc_ids=[row.doc_id])
    await tab(pilot, "settlement")
    await press(pilot, "r")
    await wait_for(pilot, lambda: "break" in settle_note(app))
    assert settle_note(app) == "1 reconciliation break(s): see below the report"
    recon = app.screen.query_one("#recon-text")
    assert recon.has_class("-breaks")
    assert "gateway ₹1,250.00, acquirer ₹999.00 (difference ₹251.00)" in str(recon.content)


# ---------------------------------------------------------------------------- audit, risk
async def test_audit_filters(pilot: Pilot) -> None:
    app = pilot.app
    await tab(pilot, "audit")
    table = app.screen.query_one("#audit-table", DataTable)
    everything = table.row_count
    await press(pilot, "tab")  # from the table round to the filters: actor first
    app.screen.query_one("#audit-actor", Input).focus()
    await typ(pilot, "meera")
    await press(pilot, "enter")
    await wait_for(pilot, lambda: table.row_count < everything)
    rows = [table.get_row_at(n) for n in range(table.row_count)]
    assert {str(row[2]) for row in rows if str(row[0])} == {"meera"}  # under the day's row
    app.screen.query_one("#audit-action", Input).focus()
    await typ(pilot, "approval")
    app.screen.query_one("#audit-date", Input).focus()
    await typ(pilot, "2026-11-27")
    await press(pilot, "enter")
    await wait_for(pilot, lambda: table.row_count == 0)
    app.screen.query_one("#audit-date", Input).value = "2026-11-28"
    await press(pilot, "enter")
    # the day's row, then the refund, the void, the console
    await wait_for(pilot, lambda: table.row_count == 4)
    app.screen.query_one("#audit-date", Input).value = "28-11"
    await press(pilot, "enter")
    await wait_for(pilot, lambda: "YYYY-MM-DD" in widget_text(app, "#audit-verdict"))


async def test_audit_chain_verified(pilot: Pilot) -> None:
    app = pilot.app
    await tab(pilot, "audit")
    await press(pilot, "v")
    await wait_for(pilot, lambda: "intact" in widget_text(app, "#audit-verdict"))
    assert widget_text(app, "#audit-verdict").startswith("Audit log intact: ")


async def test_a_tampered_audit_log_is_shown_at_its_first_broken_event(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    first = build_app(settings, clock, tmp_path / "config")
    await small_day(first, clock)
    await first.rt.aclose()  # compacted: the events are in the day's snapshot
    path = settings.data_dir / "db" / "days" / "2026-11-28.snapshot.json"
    snap = load_snapshot(path)
    events = snap["tables"]["audit"]
    key = next(k for k, e in events.items() if e["seq"] == 12)
    events[key]["actor"] = "mallory"
    save_snapshot(path, snap)

    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        await console(pilot)
        await tab(pilot, "audit")
        await press(pilot, "v")
        await wait_for(pilot, lambda: "broken" in widget_text(app, "#audit-verdict"))
        verdict = app.screen.query_one("#audit-verdict")
        assert widget_text(app, "#audit-verdict") == (
            "Audit log broken at seq 12: event stored as seq 12 fails its MAC (edited or inserted)"
        )
        assert verdict.has_class("-error")
        table = app.screen.query_one("#audit-table", DataTable)
        await wait_for(pilot, lambda: str(table.get_row_at(table.cursor_row)[0]) == "⚠ 12")
        assert str(table.get_row_at(table.cursor_row)[2]) == "mallory"


async def test_risk_shows_the_rules_that_fired(pilot: Pilot) -> None:
    await tab(pilot, "risk")
    await wait_for(pilot, lambda: "nothing is blocked now" in flat(pilot.app))
    text = flat(pilot.app)
    assert "step_up_threshold 1" in text


async def test_risk_shows_active_blocks(shop) -> None:
    app, _ = shop
    for _ in range(3):  # three declines of one card block it for the rest of the day
        await app.rt.gateway.charge(charge(DECLINE_51, 100_00, terminal_id="TERM0002"))
    async with drive(app) as pilot:
        await console(pilot)
        await tab(pilot, "risk")
        await wait_for(pilot, lambda: "repeated_declines" in flat(app))  # drawn
        text = flat(app)
        assert "card" in text
        assert "nothing is blocked now" not in text


# ---------------------------------------------------------------------------- scale
async def test_a_day_of_100k_payments_opens_a_page_at_a_time(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    first = build_app(settings, clock, tmp_path / "config")
    template = await first.rt.gateway.charge(charge(VISA, 500_00))
    await first.rt.aclose()
    large_day(settings, template, 100_000)
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        await console(pilot)
        assert widget_text(app, "#fig-count") == "Sales\n80,001"
        assert widget_text(app, "#attempts").startswith("payments 100,001: approved 90,001,")
        await tab(pilot, "transactions")
        table = app.screen.query_one("#txn-table", DataTable)
        assert table.row_count == 200
        assert "200 of 100,001 shown" in widget_text(app, "#txn-count")
        await press(pilot, "ctrl+end")  # the last row loaded asks for the next page
        await wait_for(pilot, lambda: table.row_count == 400)
        assert "400 of 100,001 shown" in widget_text(app, "#txn-count")
        matching = len(app.screen.office.ledger(app.screen.day).select("0042"))  # last-4, id
        assert 200 > matching > 10
        await search(pilot, "0042", matching)
        assert f"{matching} of {matching} shown (matching, of 100,001)" in flat(app)
