"""`paygate charge --method cash`: the change (and the rounding line when set) and the
shift printed; refusals one line, exit 2; a cash refund moves the drawer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

FLOAT = "500x2,100x5"


@pytest.fixture
def data(tmp_path: Path, cli: Callable) -> Path:
    """A data dir with a shift open on the settings' terminal."""
    data = tmp_path / "data"
    assert cli("shift", "open", "--count", FLOAT, "--cashier", "asha", "--data-dir", data).code == 0
    return data


def test_cash_prints_the_change_and_the_shift(cli: Callable, data: Path) -> None:
    done = cli(
        "charge", "--method", "cash", "--amount", "99.60", "--tendered", "100", "--data-dir", data
    )
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines[0] == "APPROVED  ₹99.60  Cash"
    assert "tendered ₹100.00  change ₹0.40" in lines
    assert not any(line.startswith("rounding") for line in lines)
    shift = [line for line in lines if line.startswith("shift ")]
    assert len(shift) == 1 and shift[0].startswith("shift shf_")


def test_cash_rounding_is_its_own_line(cli: Callable, tmp_path: Path) -> None:
    config = tmp_path / "paygate.toml"
    config.write_text("[cash]\nrounding = { INR = 100 }\n", encoding="utf-8")
    data = tmp_path / "data"
    common = ("--config", config, "--data-dir", data)
    assert cli("shift", "open", "--count", "0", *common).code == 0
    done = cli(
        "charge", "--method", "cash", "--amount", "99.60", "--tendered", "500", "--json", *common
    )
    assert done.code == 0, done.err
    payment = json.loads(done.out)
    assert payment["cash"]["rounding"] == 40 and payment["cash"]["change"] == 40000
    text = cli("status", payment["id"], *common).out.splitlines()
    assert "tendered ₹500.00  change ₹400.00" in text
    assert "rounding +₹0.40  (due ₹100.00)" in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--tendered", "90"), "tendered ₹90.00 is less than the ₹99.60 due"),
        ((), "give what the customer handed over: --tendered AMOUNT"),
        (("--tendered", "1.234"), "INR amounts have at most 2 decimals"),
        (("--tendered", "100", "--card", "4242424242424242"), "a cash payment takes --amount"),
        (("--tendered", "100", "--capture", "manual"), "cash is paid at once"),
    ],
)
def test_bad_cash_is_one_line_exit_2(cli: Callable, data: Path, extra: tuple, message: str) -> None:
    done = cli("charge", "--method", "cash", "--amount", "99.60", *extra, "--data-dir", data)
    assert (done.code, done.out) == (2, "")
    assert done.err.startswith(f"paygate: {message}") and done.err.count("\n") == 1
    assert cli("list", "--data-dir", data).out.startswith("no payments")


def test_no_shift_no_cash(cli: Callable, tmp_path: Path) -> None:
    done = cli(
        "charge",
        "--method",
        "cash",
        "--amount",
        "10",
        "--tendered",
        "10",
        "--data-dir",
        tmp_path / "d",
    )
    assert (done.code, done.err) == (
        2,
        "paygate: no shift is open on TERM0001: open one first (paygate shift open)\n",
    )


def test_a_cash_refund_moves_the_drawer(cli: Callable, data: Path) -> None:
    paid = cli(
        "charge",
        "--method",
        "cash",
        "--amount",
        "300",
        "--tendered",
        "500",
        "--json",
        "--data-dir",
        data,
    )
    payment_id = json.loads(paid.out)["id"]
    approve = ("--approver", "meera", "--approver-pin", "4321")
    done = cli("refund", payment_id, "--amount", "100", *approve, "--data-dir", data)
    assert done.code == 0, done.err
    report = json.loads(cli("shift", "show", "--json", "--data-dir", data).out)
    assert (report["sales"], report["refunds"], report["shift"]["expected"]) == (
        300_00,
        100_00,
        1500_00 + 300_00 - 100_00,
    )
    rest = cli("refund", payment_id, *approve, "--data-dir", data)  # the ₹200.00 left
    assert rest.code == 0, rest.err
    again = cli(
        "charge",
        "--method",
        "cash",
        "--amount",
        "50",
        "--tendered",
        "50",
        "--json",
        "--data-dir",
        data,
    )
    shift_id = report["shift"]["id"]
    out = ("shift", "paid-out", shift_id, "--amount", "1520", "--reason", "to the bank")
    assert cli(*out, *approve, "--data-dir", data).code == 0
    refused = cli("refund", json.loads(again.out)["id"], *approve, "--data-dir", data)
    assert (refused.code, refused.err) == (
        2,
        f"paygate: the drawer of {shift_id} is expected to hold ₹30.00: "
        "less than the ₹50.00 refund\n",
    )
