"""UPI end to end on the command line, over the embedded simulated network: charge (QR,
intent, collect) → `paygate upi pay` → `paygate status` succeeded; every response code
one test VPA away; refund and cancel; collect requests in the payer's inbox; the PIN
never shown."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from support import open_runtime

from gateway_core.settings import load_settings
from gateway_core.upi_api import UPI_CODES
from gateway_core.upi_link import parse_link

MANAGER = ("--approver", "meera", "--approver-pin", "4321")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def collect_config(tmp_path: Path) -> Path:
    """A config file whose merchant takes collect requests."""
    config = tmp_path / "collect.toml"
    config.write_text('timezone = "Asia/Kolkata"\n[upi]\ncollect_enabled = true\n')
    return config


def ok(result) -> dict:
    assert result.code == 0, result.err
    return json.loads(result.out)


def upi_charge(cli, data: Path, *extra: str, amount: str = "250") -> dict:
    return ok(cli("charge", "--method", "upi", "--amount", amount, *extra, "--json",
                  "--data-dir", data))  # fmt: skip


def pay(cli, data: Path, target: str, vpa: str, pin: str = "1234", *extra: str) -> dict:
    return ok(cli("upi", "pay", target, "--vpa", vpa, "--pin", pin, "--json", *extra,
                  "--data-dir", data))  # fmt: skip


def status(cli, data: Path, payment_id: str, *extra: str) -> dict:
    return ok(cli("status", payment_id, "--json", *extra, "--data-dir", data))


def test_a_qr_is_paid_then_status_shows_it_succeeded_and_it_refunds(cli, data: Path) -> None:
    payment = upi_charge(cli, data, "--note", "table 4")
    assert payment["status"] == "pending" and payment["method"] == "upi"
    action = payment["next_action"]
    assert action["type"] == "upi_qr" and action["expires_at"]
    link = parse_link(action["link"])
    assert (link.amount, link.reference, link.note) == (250_00, payment["id"], "table 4")

    paid = pay(cli, data, action["link"], "success@payer")
    assert (paid["status"], paid["response_code"]) == ("SUCCESS", "00")
    assert re.fullmatch(r"[0-9]{12}", paid["rrn"])

    done = status(cli, data, payment["id"])
    assert done["status"] == "succeeded" and done["next_action"] is None
    assert done["rrn"] == paid["rrn"] and done["amount_captured"] == 250_00
    assert done["upi"]["payer_vpa"] == "success@payer"
    shown = cli("status", payment["id"], "--data-dir", data).out
    assert "su****@payer" in shown and "success@payer" not in shown and paid["rrn"] in shown

    refunded = ok(cli("refund", payment["id"], "--amount", "100", *MANAGER, "--json",
                      "--data-dir", data))  # fmt: skip
    assert refunded["amount_refunded"] == 100_00 and refunded["refunds"][0]["rrn"]
    rows = cli("list", "--data-dir", data).out
    assert "UPI su****@payer" in rows and "TENDER" in rows


def test_the_charge_shows_link_qr_amount_merchant_expiry_and_writes_the_png(
    cli, data: Path, tmp_path: Path
) -> None:
    png = tmp_path / "qr.png"
    result = cli("charge", "--method", "upi", "--amount", "250", "--flow", "intent",
                 "--qr-png", png, "--data-dir", data)  # fmt: skip
    assert result.code == 0, result.err
    out = result.out
    link = re.search(r"^link (upi://pay\?\S+)$", out, re.M).group(1)
    assert "PENDING  ₹250.00  UPI intent" in out
    assert re.search(r"pay ₹250\.00 to Paygate Demo Store \(demostore@pgbank\) by UPI "
                     r"before [0-9]{2}:[0-9]{2}:[0-9]{2}", out)  # fmt: skip
    assert f"paygate upi pay '{link}' --vpa success@payer --pin 1234" in out
    qr_rows = [line for line in out.splitlines() if line and set(line) <= set("█▀▄ ")]
    assert len(qr_rows) >= 20 and len({len(row) for row in qr_rows}) == 1
    (decoded,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.read_bytes())))
    assert decoded.text == link and parse_link(link).flow == "intent"


PAYER_OUTCOMES = [
    # (vpa, amount, the payer app's status and code, the payment's status after `status`)
    ("insufficient@payer", "250", "FAILURE", "Z9", "declined"),
    ("limit@payer", "2500", "FAILURE", "Z8", "declined"),
    ("decline@payer", "250", "FAILURE", "ZA", "declined"),
    ("noaccount@payer", "250", "FAILURE", "XH", "declined"),
    ("debitfail@payer", "250", "FAILURE", "U30", "declined"),
    ("bankdown@payer", "250", "PENDING", "BT", "pending"),
    ("timeout@payer", "250", "PENDING", "UT", "pending"),
    ("deemed@payer", "250", "DEEMED", "RB", "pending"),
    ("slow@payer", "250", "PENDING", None, "pending"),
]


@pytest.mark.parametrize(("vpa", "amount", "answer", "code", "after"), PAYER_OUTCOMES)
def test_every_code_is_one_test_vpa_away(
    cli, data: Path, vpa: str, amount: str, answer: str, code: str | None, after: str
) -> None:
    payment = upi_charge(cli, data, amount=amount)
    paid = pay(cli, data, payment["next_action"]["link"], vpa)
    assert (paid["status"], paid["response_code"]) == (answer, code)
    if code is not None:
        assert paid["message"] == UPI_CODES[code].text
    shown = status(cli, data, payment["id"])
    assert shown["status"] == after
    if after == "declined":
        assert shown["response_code"] == code
        assert shown["decline_code"] == UPI_CODES[code].decline_code


def test_a_wrong_pin_is_one_line_zm_and_three_lock_the_payer(cli, data: Path) -> None:
    codes = []
    for _ in range(3):
        link = upi_charge(cli, data)["next_action"]["link"]
        result = cli("upi", "pay", link, "--vpa", "success@payer", "--pin", "9999",
                     "--data-dir", data)  # fmt: skip
        assert result.code == 0 and result.out.count("\n") == 1, result.out
        assert "9999" not in result.out + result.err
        codes.append(result.out.split()[1])
    assert codes == ["ZM", "ZM", "ZD"]
    link = upi_charge(cli, data)["next_action"]["link"]
    assert pay(cli, data, link, "success@payer")["response_code"] == "ZD"  # locked for today


def test_the_pin_is_asked_hidden_on_a_terminal(
    cli, data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr("paygate_cli.upi._stdin_is_tty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or "1234")
    link = upi_charge(cli, data)["next_action"]["link"]
    result = cli("upi", "pay", link, "--vpa", "success@payer", "--data-dir", data)
    assert result.code == 0 and result.out.startswith("PAID  ₹250.00")
    assert asked == ["UPI PIN: "] and "1234" not in result.out


def test_cancel_gives_up_on_a_pending_payment_once(cli, data: Path) -> None:
    payment = upi_charge(cli, data)
    canceled = ok(cli("cancel", payment["id"], "--json", "--data-dir", data))
    assert canceled["status"] == "canceled" and canceled["next_action"] is None
    again = cli("cancel", payment["id"], "--data-dir", data)
    assert again.code == 2 and again.err.count("\n") == 1
    late = cli("upi", "pay", payment["next_action"]["link"], "--vpa", "success@payer",
               "--pin", "1234", "--data-dir", data)  # fmt: skip
    assert late.code == 2 and "canceled" in late.err.lower()  # the switch refuses: nobody pays
    assert status(cli, data, payment["id"])["status"] == "canceled"


def test_a_collect_request_waits_in_the_payers_inbox(cli, data: Path, collect_config) -> None:
    conf = ("--config", collect_config)
    payment = upi_charge(cli, data, "--flow", "collect", "--vpa", "success@payer", *conf)
    assert payment["next_action"]["type"] == "upi_collect"
    assert payment["next_action"]["link"] is None
    request_id = payment["upi"]["txn_id"]
    inbox = ok(cli("upi", "inbox", "--vpa", "success@payer", "--json", "--data-dir", data, *conf))
    assert [(r["request_id"], r["amount"]) for r in inbox] == [(request_id, 250_00)]
    listed = cli("upi", "inbox", "--vpa", "success@payer", "--data-dir", data, *conf).out
    assert request_id in listed and "₹250.00" in listed
    assert pay(cli, data, request_id, "success@payer", "1234", *conf)["status"] == "SUCCESS"
    assert status(cli, data, payment["id"], *conf)["status"] == "succeeded"
    assert ok(cli("upi", "inbox", "--vpa", "success@payer", "--json", "--data-dir", data,
                  *conf)) == []  # fmt: skip

    declined = upi_charge(cli, data, "--flow", "collect", "--vpa", "decline@payer", *conf)
    result = cli("upi", "decline", declined["upi"]["txn_id"], "--vpa", "decline@payer",
                 "--data-dir", data, *conf)  # fmt: skip
    assert result.code == 0 and result.out.startswith("DECLINED ZA")
    after = status(cli, data, declined["id"], *conf)
    assert (after["status"], after["response_code"]) == ("declined", "ZA")

    nobody = upi_charge(cli, data, "--flow", "collect", "--vpa", "nobody@payer", *conf)
    assert (nobody["status"], nobody["response_code"]) == ("declined", "XH")


def test_the_payer_app_lists_its_test_payers(cli, data: Path) -> None:
    empty = cli("upi", "payers", "--data-dir", data)
    assert empty.code == 2 and "no paygate data" in empty.err and not data.exists()
    upi_charge(cli, data)
    payers = ok(cli("upi", "payers", "--json", "--data-dir", data))
    assert {p["vpa"] for p in payers} >= {"success@payer", "timeout@payer"}
    assert all(p["pin"] == "1234" for p in payers)
    assert "success@payer" in cli("upi", "payers", "--data-dir", data).out


def test_status_shows_a_pending_payment_as_stored_while_another_process_holds_it(
    cli, data: Path
) -> None:
    payment = upi_charge(cli, data)
    holder = open_runtime(load_settings(data_dir=data))  # the terminal, or `paygate serve`
    try:
        result = cli("status", payment["id"], "--json", "--data-dir", data)
    finally:
        holder.close()
    assert result.code == 0 and json.loads(result.out)["status"] == "pending"
    assert "shown as stored" in result.err and result.err.count("\n") == 1


def test_reconcile_takes_the_days_upi_against_the_switchs_file(cli, data: Path) -> None:
    payment = upi_charge(cli, data)
    pay(cli, data, payment["next_action"]["link"], "success@payer")
    assert status(cli, data, payment["id"])["status"] == "succeeded"
    rec = ok(cli("reconcile", "--json", "--data-dir", data))
    assert rec["ok"] and rec["switch"]
    assert payment["id"] in {entry["ref"] for entry in rec["matched"]}
