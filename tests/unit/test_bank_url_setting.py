"""A bank URL that is not http(s)://HOST[:PORT] is refused before anything is stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway_core.settings import SettingsError, load_settings

BAD = [
    "ftp://127.0.0.1:8700",
    "127.0.0.1:8700",
    "http://",
    "http://:8700",
    "http://127.0.0.1:0",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:port",
    "http://user:secret@127.0.0.1:8700",
    "http://bank example",
    "",
]
CARD = ("--amount", "12.50", "--card", "4242 4242 4242 4242", "--exp", "12/30", "--cvv", "123")


@pytest.mark.parametrize("url", BAD)
def test_a_bad_bank_url_is_refused_and_nothing_is_stored(cli, tmp_path: Path, url: str) -> None:
    data = tmp_path / "data"
    done = cli("charge", *CARD, "--data-dir", data, "--bank-url", url)
    assert done.code == 2 and done.out == ""
    assert done.err.count("\n") == 1 and done.err.startswith("paygate: setting bank_url: ")
    assert "secret" not in done.err
    assert "Value error" not in done.err  # pydantic's wording stays out of a cashier's line
    assert not data.exists()


def test_a_bad_bank_url_in_the_environment_is_refused(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PAYGATE_BANK_URL", "tcp://127.0.0.1:8700")
    done = cli("charge", *CARD, "--data-dir", tmp_path / "data")
    assert done.code == 2 and "bank_url" in done.err
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("http://127.0.0.1:8700/", "http://127.0.0.1:8700"),
        ("https://banks.example.com/v1", "https://banks.example.com/v1"),
        ("http://[::1]:8700", "http://[::1]:8700"),
    ],
)
def test_a_good_bank_url_is_kept(url: str, kept: str) -> None:
    assert load_settings(bank_url=url).bank_url == kept


def test_the_refusal_names_the_setting_not_the_url() -> None:
    with pytest.raises(SettingsError, match=r"^setting bank_url: .*HOST"):
        load_settings(bank_url="http://user:secret@host")
