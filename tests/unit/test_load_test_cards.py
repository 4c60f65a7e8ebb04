"""The load-test range: every Luhn-valid 16-digit PAN starting 499999 approves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from support import open_runtime

from gateway_core.cards import (
    CardInput,
    LuhnFailed,
    is_load_test_pan,
    load_test_pan,
    luhn_valid,
)
from gateway_core.gateway import ChargeRequest
from gateway_core.risk_models import RiskLimits
from gateway_core.runtime import Runtime
from gateway_core.settings import load_settings


def sale(pan: str, amount: int = 1_00) -> ChargeRequest:
    card = CardInput(pan=SecretStr(pan), expiry="12/30", cvv=SecretStr("123"))
    return ChargeRequest(amount=amount, currency="INR", card=card)


def load_accounts(rt: Runtime) -> list[dict]:
    return [a for a in rt.banks.issuers.accounts() if a["id"].startswith("load_")]


def test_the_range_is_the_luhn_valid_16_digit_numbers_under_499999() -> None:
    pans = [load_test_pan(n) for n in (0, 1, 42, 999_999_999)]
    assert pans[:2] == ["4999990000000007", "4999990000000015"]
    assert all(len(p) == 16 and luhn_valid(p) and is_load_test_pan(p) for p in pans)
    assert not is_load_test_pan("4999990000000005")  # not Luhn-valid
    assert not is_load_test_pan("4242424242424242")  # another BIN
    assert not is_load_test_pan(load_test_pan(7)[:-1] + "00")  # 17 digits
    with pytest.raises(ValueError):
        load_test_pan(10**9)


@pytest.fixture
def relaxed(tmp_path: Path, clock) -> Iterator[Runtime]:
    """A runtime whose risk rules never decline nor ask for an OTP."""
    settings = load_settings(
        data_dir=tmp_path / "data", timezone="Asia/Kolkata", risk=RiskLimits.relaxed()
    )
    with open_runtime(settings, clock=clock) as rt:
        yield rt


async def test_cards_of_the_range_approve_each_its_own_account(relaxed: Runtime) -> None:
    pans = [load_test_pan(n) for n in (0, 1, 123_456_789)]
    for pan in pans:
        payment = await relaxed.gateway.charge(sale(pan, 75_000_00))  # over ₹50,000, no OTP
        assert (payment.status, payment.response_code) == ("succeeded", "00"), pan
    accounts = load_accounts(relaxed)
    assert len(accounts) == 3
    assert all(a["available"] == 1_00_00_000_00 - 75_000_00 for a in accounts)
    assert all(pan not in repr(accounts) for pan in pans)  # only the mask is kept
    assert (await relaxed.gateway.charge(sale(pans[0]))).status == "succeeded"
    assert len(load_accounts(relaxed)) == 3  # its account, not a new one
    assert relaxed.banks.check().ok


async def test_a_number_of_the_range_that_fails_luhn_is_refused_as_today(runtime) -> None:
    with pytest.raises(LuhnFailed):
        await runtime.gateway.charge(sale("4999990000000005"))
    assert runtime.banks is None or not load_accounts(runtime)  # no bank was contacted


async def test_one_card_of_the_range_approves_100_sales_a_day(relaxed: Runtime) -> None:
    """No daily count at the issuer (its demo cards stop at 50) and, with relaxed risk
    limits, none at the gateway."""
    for n in range(100):
        payment = await relaxed.gateway.charge(sale(load_test_pan(5), 1_00 + n))
        assert payment.status == "succeeded", (n, payment.message)


def test_test_cards_tells_how_to_make_one(cli) -> None:
    out = cli("test-cards").out
    line = next(line for line in out.splitlines() if line.startswith("Load tests"))
    assert "499999 + 9 digits + the Luhn digit" in line
    assert load_test_pan(0) in line and load_test_pan(1) in line and "12/30" in line
