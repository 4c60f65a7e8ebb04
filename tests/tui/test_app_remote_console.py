"""A terminal whose gateway is a server (`--gateway-url`) has no merchant console: F4
and the palette say so in one line, where the console runs instead."""

from __future__ import annotations

from pathlib import Path

from app_support import build_app, drive, login, press, settle

from gateway_core.clock import FixedClock
from gateway_core.settings import Settings


async def test_f4_on_a_terminal_of_a_server_says_where_the_console_runs(
    settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    async with drive(app) as pilot:
        await login(pilot)
        app.remote = True  # as with --gateway-url (signed in already)
        await press(pilot, "f4")
        await settle(pilot)
        assert type(app.screen).__name__ == "SaleScreen"
        said = [n.message for n in app._notifications]
        assert len(said) == 1 and "\n" not in said[0], said
        assert "merchant console" in said[0] and "paygate serve" in said[0]
        names = [name for name, _help, _run in app.palette_commands()]
        assert "Merchant console" not in names
