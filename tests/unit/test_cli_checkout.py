"""Payment links on the command line: `charge --method link` prints the pending link
with its page (JSON: next_action.url) and, on a plain data dir, one line saying to run
`paygate sandbox`; bad input is one line, exit 2, nothing made; `paygate checkout ID`
prints a payment's page and creates nothing; `paygate sandbox` refuses remote banks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from support import VISA, card_input, open_runtime

from gateway_core.clock import SystemClock
from gateway_core.links import pay_link
from gateway_core.settings import load_settings

LINK = ("charge", "--method", "link")
SANDBOX = "http://127.0.0.1:8765"


def files(data_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*"))


def test_a_link_is_printed_pending_with_its_page_and_the_sandbox_hint(cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli(*LINK, "--amount", "500", "--json", "--data-dir", data)
    assert result.code == 0, result.err
    payment = json.loads(result.out)
    url = f"{SANDBOX}/checkout/{payment['id']}"
    assert (payment["status"], payment["method"], payment["amount"]) == ("pending", "link", 500_00)
    assert payment["next_action"] == {
        "type": "redirect",
        "url": url,
        "link": None,
        "expires_at": payment["link"]["expires_at"],
    }
    assert result.err == (
        f"paygate: to open the page, serve this data dir: paygate sandbox --data-dir {data}"
        f"   (on {SANDBOX})\n"
    )
    text = cli(*LINK, "--amount", "1,250.50", "--data-dir", data)
    assert text.code == 0
    assert "PENDING  ₹1,250.50" in text.out
    assert "the customer pays ₹1,250.50 on the checkout page before" in text.out
    assert f"link {SANDBOX}/checkout/pay_" in text.out
    assert "▀" in text.out or "▄" in text.out  # the page's address as a QR


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (("--amount", "500", "--card", "4242424242424242"), "takes no --card"),
        (("--amount", "500", "--bank", "DEMOA"), "takes no --bank"),
        (("--amount", "500", "--vpa", "a@b", "--flow", "collect"), "takes no --vpa, --flow"),
        (("--amount", "500", "--capture", "manual"), "takes no --capture"),
        (("--amount", "0"), "amount"),
        (("--amount", "500", "--idempotency-key", "é"), "idempotency key"),
    ],
)
def test_bad_link_input_is_one_line_exit_2_and_creates_nothing(
    cli, tmp_path: Path, argv: tuple[str, ...], says: str
) -> None:
    data = tmp_path / "data"
    result = cli(*LINK, *argv, "--data-dir", data)
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("paygate: ") and result.err.count("\n") == 1
    assert says in result.err
    assert not data.exists() or files(data) == []


def test_checkout_prints_the_page_of_a_payment_and_creates_nothing(cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    link = json.loads(cli(*LINK, "--amount", "500", "--json", "--data-dir", data).out)
    sale = cli(
        *("charge", "--amount", "10", "--card", "4242424242424242", "--exp", "12/30"),
        *("--cvv", "123", "--json", "--data-dir", data),
    )
    sale_id = json.loads(sale.out)["id"]
    before = files(data)
    result = cli("checkout", link["id"], "--data-dir", data)
    assert (result.code, result.out) == (0, f"{SANDBOX}/checkout/{link['id']}\n")
    refused = cli("checkout", sale_id, "--data-dir", data)
    assert (refused.code, refused.err) == (
        2,
        f"paygate: payment {sale_id} has no checkout page (a card payment)\n",
    )
    unknown = cli("checkout", "pay_19900101_0123456789", "--data-dir", data)
    assert (unknown.code, unknown.err) == (2, "paygate: no payment pay_19900101_0123456789\n")
    assert files(data) == before


def test_the_sandbox_runs_the_banks_itself(cli, tmp_path: Path) -> None:
    result = cli("sandbox", "--bank-url", "http://127.0.0.1:1", "--data-dir", tmp_path / "d")
    assert (result.code, result.err) == (
        2,
        "paygate: the sandbox runs the banks in this process: leave out --bank-url\n",
    )


def test_status_shows_the_link_its_attempts_and_who_paid(cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    link = json.loads(cli(*LINK, "--amount", "500", "--json", "--data-dir", data).out)

    async def pay() -> str:
        rt = open_runtime(load_settings(data_dir=data), clock=SystemClock())
        try:
            return (await pay_link(rt.gateway, link["id"], "card", card_input(VISA))).id
        finally:
            await rt.aclose()

    attempt = asyncio.run(pay())
    status = cli("status", link["id"], "--data-dir", data)
    assert status.out.splitlines()[0] == "APPROVED  ₹500.00  Payment link"
    assert f"attempts {attempt}" in status.out
    assert f"paid by {attempt} (refunds go to it)" in status.out
    tried = cli("status", attempt, "--data-dir", data)
    assert f"a try at payment link {link['id']}" in tried.out
