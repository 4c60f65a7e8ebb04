"""`--date` is read by one parser everywhere (CLI and API): edge dates and garbage are
one line and exit 2, and nothing is created for them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

EDGES = [
    "0001-01-01",
    "9999-12-31",
    "9999-12-30",
    "1999-12-31",
    "3000-01-01",
    "garbage",
    "2026-02-30",
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from paygate_cli.main import main

    home = tmp_path_factory.mktemp("dates")
    (home / "empty.toml").write_text("", encoding="utf-8")
    card = ["--card", "4242424242424242", "--exp", "12/30", "--cvv", "123"]
    with pytest.MonkeyPatch.context() as mp:  # as isolated_env, for the whole module
        mp.setenv("PAYGATE_CONFIG", str(home / "empty.toml"))
        mp.setenv("XDG_CONFIG_HOME", str(home / "config"))
        mp.setenv("XDG_DATA_HOME", str(home / "share"))
        assert main(["charge", "--amount", "10", *card, "--data-dir", str(home / "data")]) == 0
    return home / "data"


def files(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "db" / "days").iterdir())


@pytest.mark.parametrize("day", EDGES)
@pytest.mark.parametrize(
    "command", [("list",), ("report", "x"), ("reconcile",), ("export",), ("settle",)]
)
def test_an_edge_or_malformed_date_is_one_line_and_exit_2(
    cli: Callable, data_dir: Path, command: tuple[str, ...], day: str
) -> None:
    before = files(data_dir)
    result = cli(*command, "--date", day, "--data-dir", data_dir)
    assert result.code == 2, result.err
    assert result.err.startswith("paygate: ") and result.err.count("\n") == 1
    assert files(data_dir) == before


def test_the_range_ends_are_business_days() -> None:
    from gateway_core.settlement import FIRST_DAY, LAST_DAY, parse_day

    assert parse_day(FIRST_DAY.isoformat()) == FIRST_DAY
    assert parse_day(f" {LAST_DAY.isoformat()} ") == LAST_DAY


def test_an_idempotency_key_that_is_not_printable_ascii_is_refused_by_charge(
    cli: Callable, tmp_path: Path
) -> None:
    card = ("--card", "4242424242424242", "--exp", "12/30", "--cvv", "123")
    for key in ("clé", "x" * 256, "tab\there"):
        result = cli(
            "charge",
            "--amount",
            "10",
            *card,
            "--idempotency-key",
            key,
            "--data-dir",
            tmp_path / "data",
        )
        assert result.code == 2 and "printable ASCII" in result.err
    assert not (tmp_path / "data").exists()
