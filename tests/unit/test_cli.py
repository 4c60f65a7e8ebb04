"""The `paygate` command line: version, help, exit codes and one-line errors."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from support import open_runtime

from bank_sim.demo import DEMO_CARDS
from gateway_core.cards import check_card
from gateway_core.clock import FixedClock, business_day
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def one_line_error(err: str) -> str:
    """The whole of stderr must be one line starting with "paygate:"; returns it."""
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert err.startswith("paygate: "), repr(err)
    return err.strip()


def run(cmd: list[str], *args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cmd, *map(os.fspath, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def all_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in ("paygate.lock", "writer.json")
    }


def tokenize_demo_cards(rt: Runtime, clock: FixedClock) -> None:
    for card in DEMO_CARDS[:3]:
        rt.vault.tokenize(check_card(card.as_input(), business_day(clock)).without_cvv())


# ---------------------------------------------------------------------------- basics
def test_version_in_process(cli) -> None:
    result = cli("--version")
    assert result.code == 0
    assert result.out == "paygate 0.1.0\n"


def test_version_of_the_installed_command(paygate_cmd: list[str]) -> None:
    done = run(paygate_cmd, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "paygate 0.1.0\n"


def test_help_lists_the_commands(cli) -> None:
    result = cli("--help")
    assert result.code == 0
    assert re.search(r"^\s+keys\s", result.out, re.M)
    assert re.search(r"^\s+audit\s", result.out, re.M)
    for flag in ("--data-dir", "--config", "--demo", "--version"):
        assert flag in result.out
    keys = cli("keys", "--help")
    assert keys.code == 0 and "rotate" in keys.out and "list" in keys.out
    audit = cli("audit", "verify", "--help")
    assert audit.code == 0 and "--data-dir" in audit.out


# ---------------------------------------------------------------------------- bad input: 2
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["frobnicate"], "invalid choice"),
        (["keys"], "required"),
        (["keys", "shred"], "invalid choice"),
        (["audit", "verify", "--no-such-flag"], "unrecognized arguments"),
        (["--reset"], "--reset only goes with --demo"),
    ],
)
def test_usage_errors_exit_2(cli, argv: list[str], message: str) -> None:
    result = cli(*argv)
    assert result.code == 2
    assert result.out == ""
    last = result.err.strip().splitlines()[-1]
    assert re.match(r"paygate( \w+)*: error: ", last) and message in last
    assert result.err.startswith("usage: paygate")


def test_missing_config_file_exits_2(cli, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = cli("--config", missing, "audit", "verify", "--data-dir", tmp_path / "d")
    assert result.code == 2
    line = one_line_error(result.err)
    assert str(missing) in line and "does not exist" in line


def test_config_file_with_invalid_toml_exits_2(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('currency = "INR\nmerchant_name = [\n', encoding="utf-8")
    # --config is accepted before or after the command
    for argv in (["--config", bad, "keys", "list"], ["keys", "list", "--config", bad]):
        result = cli(*argv, "--data-dir", tmp_path / "d")
        assert result.code == 2
        line = one_line_error(result.err)
        assert str(bad) in line and "not valid TOML" in line
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("toml", "named"), [('currency = "XYZ"', "currency"), ("curency = 'INR'", "curency")]
)
def test_invalid_or_unknown_setting_in_config_file_exits_2(cli, tmp_path, toml, named) -> None:
    config = tmp_path / "paygate.toml"
    config.write_text(toml + "\n", encoding="utf-8")
    result = cli("--config", config, "keys", "rotate", "--data-dir", tmp_path / "d")
    assert result.code == 2
    assert named in one_line_error(result.err)
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("PAYGATE_CURRENCY", "XYZ", "currency"),
        ("PAYGATE_MAX_AMOUNT__INR", "-5", "max_amount"),
        ("PAYGATE_TIMEZONE", "Mars/Olympus_Mons", "timezone"),
    ],
)
def test_invalid_setting_in_environment_exits_2(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, field: str
) -> None:
    monkeypatch.setenv(name, value)
    result = cli("keys", "rotate", "--data-dir", tmp_path / "d")
    assert result.code == 2
    line = one_line_error(result.err)
    assert field in line
    assert not (tmp_path / "d").exists()


def test_settings_from_config_file_are_used(cli, tmp_path: Path) -> None:
    data_dir = tmp_path / "from-config"
    config = tmp_path / "paygate.toml"
    config.write_text(f'data_dir = "{data_dir}"\n', encoding="utf-8")
    open_runtime(load_settings(data_dir=data_dir)).close()
    result = cli("--config", config, "keys", "rotate")
    assert result.code == 0, result.err
    assert "key version 2" in result.out


def test_keys_rotate_on_a_dir_without_data_exits_2_and_creates_nothing(cli, tmp_path) -> None:
    result = cli("keys", "rotate", "--data-dir", tmp_path / "empty")
    assert result.code == 2
    assert "no paygate data" in one_line_error(result.err)
    assert not (tmp_path / "empty").exists()


def test_missing_config_file_named_by_environment_exits_2(cli, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PAYGATE_CONFIG", str(tmp_path / "nope.toml"))
    result = cli("audit", "verify", "--data-dir", tmp_path)
    assert result.code == 2
    assert "nope.toml does not exist" in one_line_error(result.err)


@pytest.mark.parametrize("command", [["audit", "verify"], ["keys", "list"]])
def test_read_only_commands_on_a_dir_without_data_exit_2(cli, tmp_path: Path, command) -> None:
    for data_dir in (tmp_path / "does-not-exist", tmp_path):
        result = cli(*command, "--data-dir", data_dir)
        assert result.code == 2
        line = one_line_error(result.err)
        assert "no paygate data" in line and str(data_dir) in line
    assert not (tmp_path / "does-not-exist").exists()


# ---------------------------------------------------------------------------- failures: 1
def test_second_writer_is_refused_naming_the_holder(
    runtime: Runtime, settings: Settings, clock: FixedClock, paygate_cmd: list[str]
) -> None:
    tokenize_demo_cards(runtime, clock)
    done = run(paygate_cmd, "keys", "rotate", "--data-dir", settings.data_dir)
    assert done.returncode == 1, done.stdout + done.stderr
    line = one_line_error(done.stderr)
    assert f"pid {os.getpid()}" in line
    assert str(settings.data_dir) in line
    assert [v.version for v in runtime.keyring.versions] == [1]
    runtime.close()
    with open_runtime(settings, read_only=True) as rt:
        assert [v.version for v in rt.keyring.versions] == [1]


def test_readers_do_not_need_the_lock(runtime: Runtime, settings: Settings, cli) -> None:
    runtime.audit.record("cashier-1", "login")
    listed = cli("keys", "list", "--data-dir", settings.data_dir)
    assert listed.code == 0, listed.err
    verified = cli("audit", "verify", "--data-dir", settings.data_dir)
    assert verified.code == 0, verified.err
    assert "1 events verified" in verified.out


@pytest.mark.parametrize("unsafe", [0o640, 0o644])
def test_unsafe_key_file_stops_rotation_and_changes_nothing(
    runtime: Runtime, settings: Settings, clock: FixedClock, cli, unsafe: int
) -> None:
    tokenize_demo_cards(runtime, clock)
    runtime.audit.record("cashier-1", "login")
    runtime.close()
    key_file = settings.resolved_key_file
    key_file.chmod(unsafe)
    before = all_files(settings.data_dir)

    result = cli("keys", "rotate", "--data-dir", settings.data_dir)
    assert result.code == 1
    line = one_line_error(result.err)
    assert f"chmod 600 {key_file}" in line
    assert all_files(settings.data_dir) == before
    assert key_file.stat().st_mode & 0o777 == unsafe

    key_file.chmod(0o600)  # following the advice fixes it
    fixed = cli("keys", "rotate", "--data-dir", settings.data_dir)
    assert fixed.code == 0, fixed.err
    assert "3 vault tokens re-encrypted" in fixed.out


def test_damaged_key_file_exits_1(runtime: Runtime, settings: Settings, cli) -> None:
    runtime.audit.record("cashier-1", "login")
    runtime.close()
    settings.resolved_key_file.write_bytes(b"{garbage")
    result = cli("audit", "verify", "--data-dir", settings.data_dir)
    assert result.code == 1
    assert "damaged" in one_line_error(result.err)


@pytest.mark.parametrize("command", [["audit", "verify"], ["keys", "list"]])
def test_missing_key_file_is_not_recreated_by_readers(
    runtime: Runtime, settings: Settings, cli, command: list[str]
) -> None:
    runtime.audit.record("cashier-1", "login")
    runtime.close()
    settings.resolved_key_file.unlink()
    result = cli(*command, "--data-dir", settings.data_dir)
    assert result.code == 1
    line = one_line_error(result.err)
    assert "does not exist" in line and str(settings.resolved_key_file) in line
    assert not settings.resolved_key_file.exists()


def test_damaged_store_exits_1(runtime: Runtime, settings: Settings, cli) -> None:
    runtime.audit.record("cashier-1", "login")
    runtime.close()
    (settings.data_dir / "db" / "main.snapshot.json").write_bytes(b"{torn")
    result = cli("audit", "verify", "--data-dir", settings.data_dir)
    assert result.code == 1
    assert "damaged" in one_line_error(result.err)


def test_no_traceback_for_any_error_in_a_subprocess(paygate_cmd: list[str], tmp_path: Path):
    done = run(paygate_cmd, "audit", "verify", "--data-dir", tmp_path / "none")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "no paygate data" in one_line_error(done.stderr)


def test_a_torn_journal_is_reported_as_a_warning_and_audited(cli, settings) -> None:
    rt = open_runtime(settings)
    rt.audit.record("cashier-1", "login")
    os.close(rt.store.main.journal.wal._fd)  # crash: no compaction, lock freed with the fd
    rt.store._lock.release()
    journal = settings.data_dir / "db" / "wal.jsonl"
    journal.write_bytes(journal.read_bytes()[:-7])
    result = cli("keys", "rotate", "--data-dir", settings.data_dir)
    assert result.code == 0, result.err
    assert "warning: wal.jsonl: dropped a torn last entry" in result.err
    with open_runtime(settings, read_only=True) as ro:
        actions = [event["action"] for _day, event in ro.audit._repo.events()]
        assert ro.audit.verify().ok
    assert "store.recovered" in actions
