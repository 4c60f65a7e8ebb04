"""The most one payment may be is set per currency in major units: ¥200,000 is not
¥10,000,000 because the rupee cap is 1,00,00,000 paise."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import VISA, World, charge, open_world

from gateway_core.clock import FixedClock
from gateway_core.currencies import CURRENCIES
from gateway_core.errors import InputError
from gateway_core.money import AmountTooLarge, parse_amount
from gateway_core.settings import DEFAULT_MAX_AMOUNT, SettingsError, load_settings


def test_every_currency_has_a_cap_in_its_own_units() -> None:
    settings = load_settings()
    assert set(DEFAULT_MAX_AMOUNT) == set(CURRENCIES)
    assert settings.max_minor("INR") == 1_00_000_00  # ₹1,00,000.00, as before
    assert settings.max_minor("JPY") == 200_000  # no minor unit
    assert settings.max_minor("KWD") == 400_000  # 3 decimals
    assert settings.max_minor("usd") == 1_200_00


@pytest.mark.parametrize(
    ("text", "currency", "shown"),
    [("300000", "JPY", "¥200,000"), ("500", "KWD", "KWD 400.000"), ("1300", "USD", "$1,200.00")],
)
def test_an_amount_above_its_currency_cap_is_refused(text: str, currency: str, shown: str) -> None:
    settings = load_settings()
    with pytest.raises(AmountTooLarge, match=re.escape(f"cannot be more than {shown}")):
        parse_amount(text, currency, max_minor=settings.max_minor(currency))


@pytest.fixture
async def world(tmp_path: Path, clock: FixedClock) -> AsyncIterator[World]:
    async with open_world(tmp_path / "data", clock, 1.0) as opened:
        yield opened


async def test_the_gateway_refuses_yen_above_the_yen_cap(world: World) -> None:
    with pytest.raises(InputError, match="above the terminal's maximum of ¥200,000"):
        await world.gw.charge(charge(VISA, 300_000).model_copy(update={"currency": "JPY"}))
    assert world.gw.list_day() == []


def test_cli_charge_in_yen_above_the_cap_exits_2_and_stores_nothing(cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = cli("charge", "--data-dir", data, "--currency", "JPY", "--amount", "300000",
               "--card", VISA.pan, "--exp", "12/30", "--cvv", VISA.cvv)  # fmt: skip
    assert (done.code, done.out) == (2, "")
    assert done.err == "paygate: the amount cannot be more than ¥200,000\n"
    assert not data.exists()


def test_a_cap_set_for_one_currency_keeps_the_others(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[max_amount]\njpy = 500000\n", encoding="utf-8")
    monkeypatch.setenv("PAYGATE_MAX_AMOUNT__KWD", "1000")
    settings = load_settings(config)
    assert (settings.max_minor("JPY"), settings.max_minor("KWD")) == (500_000, 1_000_000)
    assert settings.max_minor("INR") == 1_00_000_00


@pytest.mark.parametrize(
    "caps", [{"JPY": 0}, {"INR": -5}, {"XYZ": 100}, {"KWD": 10**9}, {"JPY": "1.5"}]
)
def test_a_bad_cap_is_a_settings_error(caps: dict) -> None:
    with pytest.raises(SettingsError, match=r"^setting max_amount"):
        load_settings(max_amount=caps)


def test_the_old_minor_unit_cap_in_the_environment_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("PAYGATE_MAX_AMOUNT_MINOR", "50000")  # a ₹500 cap must not lapse
    with pytest.raises(SettingsError, match="PAYGATE_MAX_AMOUNT__INR"):
        load_settings()
