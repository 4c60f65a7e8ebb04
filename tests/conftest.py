"""Shared fixtures: isolated settings, an open Runtime, a frozen clock, CLI helpers."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pg_support import database_url, pg_database, pg_server, pg_url  # noqa: F401  (fixtures)
from support import CLI_SALE, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings, load_settings
from paygate_cli.main import main

IST = timezone(timedelta(hours=5, minutes=30), "IST")
START = datetime(2026, 11, 28, 10, 0, tzinfo=IST)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the user's real config, data dir and PAYGATE_* variables out of every test.

    Subprocesses started with `os.environ` inherit the same isolation.
    """
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("PAYGATE_"):
            monkeypatch.delenv(name)
    config = home / "empty-config.toml"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("PAYGATE_CONFIG", str(config))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    return home


@pytest.fixture
def clock() -> FixedClock:
    """A clock frozen at 2026-11-28 10:00 IST; tests move it with `advance`."""
    return FixedClock(START)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh data dir, business days in IST whatever the machine says."""
    return load_settings(data_dir=tmp_path / "data", timezone="Asia/Kolkata")


@pytest.fixture
def runtime(settings: Settings, clock: FixedClock) -> Iterator[Runtime]:
    """An open writer Runtime on `settings`; closed after the test (closing twice is fine)."""
    rt = open_runtime(settings, clock=clock)
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def paygate_cmd() -> list[str]:
    """The installed `paygate` console script of this interpreter, else `python -m`."""
    script = Path(sys.executable).parent / "paygate"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "paygate_cli.main"]


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `paygate_cli.main.main(argv)` in-process; argparse exits become exit codes."""

    def run(*argv: str | os.PathLike[str]) -> CliResult:
        capsys.readouterr()
        try:
            code = main([os.fspath(a) for a in argv])
        except SystemExit as exc:
            code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def data_dir(tmp_path: Path, cli: Callable[..., CliResult]) -> Path:
    """A data dir with one sale in it, made through `paygate charge`."""
    data = tmp_path / "data"
    assert cli("charge", *CLI_SALE, "--data-dir", data).code == 0
    return data
