"""The cash counter on a terminal whose gateway is `paygate serve` (`--gateway-url`): the
shift, a cash sale, a split bill and the drawer counted, every read and write over HTTP
(the terminal keeps no data of its own)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from app_support import SIZE, burst, login, on_screen, press, wait_for, widget_text
from server_support import Server, issue, start

from gateway_core.settings import load_settings
from paygate_cli.remote import RemoteRuntime
from paygate_cli.terminal import terminal_app


@pytest.fixture
def server(cli: Callable, paygate_cmd: list[str], tmp_path: Path) -> Iterator[tuple[Server, str]]:
    key = issue(cli, tmp_path / "data", "TERM0001")
    running = start(paygate_cmd, tmp_path / "data")
    try:
        yield running, key
    finally:
        running.stop()


async def test_a_shift_with_cash_and_a_split_bill_through_the_server(
    server: tuple[Server, str], tmp_path: Path
) -> None:
    running, key = server
    home = tmp_path / "lane"
    settings = load_settings(
        data_dir=home / "data", gateway_url=running.url, api_key=key, timezone="Asia/Kolkata"
    )
    rt = await RemoteRuntime.connect(settings)
    assert rt is not None
    app = terminal_app(rt, config_dir=home / "config", animate=False, result_delay=0)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await login(pilot)
            await burst(pilot, *"99.6", "c")
            await on_screen(pilot, "ShiftOpenScreen")
            await burst(pilot, "4", "ctrl+s")  # ₹2,000 float
            await on_screen(pilot, "CashScreen")
            await burst(pilot, *"500", "enter")
            await on_screen(pilot, "ResultScreen")
            assert "Change ₹400.40" in " ".join(widget_text(app, "#receipt").split())
            await press(pilot, "enter")
            await burst(pilot, *"100", "s")
            await on_screen(pilot, "SplitScreen")
            await burst(pilot, *"40", "c", "e", "enter")
            await on_screen(pilot, "ResultScreen")
            await press(pilot, "enter")
            await on_screen(pilot, "SplitScreen")
            await burst(pilot, "c", "e", "enter")
            await on_screen(pilot, "ResultScreen")
            await press(pilot, "enter")
            await wait_for(pilot, lambda: getattr(app.screen, "bill", None) is not None)
            await wait_for(pilot, lambda: app.screen.bill.status == "paid")
            await press(pilot, "enter")
            await on_screen(pilot, "SaleScreen")
            await press(pilot, "o")
            await on_screen(pilot, "ShiftCloseScreen")
            assert app.screen.expected == 219960
            await burst(pilot, "4", "enter", "1", "ctrl+s")  # ₹2,200.00: 40 paise over
            await on_screen(pilot, "ShiftReportScreen")
            report = app.screen.report
            assert (report.shift.over_short, report.sales_count) == (40, 3)
        assert not (home / "data").exists()  # a client terminal keeps no data
    finally:
        await app.rt.aclose()
