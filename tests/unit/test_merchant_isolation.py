"""Two merchants on one gateway: each has its own users, risk state, OTP texts, reports,
closing, reconciliation and account at the acquirer, through the HTTP API and the CLI.

The home merchant is the settings' `merchant_id`; the other one is boarded at the
acquirer when its first terminal key is issued.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from app_support import (
    PANS,
    build_app,
    drive,
    login,
    on_screen,
    press,
    sale,
    wait_for,
    widget_text,
)
from console_support import open_console, tab
from server_support import issue, start
from support import OTP_RE, VISA, BankServer, charge, gateway_settings, open_runtime

from bank_sim.testcards import card_for
from gateway_core.bank_client import BankClient
from gateway_core.clock import FixedClock
from gateway_core.payments import payment_day
from gateway_core.risk_models import RiskLimits
from gateway_core.runtime import Runtime
from gateway_core.service.app import board_merchants, create_app
from gateway_core.service.keys import ApiKeys
from gateway_core.settings import load_settings
from gateway_core.settlement import Settlement

HOME, OTHER = "PAYGATEDEMO0001", "OTHERSHOP01"
DECLINE = card_for("4000 0000 0000 0002")
OTP_CARD = card_for("4000 0000 0000 3220")
OWNER = ("--admin", "owner", "--admin-pin", "9876")  # the home merchant's admin


@dataclass
class Two:
    client: httpx.AsyncClient
    rt: Runtime
    secrets: dict[str, str]

    async def pay(self, who: str, card=VISA, **kw) -> httpx.Response:
        body = {"amount": 100_00, "card": {"number": card.pan, "expiry": "12/30", "cvv": card.cvv}}
        return await self.call("POST", "/v1/payments", who, {**body, **kw})

    async def call(self, method: str, path: str, who: str, body=None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.secrets[who]}"}
        return await self.client.request(method, path, json=body, headers=headers)

    def settlement(self, merchant: str) -> Settlement:
        rt = self.rt
        return Settlement(
            rt.records, rt.settings, audit=rt.audit, clock=rt.clock, merchant_id=merchant
        )


async def _two(data: Path, clock: FixedClock, risk: RiskLimits) -> AsyncIterator[Two]:
    settings = gateway_settings(data, 5.0).model_copy(update={"risk": risk})
    rt = open_runtime(settings, clock=clock)
    keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
    issued = {
        "home": keys.issue(HOME, "TERM0001", actor="owner")[1],
        "other": keys.issue(OTHER, "TERM0001", actor="owner")[1],
    }
    await board_merchants(rt.gateway.bank, keys)  # as the server's start does
    transport = httpx.ASGITransport(app=create_app(rt, repair_on_start=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield Two(client, rt, issued)
    finally:
        await rt.aclose()


@pytest.fixture
async def two(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Two]:
    async for world in _two(tmp_path / "data", clock, RiskLimits.relaxed()):
        yield world


@pytest.fixture
async def two_strict(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Two]:
    async for world in _two(tmp_path / "data", clock, RiskLimits()):
        yield world


async def test_a_merchant_boarded_with_its_key_is_paid_into_its_own_account(two: Two) -> None:
    home = (await two.pay("home")).json()
    theirs = (await two.pay("other")).json()
    assert (home["response_code"], theirs["response_code"]) == ("00", "00")
    ledger, acquirer = two.rt.banks.ledger, two.rt.banks.acquirer
    assert ledger.balance(f"merchant:{OTHER}") == 100_00
    assert ledger.balance(acquirer.merchant_account) == 100_00
    assert acquirer.terminals("NOTBOARDED") == set()
    two.rt.access.of(OTHER).add("boss", "Boss", "admin", "2468", actor="test")
    approval = {"approver_id": "boss", "pin": "2468"}
    body = {"terminal_id": "TERM0042", "approval": approval}
    issued = (await two.call("POST", "/v1/terminals", "other", body)).json()
    two.secrets["new"] = issued["secret"]
    assert (await two.pay("new")).json()["response_code"] == "00"
    assert acquirer.terminals(OTHER) == {"TERM0001", "TERM0042"}


async def test_a_merchant_cannot_use_or_see_another_merchants_users(two: Two) -> None:
    asha = {"user_id": "asha", "pin": "1111"}  # a demo cashier of the home merchant
    assert (await two.call("POST", "/v1/login", "home", asha)).status_code == 200
    refused = await two.call("POST", "/v1/login", "other", asha)
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "no user 'asha'"
    as_operator = await two.pay("other", operator="asha")
    assert as_operator.status_code == 400 and "no user 'asha'" in as_operator.text
    theirs = (await two.pay("other", capture_method="manual")).json()
    manager = {"approval": {"approver_id": "meera", "pin": "4321"}}  # the home manager
    void = await two.call("POST", f"/v1/payments/{theirs['id']}/void", "other", manager)
    assert void.status_code == 403 and void.json()["error"]["code"] == "unknown_user"
    two.rt.access.of(OTHER).add("meera", "Meera (other shop)", "manager", "5555", actor="test")
    mine = {"approval": {"approver_id": "meera", "pin": "5555"}}
    void = await two.call("POST", f"/v1/payments/{theirs['id']}/void", "other", mine)
    assert void.json()["status"] == "canceled"
    assert two.rt.access.login("meera", "4321").role == "manager"  # the home one unchanged
    users = two.rt.store.main.table("users")  # the home merchant's written as before
    assert [d.get("merchant_id") for d in users if d["id"] == "meera"] == [None, OTHER]


async def test_one_merchants_declines_do_not_block_a_card_at_another(two_strict: Two) -> None:
    two = two_strict
    codes = [(await two.pay("home", DECLINE)).json() for _ in range(4)]
    assert [p["response_code"] for p in codes[:3]] == ["05"] * 3
    assert codes[3]["decline_code"] == "blocked_by_risk"  # blocked at the home merchant
    theirs = (await two.pay("other", DECLINE)).json()
    assert theirs["decline_code"] != "blocked_by_risk" and theirs["response_code"] == "05"
    assert two.rt.gateway.risk.blocks(OTHER) == []
    assert [b.scope for b in two.rt.gateway.risk.blocks()] == ["card"]


async def test_a_merchant_reads_only_its_own_customers_otp_texts(two: Two) -> None:
    mine = (await two.pay("home", OTP_CARD)).json()
    assert mine["status"] == "requires_action"
    assert (await two.call("GET", "/v1/demo/outbox", "other")).json() == []
    (home_sms,) = (await two.call("GET", "/v1/demo/outbox", "home")).json()
    assert "Paygate Demo Store" in home_sms["text"]
    theirs = (await two.pay("other", OTP_CARD)).json()
    assert theirs["status"] == "requires_action"
    (sms,) = (await two.call("GET", "/v1/demo/outbox", "other")).json()
    assert OTHER in sms["text"] and OTP_RE.search(sms["text"])
    assert len((await two.call("GET", "/v1/demo/outbox", "home")).json()) == 1


async def test_closing_one_merchants_day_leaves_the_other_open(two: Two) -> None:
    await two.pay("home")
    await two.pay("other")
    home = Settlement(two.rt.records, two.rt.settings, audit=two.rt.audit, clock=two.rt.clock)
    assert home.x_report().activity.payments == 1
    home_z, _ = home.close_day(home.today(), closed_by="meera")
    assert (home_z.number, home_z.merchant_id, home_z.activity.payments) == (1, HOME, 1)
    refused = await two.pay("home")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "day_closed"
    assert (await two.pay("other")).json()["status"] == "succeeded"
    report = (await two.call("GET", "/v1/reports/x", "other")).json()
    assert (report["closed_as"], report["totals"][0]["count"]) == (None, 2)
    other = two.settlement(OTHER)
    other_z, _ = other.close_day(other.today(), closed_by="owner")
    assert (other_z.number, other_z.merchant_id, other_z.totals[0].count) == (1, OTHER, 2)
    assert other_z.payouts[0].reference != home_z.payouts[0].reference
    for svc, matched in ((home, 1), (other, 2)):
        rec = await svc.reconcile(other.today(), two.rt.gateway.bank)
        assert rec.ok and rec.summary()["matched"]["count"] == matched
    main = two.rt.store.main  # the home merchant's Z where it always was
    assert [d["merchant_id"] for d in main.table("closings")] == [HOME]
    assert [d["merchant_id"] for d in main.table(f"closings.{OTHER}")] == [OTHER]


async def test_one_merchants_z_moves_on_only_its_own_business_day(
    two: Two, clock: FixedClock
) -> None:
    home, other = two.settlement(HOME), two.settlement(OTHER)
    day = home.today()
    await two.pay("home")
    home.close_day(day, closed_by="meera")
    clock.advance(minutes=1)  # after the home merchant's Z: its sales count on the next day
    mine = (await two.pay("home")).json()
    theirs = (await two.pay("other")).json()
    assert payment_day(mine["id"]) == day + timedelta(days=1) == home.today()
    assert payment_day(theirs["id"]) == day == other.today()  # its day is still open
    other_z, _ = other.close_day(day, closed_by="owner")
    assert other_z.activity.payments == 1
    assert (await other.reconcile(day, two.rt.gateway.bank)).ok


def test_local_commands_choose_the_merchant(cli, tmp_path: Path) -> None:
    data = ("--data-dir", tmp_path / "d")
    charge = ("charge", "--amount", "10", "--card", VISA.pan, "--exp", "12/30", "--cvv", "123")
    assert cli(*charge, *data).code == 0
    unknown = cli("users", "list", "--merchant", "SHOP2", *data)
    assert unknown.code == 2 and "no merchant SHOP2" in unknown.err
    pan = cli("report", "x", "--merchant", "378282246310005", *data)  # an Amex number
    assert pan.code == 2 and "378282246310005" not in pan.err
    bad = cli("users", "list", "--merchant", "no such!", *data)
    assert (bad.code, bad.err) == (2, "paygate: a merchant id is 1 to 15 letters or digits\n")
    added = cli("terminals", "add", "--merchant", "SHOP2", "--terminal", "T1", *OWNER, *data)
    assert added.code == 0
    assert cli("users", "list", "--merchant", "SHOP2", *data).out.split("\n")[1:] == [""]
    boss = ("users", "add", "boss", "--role", "admin", "--pin", "2468", "--merchant", "SHOP2")
    assert cli(*boss, *OWNER, *data).code == 0  # its first admin: the home admin approves
    clerk = ("users", "add", "clerk", "--pin", "1357", "--merchant", "SHOP2")
    assert cli(*clerk, *OWNER, *data).code == 2  # now only its own admins approve
    assert cli(*clerk, "--admin", "boss", "--admin-pin", "2468", *data).code == 0
    assert "boss" not in cli("users", "list", *data).out
    assert "asha" not in cli("users", "list", "--merchant", "SHOP2", *data).out
    home = cli("report", "x", "--json", *data)
    shop2 = cli("report", "x", "--json", "--merchant", "SHOP2", *data)
    assert '"payments": 1' in home.out and '"payments": 0' in shop2.out
    assert '"merchant_id": "SHOP2"' in shop2.out
    assert cli("risk", "blocks", "--merchant", "SHOP2", *data).out == "nothing is blocked now\n"
    remote = cli("report", "x", "--merchant", "SHOP2", "--gateway-url", "http://127.0.0.1:9")
    assert (remote.code, remote.err) == (
        2,
        "paygate: with --gateway-url, the report is of the merchant of --api-key\n",
    )
    with open_runtime(load_settings(data_dir=tmp_path / "d"), read_only=True) as rt:
        assert [u.id for u in rt.access.list()] == ["asha", "ravi", "meera", "owner"]
        assert [u.id for u in rt.access.of("SHOP2").list()] == ["boss", "clerk"]


def test_a_merchant_is_boarded_at_banks_in_their_own_process(cli, tmp_path: Path) -> None:
    server = BankServer(tmp_path / "banks", timeout_fault_s=5.0, slow_fault_s=1.0)
    url = server.start()
    data = ("--data-dir", tmp_path / "d", "--bank-url", url)
    add = ("terminals", "add", "--merchant", "SHOP2", *OWNER, *data)
    try:
        assert cli(*add, "--terminal", "T1").code == 0
        assert asyncio.run(_boarded(url, "SHOP2")) == ["T1"]  # kept by the acquirer
    finally:
        server.stop()
    refused = cli(*add, "--terminal", "T2")  # the acquirer is out of reach: no key
    assert refused.code == 1 and "bank" in refused.err
    assert "T2" not in cli("terminals", "list", *data[:2]).out


async def _boarded(url: str, merchant_id: str) -> list[str]:
    bank = BankClient.remote(url)
    try:
        return (await bank.board(merchant_id, [])).terminal_ids
    finally:
        await bank.close()


def test_paygate_serve_takes_sales_of_every_merchant_with_a_key(
    cli, paygate_cmd: list[str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shop2 = issue(cli, data, "T1", merchant="SHOP2")  # boarded as its key is issued
    with open_runtime(load_settings(data_dir=data)) as rt:  # a key from before boarding
        shop3 = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock).issue(
            "SHOP3", "T1", actor="t"
        )
    server = start(paygate_cmd, data)  # boards every merchant with a key as it starts
    try:
        for secret in (shop2, shop3[1]):
            headers = {"Authorization": f"Bearer {secret}"}
            card = {"number": VISA.pan, "expiry": "12/30", "cvv": VISA.cvv}
            sale = httpx.post(
                f"{server.url}/v1/payments", json={"amount": 100, "card": card}, headers=headers
            )
            assert sale.json()["response_code"] == "00", sale.text
            login = {"user_id": "asha", "pin": "1111"}
            assert (
                httpx.post(f"{server.url}/v1/login", json=login, headers=headers).status_code == 403
            )
    finally:
        assert server.stop() == 0


async def test_the_terminal_and_console_show_only_their_merchants_day(
    settings, clock: FixedClock, tmp_path: Path
) -> None:
    app = build_app(settings, clock, tmp_path / "config")
    await app.rt.gateway.bank.board(OTHER, ["TERM0001"])
    theirs = await app.rt.gateway.charge(charge(VISA, merchant_id=OTHER, terminal_id="TERM0001"))
    assert theirs.status == "succeeded"  # in the acquirer's clearing file of the day
    async with drive(app) as pilot:
        await login(pilot)
        await sale(pilot, "120", PANS["approve"])
        await press(pilot, "enter", "f2")
        await on_screen(pilot, "TodayScreen")
        await wait_for(pilot, lambda: len(app.screen.payments) > 0)
        assert [p.merchant_id for p in app.screen.payments] == [HOME]
        await press(pilot, "escape")
        await open_console(pilot)
        await on_screen(pilot, "MerchantScreen")
        await wait_for(pilot, lambda: pilot.app.screen.data is not None)
        await tab(pilot, "settlement")
        await press(pilot, "r")
        note = lambda: widget_text(app, "#settle-note")  # noqa: E731
        await wait_for(pilot, lambda: note().startswith(("Reconciled", "1 reconciliation")))
        assert note() == "Reconciled: no breaks"
