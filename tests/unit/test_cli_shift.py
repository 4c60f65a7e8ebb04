"""`paygate shift ...`: the denomination count parser (fuzzed), open / paid in / paid out
/ close / show / list, the short that needs a manager, and X / Z with open shifts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway_core.errors import InputError
from gateway_core.shift_models import DENOMINATIONS
from paygate_cli.shift_text import format_count, parse_count

APPROVE = ("--approver", "meera", "--approver-pin", "4321")


# -- the count ----------------------------------------------------------------------------
def test_a_count_in_major_units() -> None:
    assert parse_count("500x2, 100x5,1x3", "INR") == {50000: 2, 10000: 5, 100: 3}
    assert parse_count("0", "INR") == parse_count(" ", "INR") == {}
    assert parse_count("0.25x4,1X1", "USD") == {100: 1, 25: 4}
    assert format_count({50000: 2, 100: 3}, "INR") == "500x2,1x3"
    assert format_count({25: 4}, "USD") == "0.25x4"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("500", "a count is NOTExPIECES, comma separated (500x2,100x5), not '500'"),
        ("500x", "a count is NOTExPIECES"),
        ("500x-1", "a count is NOTExPIECES"),
        ("abcx2", "'abc' is not an amount (in INR)"),
        ("3x1", "₹3.00 is not a INR note or coin"),
        ("500x1,500x2", "500 is counted twice"),
        ("500x100001", "a count is 0 to 100000 pieces"),
        ("1x1," * 200, "a count has at most 400 characters"),
    ],
)
def test_a_bad_count_is_one_line(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_count(text, "INR")
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.sampled_from(sorted(DENOMINATIONS)))
def test_any_text_is_a_count_or_one_line(text: str, currency: str) -> None:
    try:
        count = parse_count(text, currency)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert set(count) <= set(DENOMINATIONS[currency])
    assert all(pieces > 0 for pieces in count.values())


@settings(max_examples=200, deadline=None)
@given(st.data(), st.sampled_from(sorted(DENOMINATIONS)))
def test_a_count_reads_back_as_written(data: st.DataObject, currency: str) -> None:
    values = data.draw(st.sets(st.sampled_from(DENOMINATIONS[currency])))
    count = {v: data.draw(st.integers(1, 100_000)) for v in sorted(values, reverse=True)}
    assert parse_count(format_count(count, currency), currency) == count


# -- the commands ---------------------------------------------------------------------------
@pytest.fixture
def shift(cli: Callable, tmp_path: Path) -> tuple[Path, str]:
    data = tmp_path / "data"
    opened = cli(
        "shift", "open", "--count", "500x2,100x5", "--cashier", "asha", "--json", "--data-dir", data
    )
    assert opened.code == 0, opened.err
    return data, json.loads(opened.out)["id"]


def test_open_twice_is_refused(cli: Callable, shift: tuple[Path, str]) -> None:
    data, shift_id = shift
    again = cli("shift", "open", "--count", "0", "--data-dir", data)
    assert (again.code, again.err) == (
        2,
        f"paygate: shift {shift_id} is already open on TERM0001: close it first\n",
    )
    bad = cli("shift", "open", "--count", "7x1", "--data-dir", data)
    assert (bad.code, bad.err) == (2, "paygate: ₹7.00 is not a INR note or coin\n")


def test_paid_in_out_and_a_short_closed_with_a_manager(
    cli: Callable, shift: tuple[Path, str]
) -> None:
    data, shift_id = shift
    d = ("--data-dir", data)
    no_manager = cli("shift", "paid-in", shift_id, "--amount", "200", "--reason", "change", *d)
    assert (no_manager.code, no_manager.err) == (
        2,
        "paygate: a manager must approve: give --approver ID (and the PIN)\n",
    )
    paid_in = cli(
        "shift", "paid-in", shift_id, "--amount", "200", "--reason", "change", *APPROVE, *d
    )
    assert paid_in.code == 0 and paid_in.out.startswith(f"paid in ₹200.00 on {shift_id}: change")
    out = cli("shift", "paid-out", shift_id, "--amount", "50", "--reason", "x" * 81, *APPROVE, *d)
    assert (out.code, out.err) == (2, "paygate: --reason is 1 to 80 characters\n")
    assert (
        cli("shift", "paid-out", shift_id, "--amount", "50", "--reason", "milk", *APPROVE, *d).code
        == 0
    )
    short = cli("shift", "close", shift_id, "--count", "500x3", "--operator", "asha", *d)
    assert short.code == 2
    assert short.err == (
        "paygate: a short of ₹150.00 (over ₹100.00) needs a manager's approval (ID and PIN)\n"
    )
    closed = cli("shift", "close", shift_id, "--count", "500x3", "--operator", "asha", *APPROVE, *d)
    assert closed.code == 0, closed.err
    text = [" ".join(line.split()) for line in closed.out.splitlines()]
    assert text[0] == f"SHIFT {shift_id} CLOSED"
    assert "expected ₹1,650.00" in text and "over / short short ₹150.00" in text
    assert any(line.endswith("by asha approved by meera") for line in text)
    report = json.loads(cli("shift", "show", shift_id, "--json", *d).out)
    assert (report["paid_in"], report["paid_out"], report["shift"]["over_short"]) == (
        200_00,
        50_00,
        -150_00,
    )
    listed = cli("shift", "list", *d).out
    assert listed.startswith(shift_id) and listed.rstrip().endswith("closed  short ₹150.00")


def test_over_needs_no_manager_and_show_needs_an_open_shift(
    cli: Callable, shift: tuple[Path, str]
) -> None:
    data, shift_id = shift
    d = ("--data-dir", data)
    shown = cli("shift", "show", *d)
    assert shown.code == 0 and shown.out.startswith(f"SHIFT {shift_id}  OPEN")
    over = cli("shift", "close", shift_id, "--count", "500x3,100x1", "--json", *d)
    assert json.loads(over.out)["shift"]["over_short"] == 100_00
    none = cli("shift", "show", *d)
    assert (none.code, none.err) == (
        2,
        "paygate: no shift is open on this terminal: give a shift id\n",
    )


def test_x_shows_open_shifts_and_z_refuses_them(cli: Callable, shift: tuple[Path, str]) -> None:
    data, shift_id = shift
    d = ("--data-dir", data)
    assert cli("charge", "--method", "cash", "--amount", "10", "--tendered", "10", *d).code == 0
    x = cli("report", "x", *d)
    assert "open shifts (1):" in x.out and f"  {shift_id}  TERM0001  asha" in x.out
    assert json.loads(cli("report", "x", "--json", *d).out)["open_shifts"][0]["id"] == shift_id
    z = cli("report", "z", *APPROVE, *d)
    assert (z.code, z.err) == (
        2,
        f"paygate: close the open shifts first: {shift_id} on TERM0001, asha (or "
        "--close-shifts: the approving manager closes them uncounted)\n",
    )
    closed = cli("report", "z", "--close-shifts", *APPROVE, *d)
    assert closed.code == 0, closed.err
    after = json.loads(cli("shift", "show", shift_id, "--json", *d).out)["shift"]
    assert (after["status"], after["counted"], after["approved_by"]) == ("closed", None, "meera")
    assert "not counted" in cli("shift", "show", shift_id, *d).out
