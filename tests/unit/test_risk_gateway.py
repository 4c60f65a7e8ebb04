"""The risk rules on real payments, and the users and risk commands."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import SecretStr
from support import latest_otp, open_runtime

from gateway_core.access import Access
from gateway_core.cards import CardInput
from gateway_core.gateway import ChargeRequest
from gateway_core.runtime import Runtime
from gateway_core.settings import load_settings
from gateway_core.store.state import TinyUserRepository

LOW_FUNDS = "4000 0000 0000 9995"  # balance ₹10.00: anything above declines 51
VISA = "4242 4242 4242 4242"
AMEX = "3782 822463 10005"


def charge(pan: str, amount: int, terminal: str | None = None) -> ChargeRequest:
    cvv = "1234" if pan == AMEX else "123"
    card = CardInput(pan=SecretStr(pan), expiry="12/30", cvv=SecretStr(cvv))
    return ChargeRequest(amount=amount, currency="INR", card=card, terminal_id=terminal)


def charge_argv(pan: str, amount: str, data: Path) -> tuple:
    """`paygate charge` of `amount` rupees on the card, into the data dir `data`."""
    card = ("--card", pan, "--exp", "12/30", "--cvv", "123")
    return ("charge", "--amount", amount, *card, "--data-dir", data)


OWNER = ("--admin", "owner", "--admin-pin", "9876")  # the demo merchant admin approves


async def test_repeated_declines_block_the_card_without_the_bank(runtime: Runtime, clock):
    gw = runtime.gateway
    for _ in range(3):
        assert (await gw.charge(charge(LOW_FUNDS, 20_00))).response_code == "51"
        clock.advance(minutes=1)
    blocked = await gw.charge(charge(LOW_FUNDS, 5_00))
    assert (blocked.status, blocked.decline_code, blocked.response_code) == (
        "declined",
        "blocked_by_risk",
        None,
    )
    assert blocked.risk.rule == "repeated_declines"
    assert "repeated_declines" in blocked.message
    assert runtime.banks.acquirer.record(blocked.id) is None  # no bank was contacted
    assert await gw.bank.frames(blocked.id) == []
    actions = [e["action"] for _d, e in runtime.audit._repo.events() if e["subject"] == blocked.id]
    assert actions == ["payment.created", "payment.blocked"]
    assert (await gw.charge(charge(VISA, 5_00))).status == "succeeded"  # other cards go on


async def test_card_testing_burst_pauses_the_terminal(runtime: Runtime, clock):
    gw = runtime.gateway
    decliners = [
        "4000 0000 0000 0002",
        "4000 0000 0000 9987",
        "4000 0000 0000 9979",
        "4000 0000 0000 0127",
        LOW_FUNDS,
    ]
    for pan in decliners:
        assert (await gw.charge(charge(pan, 20_00))).status == "declined"
        clock.advance(seconds=40)
    paused = await gw.charge(charge(VISA, 1_00))
    assert (paused.decline_code, paused.risk.rule) == ("blocked_by_risk", "card_testing")
    other = await gw.charge(charge(VISA, 1_00, terminal="TERM0002"))
    assert other.status == "succeeded"
    clock.advance(minutes=15)
    assert (await gw.charge(charge(VISA, 1_00))).status == "succeeded"


async def test_step_up_threshold_sends_the_payment_to_otp(runtime: Runtime):
    gw = runtime.gateway
    payment = await gw.charge(charge(VISA, 6_000_00))
    assert (payment.status, payment.risk.action, payment.risk.rule) == (
        "requires_action",
        "otp",
        "step_up_threshold",
    )
    payment = await gw.confirm_otp(payment.id, await latest_otp(gw))
    assert (payment.status, payment.amount_captured) == ("succeeded", 6_000_00)
    small = await gw.charge(charge(VISA, 4_999_00))
    assert small.status == "succeeded" and small.risk.score == 0


async def test_foreign_card_is_flagged_for_review_and_approved(runtime: Runtime):
    payment = await runtime.gateway.charge(charge(AMEX, 10_00))
    assert payment.status == "succeeded"
    assert payment.risk.review and payment.risk.rule == "foreign_card"
    assert payment.risk.score == 25


def test_risk_commands(cli, tmp_path):
    data = tmp_path / "d"
    for _ in range(3):
        result = cli(*charge_argv(LOW_FUNDS, "20", data), "--json")
        assert result.code == 0
    blocked = cli(*charge_argv(LOW_FUNDS, "1", data), "--json")
    payment = json.loads(blocked.out)
    assert payment["decline_code"] == "blocked_by_risk"
    explain = cli("risk", "explain", payment["id"], "--data-dir", data)
    assert explain.code == 0
    assert "decided by repeated_declines: card blocked until 00:00" in explain.out
    assert "+80  repeated_declines" in explain.out
    blocks = cli("risk", "blocks", "--data-dir", data)
    assert "card" in blocks.out and "repeated_declines: 3 declines today" in blocks.out
    rules = cli("risk", "rules", "--data-dir", data)
    assert "OTP above ₹5,000.00" in rules.out and "card_testing" in rules.out
    assert cli("risk", "explain", "pay_20261128_nothing000", "--data-dir", data).code == 2


def test_user_commands_need_an_admin(cli, tmp_path, clock):
    data = tmp_path / "d"
    assert cli(*charge_argv(VISA, "1", data)).code == 0
    add = ("users", "add", "kiran", "--role", "cashier", "--pin", "5555", "--data-dir", data)
    for approval, message in (
        ((), "a merchant admin must approve"),
        (("--admin", "meera", "--admin-pin", "4321"), "an admin must approve"),
        (("--admin", "owner", "--admin-pin", "0000"), "wrong PIN"),
    ):
        result = cli(*add, *approval)
        assert result.code == 2 and message in result.err
    assert "kiran" not in cli("users", "list", "--data-dir", data).out
    assert cli(*add, *OWNER).code == 0
    bad_pin = cli("users", "reset-pin", "kiran", "--pin", "12", *OWNER, "--data-dir", data)
    assert bad_pin.code == 2 and "4 to 8 digits" in bad_pin.err
    assert cli("users", "lock", "kiran", *OWNER, "--data-dir", data).code == 0
    assert "locked until" in cli("users", "list", "--data-dir", data).out
    assert cli("users", "unlock", "ghost", *OWNER, "--data-dir", data).code == 2


def test_a_user_added_by_command_can_log_in(cli, tmp_path):
    pin = "5555"
    data = tmp_path / "d"
    cli(*charge_argv(VISA, "1", data))
    cli("users", "add", "kiran", "--pin", pin, *OWNER, "--data-dir", data)
    with open_runtime(load_settings(data_dir=data)) as rt:
        assert (
            Access(TinyUserRepository(rt.store), rt.audit, rt.clock).login("kiran", pin).role
            == "cashier"
        )
