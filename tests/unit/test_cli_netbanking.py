"""Net banking on the command line: `charge --method netbanking` refusing bad input (one
line, exit 2, nothing created), a pending payment with the bank's page (text and
`--json` with `next_action.url`), `status` once the bank sent the customer back, and
`netbanking banks` / `test-cards` listing the banks and test logins. The banks are
in-memory (`nb_fake`) here; through bank_sim's: test_nb_sim_cli."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from nb_fake import FakeBanks
from support import open_runtime

from gateway_core.clock import SystemClock
from gateway_core.netbanking_api import TEST_ACCOUNTS, TEST_BANKS
from gateway_core.netbanking_client import NbClient
from gateway_core.settings import load_settings

NB = ("charge", "--method", "netbanking")


def one_line(err: str) -> str:
    assert err.startswith("paygate: ") and err.count("\n") == 1, repr(err)
    return err.strip()


@pytest.fixture
def banks(monkeypatch: pytest.MonkeyPatch) -> FakeBanks:
    """The banks every runtime of this test reaches (instead of bank_sim's)."""
    fake = FakeBanks(SystemClock())
    monkeypatch.setattr(
        NbClient, "embedded", classmethod(lambda cls, app, timeout_s=8.0, acquiring=None: fake)
    )
    return fake


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("--amount", "500"), "give the customer's bank: --bank DEMOA|DEMOB|DEMOC|DOWN"),
        (("--amount", "500", "--bank", "nope"), "no net banking at bank 'NOPE'"),
        (("--amount", "500", "--bank", "DEMOA", "--currency", "USD"), "rupees only"),
        (("--amount", "100000.01", "--bank", "DEMOA"), "more than ₹1,00,000.00"),
        (("--amount", "0", "--bank", "DEMOA"), "amount"),
        (("--amount", "500", "--bank", "DEMOA", "--capture", "manual"), "paid at once"),
        (("--amount", "500", "--bank", "DEMOA", "--card", "4242424242424242"), "only --bank"),
        (("--amount", "500", "--bank", "DEMOA", "--vpa", "a@b"), "only --bank"),
        (("--amount", "500", "--bank", "DEMOA", "--tendered", "600"), "only --bank"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2_and_creates_nothing(
    cli, tmp_path: Path, argv: tuple[str, ...], says: str
) -> None:
    data = tmp_path / "data"
    result = cli(*NB, *argv, "--data-dir", data)
    assert result.code == 2 and result.out == ""
    assert says in one_line(result.err)
    assert not data.exists()


def test_a_bank_on_a_card_payment_is_refused(cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    card = ("--card", "4242424242424242", "--exp", "12/30", "--cvv", "123")
    result = cli("charge", "--amount", "10", *card, "--bank", "DEMOA", "--data-dir", data)
    assert result.code == 2 and "--bank is for net banking" in one_line(result.err)
    assert not data.exists()


def test_charge_json_prints_the_pending_payment_with_the_banks_page(
    cli, tmp_path: Path, banks: FakeBanks
) -> None:
    data = tmp_path / "data"
    result = cli(*NB, "--bank", "demob", "--amount", "500", "--json", "--data-dir", data)
    assert result.code == 0, result.err
    payment = json.loads(result.out)
    assert (payment["status"], payment["method"], payment["amount"]) == (
        "pending",
        "netbanking",
        500_00,
    )
    assert payment["next_action"]["type"] == "redirect"
    assert payment["next_action"]["url"] == banks.txn(payment["id"]).login_url
    assert payment["netbanking"]["bank"] == "DEMOB"


def test_charge_then_status_after_the_bank_sent_the_customer_back(
    cli, tmp_path: Path, banks: FakeBanks
) -> None:
    data = tmp_path / "data"
    result = cli(*NB, "--bank", "DEMOA", "--amount", "500", "--data-dir", data)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "PENDING  ₹500.00  Net banking Demo Bank A"
    payment_id = lines[1].split()[1]
    url = banks.txn(payment_id).login_url
    assert "pay ₹500.00 at Demo Bank A before " in result.out
    assert f": open {url}" in result.out
    assert "test login at the bank: demo / demo" in result.out
    assert f"then: paygate status {payment_id}" in result.out

    pending = cli("status", payment_id, "--data-dir", data)
    assert pending.code == 0 and "status checks 0 of 3, next at" in pending.out
    assert f"open {url}" in pending.out

    txn = banks.set(payment_id, "SUCCESS")
    rt = open_runtime(load_settings(data_dir=data), clock=SystemClock())
    try:
        asyncio.run(rt.gateway.returned(payment_id, banks.answer(payment_id)))
    finally:
        asyncio.run(rt.aclose())
    paid = cli("status", payment_id, "--data-dir", data)
    assert paid.code == 0
    assert paid.out.splitlines()[0] == "APPROVED  ₹500.00  Net banking Demo Bank A XXXX4321"
    assert f"rrn {txn.bank_ref}" in paid.out
    assert f"netbanking DEMOA  txn {txn.bank_txn}  bank ref {txn.bank_ref}" in paid.out
    assert "open " not in paid.out


def test_netbanking_banks_lists_the_banks_and_test_logins(cli, tmp_path: Path) -> None:
    result = cli("netbanking", "banks", "--data-dir", tmp_path / "data")
    assert result.code == 0
    for code, name in TEST_BANKS.items():
        assert code in result.out and name in result.out
    for login in TEST_ACCOUNTS:
        assert f"{login} " in result.out
    assert "Cancel button" in result.out
    as_json = json.loads(cli("netbanking", "banks", "--json").out)
    assert [b["code"] for b in as_json["banks"]] == list(TEST_BANKS)
    assert all(b["offered"] for b in as_json["banks"])
    assert {row["login"] for row in as_json["logins"]} == set(TEST_ACCOUNTS)
    assert not (tmp_path / "data").exists()


def test_test_cards_lists_the_net_banking_logins(cli) -> None:
    result = cli("test-cards")
    assert result.code == 0 and "NET BANKING LOGIN" in result.out
    assert "noreturn" in result.out and "paygate netbanking banks" in result.out


@pytest.mark.parametrize(
    ("config", "public"),
    [("", "http://127.0.0.1:8123"), ('[checkout]\npublic_url = "https://pay.example.in"\n',
                                     "https://pay.example.in")],
)  # fmt: skip
def test_serve_fills_the_public_url_from_its_address_when_unset(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str, public: str
) -> None:
    import paygate_cli.service as service

    seen = []
    monkeypatch.setattr(service, "serve_until_stopped", lambda *args: 0)
    opened = service.open_runtime
    monkeypatch.setattr(service, "open_runtime", lambda s: seen.append(opened(s)) or seen[-1])
    toml = tmp_path / "config.toml"
    toml.write_text(config, encoding="utf-8")
    result = cli("serve", "--port", "8123", "--config", toml, "--data-dir", tmp_path / "data")
    seen[0].close()
    assert result.code == 0, result.err
    assert seen[0].settings.checkout.public_url == public
