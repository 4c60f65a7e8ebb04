"""The payment commands of `paygate`: every outcome, the JSON, the exit codes, card
input from stdin, the books, and a real `paygate banks serve` process."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from support import open_runtime

from bank_sim.testcards import LUHN_FAILURE, TEST_CARDS
from gateway_core.settings import load_settings
from paygate_cli import payments as payment_commands

APPROVE = ("--approver", "meera", "--approver-pin", "4321")  # the demo manager

VISA = "4242 4242 4242 4242"
OTP_CARD = "4000 0000 0000 3220"
OTP_THEN_51 = "4000 0084 0000 1629"
TIMEOUT_CARD = "4000 0000 0000 9094"
HTTP_500_CARD = "4000 0000 0000 0507"
SPEC_FIELDS = {
    "id",
    "status",
    "amount",
    "amount_captured",
    "amount_refunded",
    "currency",
    "response_code",
    "decline_code",
    "auth_code",
    "rrn",
    "stan",
    "card",
    "created_at",
}
ID = re.compile(r"\bpay_[0-9]{8}_[0-9a-f]+\b")


# ---------------------------------------------------------------------------- helpers
def one_line_error(err: str) -> str:
    """The whole of stderr is one line starting with "paygate: "; returns it."""
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert err.startswith("paygate: "), repr(err)
    return err.strip()


def charge(cli, data: Path, pan: str, *extra: str, amount: str = "12.50", cvv: str = "123"):
    return cli(
        "charge",
        "--data-dir",
        data,
        "--amount",
        amount,
        "--card",
        pan,
        "--exp",
        "12/30",
        "--cvv",
        cvv,
        *extra,
    )


def as_json(result) -> dict:
    assert result.code == 0, result.err
    return json.loads(result.out)


def charge_json(cli, data: Path, pan: str, *extra: str, **kw: str) -> dict:
    return as_json(charge(cli, data, pan, "--json", *extra, **kw))


def run_json(cli, *argv) -> dict | list:
    return as_json(cli(*argv, "--json"))


def otp_from_outbox(cli, data: Path) -> str:
    outbox = cli("outbox", "--data-dir", data)
    assert outbox.code == 0, outbox.err
    return re.search(r"\b([0-9]{6}) is your OTP\b", outbox.out)[1]  # newest first


def listed(cli, data: Path) -> list[dict]:
    return run_json(cli, "list", "--data-dir", data)


def ledger_ok(cli, data: Path, *extra: str) -> None:
    check = cli("ledger", "check", "--data-dir", data, *extra)
    assert check.code == 0, check.err
    assert check.out.startswith("books balance"), check.out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


# ---------------------------------------------------------------------------- outcomes
def test_approved_sale_prints_the_short_block(cli, data: Path) -> None:
    result = charge(cli, data, VISA)
    assert result.code == 0, result.err
    assert result.err == ""
    head, refs, ident = result.out.splitlines()
    assert head == "APPROVED  ₹12.50  Visa 4242 42•• •••• 4242"
    assert re.fullmatch(r"auth [0-9A-Z]{6}  rrn [0-9]{12}  stan [0-9]{6}", refs)
    assert re.fullmatch(r"id pay_[0-9]{8}_[0-9a-f]+  status succeeded", ident)


def test_json_has_every_field_the_spec_lists(cli, data: Path) -> None:
    payment = charge_json(cli, data, VISA)
    assert payment.keys() >= SPEC_FIELDS
    assert payment["status"] == "succeeded"
    assert payment["amount"] == payment["amount_captured"] == 1250
    assert payment["amount_refunded"] == 0
    assert payment["currency"] == "INR"
    assert payment["response_code"] == "00" and payment["decline_code"] is None
    assert re.fullmatch(r"[0-9A-Z]{6}", payment["auth_code"])
    assert re.fullmatch(r"[0-9]{12}", payment["rrn"])
    assert re.fullmatch(r"[0-9]{6}", payment["stan"])
    card = payment["card"]
    assert {"brand", "bin6", "last4", "masked"} <= card.keys()
    assert (card["brand"], card["bin6"], card["last4"]) == ("visa", "424242", "4242")
    assert card["masked"] == "4242 42•• •••• 4242"
    assert datetime.fromisoformat(payment["created_at"]).tzinfo is not None
    assert ID.fullmatch(payment["id"])
    status = run_json(cli, "status", payment["id"], "--data-dir", data)
    assert status == {**payment, "updated_at": status["updated_at"]}


@pytest.mark.parametrize(
    "card",
    [c for c in TEST_CARDS if len(c.expect) == 2 and c.expect not in ("00", "91")],
    ids=lambda c: c.expect,
)
def test_every_decline_card_is_a_business_result(cli, data: Path, card) -> None:
    amount = "1,500.00" if card.expect == "61" else "12.50"  # the 61 card's limit is ₹1,000
    result = charge(cli, data, card.pan, amount=amount)
    assert result.code == 0, result.err
    assert result.err == ""
    assert result.out.startswith(f"DECLINED {card.expect}  ")
    assert "status declined" in result.out
    payment = run_json(cli, "status", ID.search(result.out)[0], "--data-dir", data)
    assert (payment["status"], payment["response_code"]) == ("declined", card.expect)
    assert payment["decline_code"] and payment["auth_code"] is None
    ledger_ok(cli, data)


def test_insufficient_funds_and_cvv_mismatch_read_as_a_cashier_expects(cli, data) -> None:
    funds = charge(cli, data, "4000 0000 0000 9995")
    assert funds.out.splitlines()[:2] == [
        "DECLINED 51  Insufficient funds",
        "₹12.50  Visa 4000 00•• •••• 9995",
    ]
    cvv = charge_json(cli, data, "4000 0000 0000 0127")
    assert (cvv["status"], cvv["response_code"], cvv["decline_code"]) == (
        "declined",
        "N7",
        "incorrect_cvc",
    )


def test_otp_then_confirm_with_the_code_from_the_outbox(cli, data: Path) -> None:
    asked = charge(cli, data, OTP_CARD)
    assert asked.code == 0, asked.err
    payment_id = ID.search(asked.out)[0]
    assert asked.out.startswith("OTP PENDING  ₹12.50  Visa 4000 00•• •••• 3220\n")
    assert "the bank sent a code to +91 98•• ••00 01" in asked.out
    assert f"status requires_action\nnext: paygate confirm {payment_id} --otp " in asked.out
    code = otp_from_outbox(cli, data)

    wrong = cli("confirm", payment_id, "--otp", "000000" if code != "000000" else "111111",
                "--data-dir", data)  # fmt: skip
    assert wrong.code == 2 and wrong.out == ""
    assert "wrong code: 2 tries left" in one_line_error(wrong.err)

    too_soon = cli("resend", payment_id, "--data-dir", data)
    assert too_soon.code == 2
    assert "wait" in one_line_error(too_soon.err)

    done = run_json(cli, "confirm", payment_id, "--otp", code, "--data-dir", data)
    assert (done["status"], done["response_code"]) == ("succeeded", "00")
    assert done["amount_captured"] == 1250
    again = cli("confirm", payment_id, "--otp", code, "--data-dir", data)
    assert again.code == 2
    assert "is not waiting for an OTP" in one_line_error(again.err)
    ledger_ok(cli, data)


def test_otp_passed_then_the_issuer_declines_51(cli, data: Path) -> None:
    asked = charge_json(cli, data, OTP_THEN_51)
    assert asked["status"] == "requires_action" and asked["challenge"]["tries_left"] == 3
    confirmed = cli("confirm", asked["id"], "--otp", otp_from_outbox(cli, data), "--data-dir", data)
    assert confirmed.code == 0, confirmed.err
    assert confirmed.out.startswith("DECLINED 51  Insufficient funds\n")


def test_issuer_timeout_is_reversed_and_declined_91(cli, data, monkeypatch) -> None:
    # The issuer sits on its answer for 30 s; the gateway gives up after 0.3 s.
    monkeypatch.setenv("PAYGATE_BANK_TIMEOUT_S", "0.3")
    payment = charge_json(cli, data, TIMEOUT_CARD)
    assert (payment["status"], payment["response_code"]) == ("declined", "91")
    assert payment["decline_code"] == "issuer_not_available"
    assert payment["reversal"].startswith("reversed after: the bank did not answer in time")
    human = cli("status", payment["id"], "--data-dir", data)
    assert human.out.startswith("DECLINED 91  Bank unavailable: try again\n")
    assert "nothing stays held on the card" in human.out
    ledger_ok(cli, data)  # the hold placed before the timeout was released


def test_issuer_http_500_is_declined_91(cli, data: Path) -> None:
    payment = charge_json(cli, data, HTTP_500_CARD)
    assert (payment["status"], payment["response_code"]) == ("declined", "91")
    ledger_ok(cli, data)


# ---------------------------------------------------------------------------- lifecycle
def test_preauth_partial_capture_refunds_and_a_refund_too_many(cli, data: Path) -> None:
    auth = charge_json(cli, data, VISA, "--capture", "manual", amount="100")
    assert (auth["status"], auth["amount"], auth["amount_captured"]) == (
        "requires_capture",
        10000,
        0,
    )
    pid = auth["id"]
    human = cli("status", pid, "--data-dir", data)
    assert human.out.startswith("AUTHORIZED  ₹100.00  Visa 4242 42•• •••• 4242\n")
    assert f"next: paygate capture {pid}" in human.out

    captured = cli("capture", pid, "--amount", "80", "--data-dir", data)
    assert captured.code == 0, captured.err
    assert "captured ₹80.00 of ₹100.00 authorized; ₹20.00 released" in captured.out
    twice = cli("capture", pid, "--data-dir", data)
    assert twice.code == 2 and "cannot be captured" in one_line_error(twice.err)

    first = run_json(cli, "refund", pid, "--amount", "30", "--data-dir", data, *APPROVE)
    assert (first["amount_captured"], first["amount_refunded"]) == (8000, 3000)
    second = cli("refund", pid, "--amount", "30.00", "--data-dir", data, *APPROVE)
    assert second.code == 0, second.err
    assert second.out.startswith("refund re_")
    assert "refunded ₹60.00 in 2 refunds; ₹20.00 left to refund" in second.out

    too_many = cli("refund", pid, "--amount", "30", "--data-dir", data, *APPROVE)
    assert too_many.code == 2 and too_many.out == ""
    assert "refund at most ₹20.00" in one_line_error(too_many.err)
    void = cli("void", pid, "--data-dir", data, *APPROVE)
    assert void.code == 2 and "already captured" in one_line_error(void.err)

    final = run_json(cli, "status", pid, "--data-dir", data)
    assert (final["status"], final["amount_refunded"], len(final["refunds"])) == (
        "succeeded",
        6000,
        2,
    )
    rest = run_json(
        cli, "refund", pid, "--data-dir", data, *APPROVE
    )  # no --amount: all that is left
    assert rest["amount_refunded"] == 8000
    assert "fully refunded" in cli("status", pid, "--data-dir", data).out
    ledger_ok(cli, data)


def test_void_of_an_authorization_cancels_it(cli, data: Path) -> None:
    auth = charge_json(cli, data, "5555 5555 5555 4444", "--capture", "manual")
    void = cli("void", auth["id"], "--data-dir", data, *APPROVE)
    assert void.code == 0, void.err
    head, _refs, why, ident = void.out.splitlines()
    assert (head, why) == ("VOIDED  ₹12.50  Mastercard 5555 55•• •••• 4444", "Voided")
    assert ident == f"id {auth['id']}  status canceled"
    assert run_json(cli, "status", auth["id"], "--data-dir", data)["status"] == "canceled"
    capture = cli("capture", auth["id"], "--data-dir", data)
    assert capture.code == 2 and "(it is voided)" in one_line_error(capture.err)
    ledger_ok(cli, data)


def test_capture_of_a_declined_payment_and_unknown_ids_exit_2(cli, data: Path) -> None:
    declined = charge_json(cli, data, "4000 0000 0000 9995")
    capture = cli("capture", declined["id"], "--data-dir", data)
    assert capture.code == 2 and capture.out == ""
    assert "(it is declined)" in one_line_error(capture.err)
    refund = cli("refund", declined["id"], "--data-dir", data, *APPROVE)
    assert refund.code == 2 and "cannot be refunded" in one_line_error(refund.err)
    for command in ("status", "capture", "void", "refund", "resend"):
        result = cli(command, "pay_20261128_0000000000", "--data-dir", data)
        assert result.code == 2, command
        assert "no payment pay_20261128_0000000000" in one_line_error(result.err)
    confirm = cli("confirm", "nonsense", "--otp", "123456", "--data-dir", data)
    assert confirm.code == 2 and "no payment nonsense" in one_line_error(confirm.err)


def test_the_same_idempotency_key_charges_once(cli, data: Path) -> None:
    first = charge_json(cli, data, VISA, "--idempotency-key", "order-42")
    again = charge_json(cli, data, VISA, "--idempotency-key", "order-42")
    assert again["id"] == first["id"]
    other = charge(cli, data, VISA, "--idempotency-key", "order-42", amount="13")
    assert other.code == 2
    assert "order-42 was used for a different payment" in one_line_error(other.err)
    assert [p["id"] for p in listed(cli, data)] == [first["id"]]


# ---------------------------------------------------------------------------- card input
def test_card_from_stdin_and_no_full_number_in_any_output(cli, data, monkeypatch) -> None:
    outputs: list[str] = []

    def keep(result):
        outputs.extend((result.out, result.err))
        return result

    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{VISA}\n123\n"))
    piped = keep(
        cli("charge", "--data-dir", data, "--amount", "5", "--card", "-", "--exp", "12/30")
    )
    assert piped.code == 0, piped.err
    assert piped.out.startswith("APPROVED  ₹5.00  Visa 4242 42•• •••• 4242\n")

    monkeypatch.setattr(sys, "stdin", io.StringIO("5555555555554444\n"))  # only the number
    cvv_given = keep(
        cli("charge", "--data-dir", data, "--amount", "6", "--card", "-", "--exp", "12/30",
            "--cvv", "123", "--capture", "manual", "--json")
    )  # fmt: skip
    assert json.loads(cvv_given.out)["card"]["masked"] == "5555 55•• •••• 4444"

    for pan in (VISA, "4000 0000 0000 3220", "4000 0000 0000 9995"):
        keep(charge(cli, data, pan))
        keep(charge(cli, data, pan, "--json"))
    keep(charge(cli, data, LUHN_FAILURE))
    for payment in listed(cli, data):
        keep(cli("status", payment["id"], "--data-dir", data))
        keep(cli("status", payment["id"], "--data-dir", data, "--json"))
    for command in (["list"], ["list", "--json"], ["outbox"], ["ledger", "check"]):
        keep(cli(*command, "--data-dir", data))

    text = "\n".join(outputs)
    assert "4242 42•• •••• 4242" in text
    numbers = {c.digits for c in TEST_CARDS} | {LUHN_FAILURE.replace(" ", "")}
    spelled = {n for d in numbers for n in (d, " ".join(d[i : i + 4] for i in range(0, 16, 4)))}
    assert [n for n in spelled if n in text or n in text.replace(" ", "")] == []


def test_card_from_a_hidden_prompt_on_a_terminal(cli, data, monkeypatch) -> None:
    answers = iter([VISA, "123"])
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(payment_commands, "_stdin_is_tty", lambda: True)
    monkeypatch.setattr(payment_commands.getpass, "getpass", fake_getpass)
    result = cli("charge", "--data-dir", data, "--amount", "5", "--exp", "12/30")  # no --card
    assert result.code == 0, result.err
    assert prompts == ["Card number: ", "CVV: "]
    assert result.out.startswith("APPROVED  ₹5.00  Visa 4242 42•• •••• 4242\n")


def test_missing_card_data_on_a_pipe_exits_2(cli, data, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    no_card = cli("charge", "--data-dir", data, "--amount", "5", "--exp", "12/30", "--cvv", "123")
    assert no_card.code == 2 and "--card -" in one_line_error(no_card.err)
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{VISA}\n"))
    no_cvv = cli("charge", "--data-dir", data, "--amount", "5", "--card", "-", "--exp", "12/30")
    assert no_cvv.code == 2 and "CVV" in one_line_error(no_cvv.err)
    assert not data.exists()


# ---------------------------------------------------------------------------- bad input
BAD_CHARGES = [
    ({"amount": "12.505"}, "at most 2 decimals"),
    ({"amount": "twelve"}, "enter the amount"),
    ({"amount": "0"}, "above zero"),
    ({"amount": "2,00,000"}, "cannot be more than ₹1,00,000.00"),
    ({"pan": LUHN_FAILURE}, "card number is not valid"),
    ({"pan": "4242 4242"}, "too short"),
    ({"exp": "12/20"}, "card expired 12/20"),
    ({"exp": "13/30"}, "month must be 01 to 12"),
    ({"cvv": "12"}, "3-digit security code"),
    ({"pan": "3782 822463 10005", "cvv": "123"}, "4-digit security code"),
    ({"currency": "XYZ"}, "unknown currency"),
]


@pytest.mark.parametrize(("bad", "message"), BAD_CHARGES, ids=[m for _b, m in BAD_CHARGES])
def test_bad_input_exits_2_with_one_line_and_stores_nothing(cli, tmp_path, bad, message) -> None:
    def argv(data: Path) -> list:
        values = {"pan": VISA, "exp": "12/30", "cvv": "123", "amount": "12.50", **bad}
        args = ["charge", "--data-dir", data, "--amount", values["amount"], "--card"]
        args += [values["pan"], "--exp", values["exp"], "--cvv", values["cvv"]]
        return args + (["--currency", values["currency"]] if "currency" in values else [])

    fresh = tmp_path / "fresh"
    result = cli(*argv(fresh))
    assert result.code == 2 and result.out == ""
    assert message in one_line_error(result.err)
    assert not fresh.exists()  # no data dir, so no store and no bank was opened

    used = tmp_path / "used"
    first = charge_json(cli, used, VISA)
    outbox_before = cli("outbox", "--data-dir", used).out
    again = cli(*argv(used))
    assert again.code == 2 and again.out == ""
    assert message in one_line_error(again.err)
    assert [p["id"] for p in listed(cli, used)] == [first["id"]]
    assert cli("outbox", "--data-dir", used).out == outbox_before


def test_payment_commands_on_a_dir_without_data_exit_2(cli, data: Path) -> None:
    for argv in (["list"], ["status", "pay_20261128_0000000000"], ["repair"], ["outbox"]):
        result = cli(*argv, "--data-dir", data)
        assert result.code == 2
        assert "no paygate data" in one_line_error(result.err)
    bad_date = cli("list", "--date", "2026-13-01", "--data-dir", data)
    assert bad_date.code == 2 and "not a date on the calendar" in one_line_error(bad_date.err)
    assert not data.exists()


# ---------------------------------------------------------------------------- the books
def test_ledger_balances_after_a_mixed_session(cli, data: Path, monkeypatch) -> None:
    monkeypatch.setenv("PAYGATE_BANK_TIMEOUT_S", "0.3")
    sale = charge_json(cli, data, VISA)
    charge_json(cli, data, "4000 0000 0000 9995")
    charge_json(cli, data, TIMEOUT_CARD)
    voided = charge_json(cli, data, "2223 0031 2200 3222", "--capture", "manual")
    assert cli("void", voided["id"], "--data-dir", data, *APPROVE).code == 0
    partial = charge_json(cli, data, "6521 5000 0000 0014", "--capture", "manual", amount="500")
    assert cli("capture", partial["id"], "--amount", "321.99", "--data-dir", data).code == 0
    assert cli("refund", partial["id"], "--amount", "0.99", "--data-dir", data, *APPROVE).code == 0
    assert cli("refund", sale["id"], "--data-dir", data, *APPROVE).code == 0
    otp = charge_json(cli, data, OTP_CARD)
    code = otp_from_outbox(cli, data)
    assert cli("confirm", otp["id"], "--otp", code, "--data-dir", data).code == 0
    charge_json(cli, data, "3782 822463 10005", "--capture", "manual", cvv="1234")  # left held

    ledger_ok(cli, data)
    table = cli("list", "--data-dir", data)
    assert table.code == 0
    header, *rows, total = table.out.splitlines()
    assert header.split() == ["TIME", "ID", "STATUS", "AMOUNT", "TENDER", "CODE"]
    assert len(rows) == 7 and total.startswith("7 payments on ")
    assert any("authorized" in row and "Amex 3782 82•••• •0005" in row for row in rows)
    audit = cli("audit", "verify", "--data-dir", data)
    assert audit.code == 0, audit.err


def test_test_cards_lists_every_card(cli) -> None:
    result = cli("test-cards")
    assert result.code == 0, result.err
    for card in TEST_CARDS:
        line = next(line for line in result.out.splitlines() if card.pan in line)
        assert card.behaviour in line and "12/30" in line and card.cvv in line
    assert LUHN_FAILURE in result.out and "Luhn" in result.out
    cards = run_json(cli, "test-cards")
    assert [c["number"] for c in cards[:-1]] == [c.pan for c in TEST_CARDS]


def test_help_lists_the_payment_commands(cli) -> None:
    out = cli("--help").out
    for command in ("charge", "confirm", "resend", "status", "capture", "void", "refund",
                    "list", "outbox", "test-cards", "banks", "repair", "ledger"):  # fmt: skip
        assert re.search(rf"^\s+{command}\s", out, re.M), command
    assert "--bank-url" in out
    charge_help = cli("charge", "--help").out
    for flag in ("--amount", "--currency", "--card", "--exp", "--cvv", "--capture", "--json"):
        assert flag in charge_help


# ---------------------------------------------------------------------------- the network
def test_capture_or_void_with_the_bank_unreachable_exits_1(cli, data: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    auth = charge_json(cli, data, VISA, "--capture", "manual")
    capture = cli("capture", auth["id"], "--data-dir", data, "--bank-url", nowhere)
    assert capture.code == 1
    assert "capture did not go through" in one_line_error(capture.err)
    void = cli("void", auth["id"], "--data-dir", data, "--bank-url", nowhere, *APPROVE)
    assert void.code == 1 and "cannot be reached" in one_line_error(void.err)
    assert run_json(cli, "status", auth["id"], "--data-dir", data)["status"] == "requires_capture"
    done = run_json(cli, "capture", auth["id"], "--data-dir", data)  # the bank is back
    assert (done["status"], done["amount_captured"]) == ("succeeded", 1250)
    ledger_ok(cli, data)


@pytest.fixture
def bank_server(paygate_cmd: list[str], tmp_path: Path) -> Iterator[str]:
    """`paygate banks serve` on a free port in its own process (its net banking pages
    addressed at http://banks.test:PORT); stopped after the test."""
    port = free_port()
    public = ["--public-url", f"http://banks.test:{port}/"]
    proc = subprocess.Popen(
        [
            *paygate_cmd,
            "banks",
            "serve",
            "--port",
            str(port),
            *public,
            "--data-dir",
            tmp_path / "banks",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            assert proc.poll() is None, proc.communicate()
            try:
                if httpx.get(f"{url}/banks/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            pytest.fail("paygate banks serve did not come up")
        yield url
        proc.terminate()
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        assert f"banks on {url}" in out and "banks stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_banks_serve_addresses_the_net_banking_pages_at_its_public_url(
    cli, data: Path, bank_server: str
) -> None:
    args = ("--method", "netbanking", "--bank", "DEMOA", "--amount", "500", "--json")
    payment = run_json(cli, "charge", *args, "--data-dir", data, "--bank-url", bank_server)
    port = bank_server.rsplit(":", 1)[1]
    assert payment["next_action"]["url"].startswith(f"http://banks.test:{port}/nb/DEMOA/pay/")
    bad = cli("banks", "serve", "--public-url", "ftp://banks.test", "--data-dir", data)
    assert bad.code == 2 and "--public-url must be an http(s) address" in one_line_error(bad.err)


def test_charge_against_a_real_banks_serve_process(
    cli, data: Path, bank_server: str, paygate_cmd: list[str]
) -> None:
    payment = charge_json(cli, data, VISA, "--bank-url", bank_server)
    assert (payment["status"], payment["response_code"]) == ("succeeded", "00")
    declined = charge_json(cli, data, "4000 0000 0000 9995", "--bank-url", bank_server)
    assert declined["response_code"] == "51"

    done = subprocess.run(
        [*paygate_cmd, "charge", "--data-dir", data, "--amount", "7", "--card", "-",
         "--exp", "12/30"],
        input=f"{VISA}\n123\n",
        env={**os.environ, "PAYGATE_BANK_URL": bank_server},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("APPROVED  ₹7.00  Visa 4242 42•• •••• 4242\n")
    assert "4242424242424242" not in done.stdout + done.stderr

    refund = cli("refund", payment["id"], "--data-dir", data, "--bank-url", bank_server, *APPROVE)
    assert refund.code == 0, refund.err
    ledger_ok(cli, data, "--bank-url", bank_server)
    assert len(listed(cli, data)) == 3


def test_void_and_refund_need_a_managers_approval(cli, data: Path) -> None:
    sale = charge_json(cli, data, VISA)
    auth = charge_json(cli, data, VISA, "--capture", "manual")
    refusals = {
        (): "a manager must approve",
        ("--approver", "asha", "--approver-pin", "1111"): "a manager must approve",
        ("--approver", "meera", "--approver-pin", "0000"): "wrong PIN: ",
        ("--approver", "nobody", "--approver-pin", "1234"): "no user 'nobody'",
    }
    for approval, message in refusals.items():
        for command, pid in (("refund", sale["id"]), ("void", auth["id"])):
            result = cli(command, pid, "--data-dir", data, *approval)
            assert result.code == 2, result.err
            assert message in one_line_error(result.err)
    assert run_json(cli, "status", sale["id"], "--data-dir", data)["amount_refunded"] == 0
    assert run_json(cli, "status", auth["id"], "--data-dir", data)["status"] == "requires_capture"
    refunded = run_json(
        cli, "refund", sale["id"], "--operator", "asha", "--data-dir", data, *APPROVE
    )
    assert refunded["refunds"][0]["operator"] == "asha"
    assert refunded["refunds"][0]["approver"] == "meera"
    voided = run_json(cli, "void", auth["id"], "--operator", "ravi", "--data-dir", data, *APPROVE)
    assert (voided["voided_by"], voided["approved_by"]) == ("ravi", "meera")
    events = audit_events(data)
    assert ("meera", "approval.granted", sale["id"]) in events
    assert ("meera", "payment.refunded", sale["id"]) in events  # the approver acts
    assert ("asha", "approval.refused", sale["id"]) in events
    assert ("meera", "payment.voided", auth["id"]) in events


def audit_events(data: Path) -> list[tuple[str, str, str]]:
    settings = load_settings(data_dir=data)
    with open_runtime(settings, read_only=True) as rt:
        return [(e["actor"], e["action"], e["subject"]) for _d, e in rt.audit._repo.events()]
