"""With a gateway URL (`--gateway-url`/`--api-key` or PAYGATE_GATEWAY_URL/PAYGATE_API_KEY)
every command that can go through `paygate serve` does, and nothing local is created:
HOME is an empty temp dir and must stay empty. A command that needs a data dir says so
(exit 2, one line)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from server_support import Server, issue, start
from support import OTP_RE

CARD = ("--card", "4242424242424242", "--exp", "12/30", "--cvv", "123")
OTP_CARD = ("--card", "4000000000003220", "--exp", "12/30", "--cvv", "123")
MANAGER = ("--approver", "meera", "--approver-pin", "4321")


@pytest.fixture
def served(cli: Callable, paygate_cmd: list[str], tmp_path: Path) -> Iterator[tuple[Server, str]]:
    """A `paygate serve` on its own data dir, and a terminal key for it."""
    data_dir = tmp_path / "data"
    key = issue(cli, data_dir, "TERM0001")
    server = start(paygate_cmd, data_dir)
    try:
        yield server, key
    finally:
        server.stop()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME where the platform's data and config dirs would be made."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    return home


def created(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*"))


def ok(result) -> dict:
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_payment_commands_with_a_gateway_in_the_environment_go_through_it_and_create_nothing(
    served: tuple[Server, str], home: Path, cli: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, key = served
    monkeypatch.setenv("PAYGATE_GATEWAY_URL", server.url)
    monkeypatch.setenv("PAYGATE_API_KEY", key)

    sale = ok(cli("charge", "--amount", "100.00", *CARD, "--json"))
    assert sale["status"] == "succeeded" and sale["terminal_id"] == "TERM0001"
    on_server = httpx.get(
        f"{server.url}/v1/payments/{sale['id']}", headers={"Authorization": f"Bearer {key}"}
    )
    assert on_server.status_code == 200 and on_server.json()["status"] == "succeeded"
    assert ok(cli("status", sale["id"], "--json"))["id"] == sale["id"]
    assert sale["id"] in {p["id"] for p in ok(cli("list", "--json"))}
    refunded = ok(cli("refund", sale["id"], "--amount", "10.00", *MANAGER, "--json"))
    assert refunded["amount_refunded"] == 10_00

    held = ok(cli("charge", "--amount", "50.00", *CARD, "--capture", "manual", "--json"))
    assert ok(cli("capture", held["id"], "--amount", "20.00", "--json"))["amount_captured"] == 20_00
    released = ok(cli("charge", "--amount", "30.00", *CARD, "--capture", "manual", "--json"))
    assert ok(cli("void", released["id"], *MANAGER, "--json"))["status"] == "canceled"

    challenged = ok(cli("charge", "--amount", "100.00", *OTP_CARD, "--json"))
    assert challenged["status"] == "requires_action"
    assert cli("resend", challenged["id"]).code in (0, 2)  # 2: the bank's cooldown
    outbox = cli("outbox")
    assert outbox.code == 0, outbox.err
    code = OTP_RE.search(outbox.out.splitlines()[0]).group()
    assert ok(cli("confirm", challenged["id"], "--otp", code, "--json"))["status"] == "succeeded"

    assert cli("repair").code == 0
    newest = [p["id"] for p in ok(cli("list", "--json"))]  # paged by the server, newest first
    first = ok(cli("list", "--limit", "2", "--json"))
    rest = ok(cli("list", "--limit", "9", "--after", first[-1]["id"], "--json"))
    assert [p["id"] for p in first + rest] == newest and len(newest) == 4
    assert cli("list", "--after", "pay_20000101_0000000000").code == 2
    x = ok(cli("report", "x", "--json"))
    assert x["merchant_id"] == "PAYGATEDEMO0001"
    assert cli("test-cards").code == 0
    assert cli("terminals", "list").code == 0
    assert created(home) == []


def test_charge_with_gateway_options_goes_through_the_service_and_creates_nothing(
    served: tuple[Server, str], home: Path, cli: Callable
) -> None:
    server, key = served
    remote = ("--gateway-url", server.url, "--api-key", key)
    sale = ok(cli("charge", "--amount", "12.50", *CARD, *remote, "--json"))
    assert sale["amount"] == 12_50
    assert ok(cli("status", sale["id"], *remote, "--json"))["status"] == "succeeded"
    assert created(home) == []


@pytest.mark.parametrize(
    "argv",
    [
        ("ledger", "check"),
        ("banks", "serve"),
        ("serve",),
        ("users", "list"),
        ("risk", "rules"),
        ("report", "z", "--approver", "meera"),
        ("settle",),
        ("reconcile",),
        ("export",),
        ("demo", "seed"),
    ],
)
def test_a_command_that_needs_a_data_dir_refuses_a_gateway_url_and_creates_nothing(
    argv: tuple[str, ...], home: Path, cli: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAYGATE_GATEWAY_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PAYGATE_API_KEY", "pk_000000000000_x")
    result = cli(*argv)
    assert result.code == 2
    assert result.err.count("\n") == 1 and "works on a data dir only" in result.err
    assert f"`paygate {' '.join(argv[:1])}" in result.err
    assert created(home) == []
