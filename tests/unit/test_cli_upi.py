"""UPI on the command line, what needs no payment: `charge --method upi` refusing bad
input (one line, exit 2, nothing created), the UPI options on a card refused, --qr-png
never over a file, the payer app's input checks, test-cards' UPI IDs, next_action."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import gateway_settings, open_runtime

from gateway_core.upi_api import TEST_VPAS

UPI = ("charge", "--method", "upi")


def one_line(err: str) -> str:
    assert err.startswith("paygate: ") and err.count("\n") == 1, repr(err)
    return err.strip()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("--amount", "100000.01"), "₹1,00,000.00"),
        (("--amount", "250", "--currency", "USD"), "rupees only"),
        (("--amount", "250", "--flow", "collect", "--vpa", "not-a-vpa"), "is not a UPI ID"),
        (("--amount", "250", "--flow", "collect", "--vpa", "x" * 300 + "@bank"), "not a UPI ID"),
        (("--amount", "250", "--flow", "collect", "--vpa", "ab@bank"), "are off"),
        (("--amount", "250", "--flow", "collect"), "needs the payer's UPI ID"),
        (("--amount", "250", "--vpa", "success@payer"), "--flow collect"),
        (("--amount", "250", "--card", "4242424242424242"), "takes no card"),
        (("--amount", "250", "--capture", "manual"), "takes no card"),
        (("--amount", "250", "--note", "n" * 51), "at most 50"),
        (("--amount", "250", "--flow", "collect", "--vpa", "a@b", "--qr-png", "q.png"), "no QR"),
        (("--amount", "0"), "amount"),
    ],
)  # fmt: skip
def test_bad_upi_input_is_one_line_exit_2_and_creates_nothing(
    cli, tmp_path: Path, argv: tuple[str, ...], says: str
) -> None:
    data = tmp_path / "data"
    result = cli(*UPI, *argv, "--data-dir", data)
    assert result.code == 2 and result.out == ""
    assert says in one_line(result.err)
    assert not data.exists()


@pytest.mark.parametrize(
    "option", [("--flow", "qr"), ("--vpa", "success@payer"), ("--note", "hi"), ("--qr-png", "q")]
)
def test_upi_options_on_a_card_are_refused(cli, tmp_path: Path, option: tuple[str, str]) -> None:
    data = tmp_path / "data"
    card = ("--card", "4242424242424242", "--exp", "12/30", "--cvv", "123")
    result = cli("charge", "--amount", "10", *card, *option, "--data-dir", data)
    assert result.code == 2 and "--method upi" in one_line(result.err)
    assert not data.exists()


def test_a_card_needs_its_expiry(cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli(
        "charge", "--amount", "10", "--card", "4242424242424242", "--cvv", "1", "--data-dir", data
    )
    assert result.code == 2 and "--exp MM/YY" in one_line(result.err)
    assert not data.exists()


def test_the_qr_png_is_never_written_over_a_file(cli, tmp_path: Path) -> None:
    data, png = tmp_path / "data", tmp_path / "qr.png"
    png.write_bytes(b"someone's picture")
    result = cli(*UPI, "--amount", "250", "--qr-png", png, "--data-dir", data)
    assert result.code == 2 and "already exists" in one_line(result.err)
    assert png.read_bytes() == b"someone's picture" and not data.exists()
    inside = cli(*UPI, "--amount", "250", "--qr-png", data, "--data-dir", data)
    assert inside.code == 2 and not data.exists()


def test_the_payer_app_checks_its_input_before_anything(cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad_vpa = cli(
        "upi", "pay", "upi://pay?pa=x", "--vpa", "nobody", "--pin", "1", "--data-dir", data
    )
    assert bad_vpa.code == 2 and "not a UPI ID" in one_line(bad_vpa.err)
    remote = cli("upi", "inbox", "--vpa", "success@payer", "--gateway-url", "http://gw",
                 "--api-key", "pk_x")  # fmt: skip
    assert remote.code == 2 and "data dir only" in one_line(remote.err)
    assert not data.exists()


def test_a_missing_pin_is_read_from_stdin_and_an_empty_one_refused(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", open(tmp_path / "empty", "w+"))  # noqa: SIM115
    data = tmp_path / "data"
    result = cli("upi", "pay", "upi://pay?pa=x", "--vpa", "success@payer", "--data-dir", data)
    assert result.code == 2 and "the UPI PIN" in one_line(result.err)
    assert not data.exists()


def test_test_cards_lists_the_test_upi_ids_with_their_pin(cli) -> None:
    out = cli("test-cards").out
    for vpa, does in TEST_VPAS.items():
        line = next(line for line in out.splitlines() if line.startswith(vpa + " "))
        assert "1234" in line and does in line
    cards = json.loads(cli("test-cards", "--json").out)
    assert all("number" in card for card in cards)  # --json: the cards, as before


def test_help_shows_the_upi_commands(cli) -> None:
    charge = cli("charge", "--help").out
    for flag in ("--method", "--flow", "--vpa", "--note", "--qr-png"):
        assert flag in charge
    assert {"pay", "inbox", "decline", "payers"} <= set(cli("upi", "--help").out.split())
    assert "cancel" in cli("--help").out


def test_the_json_of_a_payment_carries_next_action(cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    card = ("--card", "4000000000003220", "--exp", "12/30", "--cvv", "123")
    challenged = json.loads(
        cli("charge", "--amount", "20000", *card, "--json", "--data-dir", data).out
    )
    assert challenged["status"] == "requires_action"
    assert challenged["next_action"]["type"] == "otp"
    sale = ("--card", "4242424242424242", "--exp", "12/30", "--cvv", "123")
    paid = json.loads(cli("charge", "--amount", "10", *sale, "--json", "--data-dir", data).out)
    assert paid["next_action"] is None
    shown = json.loads(cli("status", challenged["id"], "--json", "--data-dir", data).out)
    assert shown["next_action"] == challenged["next_action"]


def test_paying_while_a_process_runs_the_banks_says_how_to_pay_beside_it(
    cli, tmp_path: Path
) -> None:
    rt = open_runtime(gateway_settings(tmp_path, 8.0))
    try:
        assert rt.gateway is not None and rt.banks is not None  # the banks run here now
        result = cli("upi", "pay", "pay_20261206_0123456789", "--vpa", "success@payer",
                     "--pin", "1234", "--data-dir", tmp_path)  # fmt: skip
    finally:
        rt.close()
    assert result.code == 1
    assert "in use" in one_line(result.err) and "`paygate banks serve`" in result.err
    assert "--bank-url" in result.err and "1234" not in result.err
