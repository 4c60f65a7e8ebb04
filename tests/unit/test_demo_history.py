"""The demo's first-start history: as real as a shop's week (the books balance, the audit
chain holds, every day reconciles with the acquirer), yet written in bulk: no HTTP to the
embedded banks, one fdatasync per journal, the manager's PIN checked with argon2 once."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from support import open_runtime

from bank_sim.demo import seed_demo_history
from gateway_core.settings import load_settings
from gateway_core.settlement import Settlement
from paygate_cli.terminal import DEMO_DAYS, DEMO_PER_DAY

IST = timezone(timedelta(hours=5, minutes=30), "IST")
NOW = datetime(2026, 11, 20, 19, 30, tzinfo=IST)  # a Friday evening: today nearly full
DAYS = [NOW.date() - timedelta(days=n) for n in range(DEMO_DAYS - 1, -1, -1)]


class Seeded:
    """A demo data dir seeded as a first start seeds it, and what the seeding did."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.fdatasyncs = 0
        self.http_requests: list[str] = []
        self.argon2_checks = 0


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    home = tmp_path_factory.mktemp("demo-home")
    out = Seeded(home / "demo")
    fdatasync, send, verify = os.fdatasync, httpx.AsyncClient.send, PasswordHasher.verify

    def counted_fdatasync(fd: int) -> None:
        out.fdatasyncs += 1
        fdatasync(fd)

    async def counted_send(self, request, **kw):
        out.http_requests.append(f"{request.method} {request.url.path}")
        return await send(self, request, **kw)

    def counted_verify(self, hash, password):
        out.argon2_checks += 1
        return verify(self, hash, password)

    with pytest.MonkeyPatch.context() as mp:
        (home / "config.toml").write_text("", encoding="utf-8")
        mp.setenv("PAYGATE_CONFIG", str(home / "config.toml"))
        mp.setattr(os, "fdatasync", counted_fdatasync)
        mp.setattr(httpx.AsyncClient, "send", counted_send)
        mp.setattr(PasswordHasher, "verify", counted_verify)
        settings = load_settings(data_dir=out.data_dir, timezone="Asia/Kolkata")
        out.summary = seed_demo_history(settings, days=DEMO_DAYS, per_day=DEMO_PER_DAY, now=NOW)
    return out


@pytest.fixture
def demo_env(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> Seeded:
    monkeypatch.setenv("PAYGATE_DATA_DIR", str(seeded.data_dir))
    monkeypatch.setenv("PAYGATE_TIMEZONE", "Asia/Kolkata")
    return seeded


def test_the_demo_week_has_its_days_sales_and_closings(seeded: Seeded) -> None:
    summary = seeded.summary
    assert summary.days == DAYS
    # every past day but the last is closed, with Z reports numbered in order
    assert summary.closed == [(day, n) for n, day in enumerate(DAYS[:-2], start=1)]
    settings = load_settings(data_dir=seeded.data_dir, timezone="Asia/Kolkata")
    with open_runtime(settings, read_only=True) as rt:
        svc = Settlement(rt.records, settings)
        per_day = {day: len(rt.store.day(day).table("payments")) for day in DAYS}
        assert all(per_day[day] == DEMO_PER_DAY for day in DAYS[:-1]), per_day
        assert sum(per_day.values()) == summary.payments
        assert DEMO_PER_DAY * 0.8 <= per_day[DAYS[-1]] <= DEMO_PER_DAY  # today until 19:25
        for day in DAYS:
            x = svc.x_report(day)
            assert (x.closed_as is not None) == (day in dict(summary.closed)), day
            assert len(x.brands) >= 3, day  # a mix of brands every day
    assert summary.declined > 0 and summary.otp > 0 and summary.refunds > 0


def test_the_demo_week_passes_ledger_check_audit_verify_and_reconcile(demo_env, cli) -> None:
    ledger = cli("ledger", "check")
    assert ledger.code == 0 and ledger.out.startswith("books balance"), ledger
    audit = cli("audit", "verify")
    assert audit.code == 0, audit
    for day in DAYS:
        rec = cli("reconcile", "--date", day.isoformat())
        assert rec.code == 0, (day, rec.out, rec.err)


def test_the_demo_week_is_written_in_bulk(seeded: Seeded) -> None:
    logs = list(seeded.data_dir.rglob("wal.jsonl"))
    # one fdatasync per log at most (closing folds each into fsynced snapshots)
    assert len(logs) == 2 and seeded.fdatasyncs <= len(logs)  # the gateway's, the banks'
    assert len(list(seeded.data_dir.rglob("days/*.snapshot.json"))) >= 2 * len(DAYS)
    assert seeded.http_requests == []  # the gateway called the embedded banks directly
    assert seeded.argon2_checks == 1  # the manager's PIN: every approval after is remembered
