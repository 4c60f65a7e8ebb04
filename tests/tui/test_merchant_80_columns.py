"""The console at 80 columns: the X report is never cut (a table too wide for the tab
comes as two), the transactions show whole payment ids, and the audit list, filtered or
not, dates every event (the day's row above its events) with whole ids beside them."""

from __future__ import annotations

from pathlib import Path

from app_support import build_app, drive, press, typ, wait_for, widget_text
from console_support import console, small_day, tab
from textual.widgets import DataTable, Input

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings


async def test_the_console_at_80_columns_cuts_no_report_line_and_dates_the_audit(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    first = await small_day(app, clock)  # Sat 28 Nov
    clock.advance(days=1)
    second = await small_day(app, clock)  # Sun 29 Nov, ids count on from 7
    async with drive(app) as pilot:  # 80x24
        await console(pilot)
        await tab(pilot, "settlement")
        await wait_for(pilot, lambda: "X REPORT" in widget_text(app, "#report-text"))
        report = app.screen.query_one("#settle-report")
        lines = widget_text(app, "#report-text").splitlines()
        assert max(map(len, lines)) <= report.scrollable_content_region.width
        assert any(line.startswith("BRAND") and "PAYOUT INR" in line for line in lines)

        await tab(pilot, "transactions")
        txns = app.screen.query_one("#txn-table", DataTable)
        columns = list(txns.columns.values())
        upto = [str(c.label) for c in columns].index("Payment id") + 1
        assert sum(c.get_render_width(txns) for c in columns[:upto]) <= (
            txns.scrollable_content_region.width
        )
        assert str(txns.get_row_at(0)[upto - 1]) == second["otp"].id  # the newest

        await tab(pilot, "audit")
        table = app.screen.query_one("#audit-table", DataTable)
        app.screen.query_one("#audit-actor", Input).focus()
        await typ(pilot, "meera")
        await press(pilot, "enter")
        await wait_for(
            pilot,
            lambda: (
                table.row_count > 0
                and all(
                    str(table.get_row_at(n)[2]) in ("meera", "") for n in range(table.row_count)
                )
            ),
        )
        day, dated = None, []
        for n in range(table.row_count):
            seq, time, _actor, action, subject = map(str, table.get_row_at(n))
            if not seq:  # the day's row: its date in the Time column
                day = (time, action)
                continue
            dated.append((day, subject))
        assert dated[0][0] == ("29 Nov", "── Sunday 2026-11-29")
        assert dated[-1][0] == ("28 Nov", "── Saturday 2026-11-28")
        assert (dated[0][0], second["voided"].id) in dated
        assert (dated[-1][0], first["voided"].id) in dated
        assert table.virtual_size.width <= table.scrollable_content_region.width  # nothing cut
