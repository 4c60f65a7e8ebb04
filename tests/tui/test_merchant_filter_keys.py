"""Esc in the console's filters (the audit filters, the transaction search) clears the
filter, then leaves it for the table; it never leaves the console (which would ask for
the PIN again). Esc from the table still goes back to the terminal."""

from __future__ import annotations

from pathlib import Path

from app_support import build_app, drive, on_screen, press, typ, wait_for
from console_support import console, small_day, tab
from textual.widgets import DataTable, Input

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings


async def test_esc_in_a_filter_clears_it_then_leaves_it_never_the_console(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    await small_day(app, clock)
    async with drive(app) as pilot:
        await console(pilot)
        await tab(pilot, "audit")
        table = app.screen.query_one("#audit-table", DataTable)
        everything = table.row_count
        actor = app.screen.query_one("#audit-actor", Input)
        actor.focus()
        await typ(pilot, "meera")
        await press(pilot, "enter")
        await wait_for(pilot, lambda: 0 < table.row_count < everything)
        for field in ("#audit-action", "#audit-date"):
            app.screen.query_one(field, Input).focus()
            await press(pilot, "escape")  # an empty field: Esc goes to the table
            assert app.screen.focused is table and type(app.screen).__name__ == "MerchantScreen"
        actor.focus()
        await press(pilot, "escape")  # a filter typed: Esc clears it, the list is whole again
        assert actor.value == "" and app.screen.focused is actor
        await wait_for(pilot, lambda: table.row_count == everything)
        await press(pilot, "escape")
        assert app.screen.focused is table and type(app.screen).__name__ == "MerchantScreen"

        await tab(pilot, "transactions")
        payments = app.screen.query_one("#txn-table", DataTable)
        await press(pilot, "slash")
        await typ(pilot, "declined")
        await wait_for(pilot, lambda: payments.row_count == 1)
        await press(pilot, "escape")
        search = app.screen.query_one("#txn-search", Input)
        assert search.value == "" and app.screen.focused is search
        await wait_for(pilot, lambda: payments.row_count == 6)
        await press(pilot, "escape")
        assert app.screen.focused is payments and type(app.screen).__name__ == "MerchantScreen"
        await press(pilot, "escape")  # from the table: back to the terminal, as before
        await on_screen(pilot, "SaleScreen")
