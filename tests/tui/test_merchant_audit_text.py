"""The console's audit list shows what was recorded as plain text: a subject or actor
that looks like Textual markup ("[/]", "[b]") is shown as typed, never styled, hidden
or a crash of the console."""

from __future__ import annotations

from pathlib import Path

from app_support import build_app, drive, wait_for
from console_support import console, small_day, tab
from textual.widgets import DataTable

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings

ODD = "[/]x[b]y[/b]"


async def test_an_audit_subject_that_looks_like_markup_is_shown_as_typed(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    await small_day(app, clock)
    app.rt.audit.record("api", "api.auth_failed", ODD, reason="no bearer token")
    async with drive(app) as pilot:
        await console(pilot)
        await tab(pilot, "audit")
        table = app.screen.query_one("#audit-table", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0)
        shown = {str(cell) for n in range(table.row_count) for cell in table.get_row_at(n)}
        assert ODD in shown
        rendered = table.render_line(0)  # drawing the rows raises no markup error
        assert rendered is not None
        await pilot.pause()
        assert type(app.screen).__name__ == "MerchantScreen"
