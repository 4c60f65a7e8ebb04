"""The shift commands and cash through `paygate serve` (`--gateway-url`): a whole shift
from open to close, the X report's open shifts, and nothing local created."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from server_support import Server
from test_remote_commands import MANAGER, created, home, ok, served  # noqa: F401  # fixtures


def test_a_shift_through_the_service(
    served: tuple[Server, str],  # noqa: F811
    home: Path,  # noqa: F811
    cli: Callable,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, key = served
    monkeypatch.setenv("PAYGATE_GATEWAY_URL", server.url)
    monkeypatch.setenv("PAYGATE_API_KEY", key)
    shift = ok(cli("shift", "open", "--count", "500x2", "--cashier", "asha", "--json"))
    paid = ok(cli("charge", "--method", "cash", "--amount", "99.60", "--tendered", "100", "--json"))
    assert (paid["cash"]["change"], paid["cash"]["shift_id"]) == (40, shift["id"])
    moved = ok(
        cli(
            "shift",
            "paid-in",
            shift["id"],
            "--amount",
            "10",
            "--reason",
            "coins",
            *MANAGER,
            "--json",
        )
    )
    assert moved["approver"] == "meera"
    x = cli("report", "x")
    assert x.code == 0 and f"  {shift['id']}  TERM0001  asha" in x.out
    shown = cli("shift", "show")
    assert shown.code == 0 and shown.out.startswith(f"SHIFT {shift['id']}  OPEN")
    closed = ok(cli("shift", "close", shift["id"], "--count", "500x2,100x1,2x5", "--json"))
    assert closed["shift"]["over_short"] == 100_000 + 100_00 + 10_00 - (100_000 + 99_60 + 10_00)
    listed = json.loads(cli("shift", "list", "--json").out)
    assert [s["status"] for s in listed] == ["closed"]
    assert created(home) == []
