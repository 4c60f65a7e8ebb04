"""Split bills on the command line: `paygate bill open | pay | show | cancel | list`, a
bill paid by card after a declined card and by UPI, bad input one line (exit 2, nothing
stored), a cancel that needs a manager, and `paygate repair` finishing bills."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from server_support import issue, start

from gateway_core.upi_api import TEST_PIN

VISA = ("--card", "4242424242424242", "--exp", "12/30", "--cvv", "123")
DECLINED = ("--card", "4000000000000002", "--exp", "12/30", "--cvv", "123")
MANAGER = ("--approver", "meera", "--approver-pin", "4321")


def one_line(err: str) -> str:
    assert err.startswith("paygate: ") and err.count("\n") == 1, repr(err)
    return err.strip()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def opened(cli, data: Path, amount: str = "1000") -> str:
    result = cli(
        "bill", "open", "--amount", amount, "--operator", "asha", "--json", "--data-dir", data
    )
    assert result.code == 0, result.err
    bill = json.loads(result.out)
    assert (bill["status"], bill["balance"], bill["operator"]) == (
        "open",
        int(amount) * 100,
        "asha",
    )
    return bill["id"]


def test_a_bill_paid_by_card_a_declined_card_and_upi(cli, data: Path) -> None:
    bill_id = opened(cli, data)
    first = cli("bill", "pay", bill_id, "--amount", "400", *VISA, "--data-dir", data)
    assert first.code == 0, first.err
    assert first.out.startswith("APPROVED  ₹400.00")
    assert "paid ₹400.00  due ₹600.00" in first.out
    declined = cli(
        "bill", "pay", bill_id, "--amount", "600", *DECLINED, "--json", "--data-dir", data
    )
    assert declined.code == 0  # a decline is a result
    bill = json.loads(declined.out)
    assert ([p["status"] for p in bill["parts"]], bill["balance"]) == (
        ["succeeded", "declined"],
        600_00,
    )
    upi = cli("bill", "pay", bill_id, "--method", "upi", "--amount", "600", "--data-dir", data)
    assert upi.code == 0, upi.err
    assert "PENDING  ₹600.00  UPI QR" in upi.out
    link = next(word for word in upi.out.split() if word.startswith("upi://pay"))
    paid = cli("upi", "pay", link, "--vpa", "success@payer", "--pin", TEST_PIN, "--data-dir", data)
    assert paid.code == 0, paid.err
    shown = cli("bill", "show", bill_id, "--data-dir", data)
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0] == "BILL ₹1,000.00  PAID"
    assert [line.split()[:2] for line in lines[2:5]] == [
        ["Visa", "••••"],
        ["Visa", "••••"],
        ["UPI", "su****@payer"],
    ]
    assert "declined" in lines[3] and "approved" in lines[4]
    assert "paid ₹1,000.00  due ₹0.00" in shown.out
    listed = cli("bill", "list", "--data-dir", data)
    assert bill_id in listed.out and listed.out.strip().endswith(
        "1 bill on " + listed.out.split()[-1]
    )
    more = cli("bill", "pay", bill_id, "--amount", "1", *VISA, "--data-dir", data)
    assert more.code == 2 and f"bill {bill_id} is paid" in one_line(more.err)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("--amount", "1000.01", *VISA), "₹1,000.01 is more than the ₹1,000.00 still due"),
        (("--amount", "10", "--currency", "USD", *VISA), "is in INR, not USD"),
        (("--amount", "10", "--tendered", "20", *VISA), "--tendered for cash"),
        (("--amount", "10", "--method", "upi", *VISA), "takes no card"),
        (("--amount", "0", *VISA), "amount"),
        (("--amount", "10", "--card", "4242424242424241", "--exp", "12/30", "--cvv", "1"), ""),
    ],
)  # fmt: skip
def test_bad_parts_are_one_line_exit_2_and_store_nothing(
    cli, data: Path, argv: tuple[str, ...], says: str
) -> None:
    bill_id = opened(cli, data)
    result = cli("bill", "pay", bill_id, *argv, "--data-dir", data)
    assert result.code == 2 and result.out == ""
    assert says in one_line(result.err)
    assert json.loads(cli("list", "--json", "--data-dir", data).out) == []


def test_an_unknown_bill_is_one_line(cli, data: Path) -> None:
    opened(cli, data)
    for argv in (("show", "bill_20260101_nope"), ("pay", "nope", "--amount", "1", *VISA)):
        result = cli("bill", *argv, "--data-dir", data)
        assert result.code == 2 and "no bill" in one_line(result.err)


def test_cancel_gives_back_what_was_taken_with_a_manager(cli, data: Path) -> None:
    bill_id = opened(cli, data, "500")
    assert cli("bill", "pay", bill_id, "--amount", "300", *VISA, "--data-dir", data).code == 0
    refused = cli("bill", "cancel", bill_id, "--data-dir", data)
    assert refused.code == 2 and "--approver" in one_line(refused.err)
    done = cli("bill", "cancel", bill_id, *MANAGER, "--json", "--data-dir", data)
    assert done.code == 0, done.err
    bill = json.loads(done.out)
    assert (bill["status"], bill["paid"], bill["approved_by"]) == ("canceled", 0, "meera")
    assert bill["parts"][0]["refunded"] == 300_00
    shown = cli("bill", "show", bill_id, "--data-dir", data).out
    assert "BILL ₹500.00  CANCELED" in shown and "refunded ₹300.00" in shown


def test_a_bill_with_only_a_waiting_part_is_canceled_without_a_manager(cli, data: Path) -> None:
    bill_id = opened(cli, data, "500")
    cli("bill", "pay", bill_id, "--method", "upi", "--amount", "500", "--data-dir", data)
    done = cli("bill", "cancel", bill_id, "--data-dir", data)
    assert done.code == 0, done.err
    assert done.out.startswith("BILL ₹500.00  CANCELED")


def test_repair_says_nothing_when_bills_are_in_order(cli, data: Path) -> None:
    opened(cli, data)
    result = cli("repair", "--data-dir", data)
    assert (result.code, result.out) == (0, "nothing to repair\n")


def test_a_bill_paid_in_cash_with_change_and_by_card(cli, data: Path) -> None:
    shift = cli("shift", "open", "--count", "500x2,100x5", "--cashier", "asha", "--data-dir", data)
    assert shift.code == 0, shift.err
    bill_id = opened(cli, data)
    argv = ("--method", "cash", "--amount", "250", "--tendered", "500", "--json")
    cash = cli("bill", "pay", bill_id, *argv, "--data-dir", data)
    assert cash.code == 0, cash.err
    (part,) = json.loads(cash.out)["parts"]
    assert (part["method"], part["status"], part["change"], part["label"]) == (
        "cash",
        "succeeded",
        250_00,
        "Cash",
    )
    short = cli("bill", "pay", bill_id, "--method", "cash", "--amount", "750", "--data-dir", data)
    assert short.code == 2 and "--tendered" in one_line(short.err)
    card = cli("bill", "pay", bill_id, "--amount", "750", *VISA, "--data-dir", data)
    assert card.code == 0, card.err
    shown = cli("bill", "show", bill_id, "--data-dir", data).out
    assert shown.startswith("BILL ₹1,000.00  PAID")
    assert "Cash            ₹250.00  approved" in shown and "change ₹250.00" in shown


def test_a_net_banking_part_waits_for_the_customer_at_the_bank(cli, data: Path) -> None:
    bill_id = opened(cli, data, "500")
    argv = ("--method", "netbanking", "--bank", "DEMOA", "--amount", "500")
    part = cli("bill", "pay", bill_id, *argv, "--data-dir", data)
    assert part.code == 0, part.err
    assert part.out.startswith("PENDING  ₹500.00")
    assert "Net banking Demo Bank A  ₹500.00  pending" in part.out
    assert "paid ₹0.00  due ₹500.00  (₹500.00 waiting)" in part.out


def test_bill_commands_go_through_a_gateway_and_create_nothing_local(
    cli, paygate_cmd: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "served"
    key = issue(cli, data_dir, "TERM0001")
    server = start(paygate_cmd, data_dir)
    try:
        home = tmp_path / "home"
        home.mkdir()
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.setenv("PAYGATE_GATEWAY_URL", server.url)
        monkeypatch.setenv("PAYGATE_API_KEY", key)
        opened = cli("bill", "open", "--amount", "300", "--json")
        assert opened.code == 0, opened.err
        bill_id = json.loads(opened.out)["id"]
        paid = cli("bill", "pay", bill_id, "--amount", "300", *VISA, "--json")
        assert paid.code == 0, paid.err
        assert json.loads(paid.out)["status"] == "paid"
        assert cli("bill", "show", bill_id).out.startswith("BILL ₹300.00  PAID")
        assert bill_id in cli("bill", "list").out
        refused = cli("bill", "cancel", bill_id, *MANAGER)
        assert refused.code == 2 and "is paid: refund its payments" in one_line(refused.err)
        assert list(home.rglob("*")) == []
    finally:
        server.stop()
