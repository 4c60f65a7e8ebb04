"""`paygate db upgrade|import|export`: a merchant's data moves from a data dir into
PostgreSQL and back with nothing lost, and `audit verify`, `ledger check` and
`reconcile` give the same answers after."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pg_support import new_database
from support import MANAGER, VISA, card_input, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest
from gateway_core.payments import CashInput
from gateway_core.pgstore import schema
from gateway_core.store import DataStore

IST = timezone(timedelta(hours=5, minutes=30), "IST")
PAST = datetime(2026, 11, 26, 10, 0, tzinfo=IST)
OWNER = ("--admin", "owner", "--admin-pin", "9876")


def _fill(settings) -> None:
    """On PAST: a shift with cash sales and a card sale, a refund and a cash move; the
    next day a card sale; a second merchant's user and a terminal's key."""
    clock = FixedClock(PAST)

    async def run() -> None:
        rt = open_runtime(settings, clock=clock)
        try:
            gw = rt.gateway
            shift = await gw.shifts.open_shift(count={50000: 2}, cashier="asha")
            cash = ChargeRequest(
                amount=250_00, currency="INR", method="cash", cash=CashInput(tendered=500_00)
            )
            sold = await gw.charge(cash)
            await gw.charge(ChargeRequest(amount=120_00, currency="INR", card=card_input(VISA)))
            await gw.refund(sold.id, 50_00, approval=MANAGER)
            await gw.shifts.move_cash(
                shift.id, kind="paid_in", amount=20_00, reason="float", operator="asha",
                approval=MANAGER,
            )  # fmt: skip
            clock.advance(days=1)
            await gw.charge(ChargeRequest(amount=99_00, currency="INR", card=card_input(VISA)))
        finally:
            await rt.aclose()

    asyncio.run(run())


def _tables(data_dir: Path) -> dict[str, list[dict]]:
    """Every document of every table of a data dir, in stored order (but the running
    totals: derived from the records, rebuilt where they are read, never moved)."""
    with DataStore(data_dir, read_only=True) as store:
        found = {f"main/{n}": [dict(d) for d in store.main.table(n)] for n in store.main.tables()}
        for day in store.days():
            db = store.day(day)
            found.update({f"{day}/{n}": [dict(d) for d in db.table(n)] for n in db.tables()})
    return {name: docs for name, docs in found.items() if docs and "tallies" not in name}


@pytest.fixture
def shop(settings, cli, monkeypatch) -> Path:
    monkeypatch.setenv("PAYGATE_TIMEZONE", "Asia/Kolkata")
    _fill(settings)
    data = ("--data-dir", settings.data_dir)
    assert cli("terminals", "add", "--terminal", "T7", *OWNER, *data).code == 0
    assert (
        cli("terminals", "add", "--merchant", "SHOP2", "--terminal", "T1", *OWNER, *data).code == 0
    )
    boss = ("users", "add", "boss", "--role", "admin", "--pin", "2468", "--merchant", "SHOP2")
    assert cli(*boss, *OWNER, *data).code == 0
    day = PAST.date().isoformat()
    approve = ("--approver", "meera", "--approver-pin", "4321")
    closed = cli("report", "z", "--date", day, "--close-shifts", *approve, *data)
    assert closed.code == 0, closed.err
    return settings.data_dir


def test_db_commands_need_a_postgresql_url(cli, tmp_path):
    done = cli("db", "upgrade")
    assert done.code == 2 and done.err.strip().endswith("PAYGATE_DATABASE_URL")
    done = cli("db", "upgrade", "--database-url", "mysql://me:hunter2@db/x")
    assert done.code == 2 and len(done.err.splitlines()) == 1 and "hunter2" not in done.err
    assert "postgresql://" in done.err


def test_a_database_nobody_answers_at_is_one_line(cli, caplog):
    with socket.socket() as unused:  # a port bound and never listened on: refused
        unused.bind(("127.0.0.1", 0))
        url = f"postgresql://pay:hunter2@127.0.0.1:{unused.getsockname()[1]}/paygate"
        done = cli("list", "--database-url", url)
    assert done.code == 1 and len(done.err.splitlines()) == 1, done.err
    assert "cannot connect" in done.err and "hunter2" not in done.err
    assert not [r for r in caplog.records if r.name.startswith("psycopg")]  # retries: quiet


def test_upgrade_applies_the_schema_once(cli, pg_server):
    url = new_database(pg_server, "upgrade")
    first = cli("db", "upgrade", "--database-url", url)
    latest = schema.migrations()[-1].version
    assert first.code == 0 and first.out == f"database schema at version {latest}\n"
    assert cli("db", "upgrade", "--database-url", url).out == first.out


def test_a_data_dir_moves_to_postgresql_and_back_with_nothing_lost(cli, shop, pg_url, tmp_path):
    db = ("--database-url", pg_url)
    day = PAST.date().isoformat()
    checks = (("audit", "verify"), ("ledger", "check"), ("reconcile", "--date", day))
    before = {c: cli(*c, "--data-dir", shop) for c in checks}
    assert all(done.code == 0 for done in before.values()), before
    moved = cli("db", "import", "--from", shop, *db)
    assert moved.code == 0, moved.err
    for command in checks:  # the records in the database, the keys and banks in the dir
        on_db = cli(*command, "--data-dir", shop, *db)
        assert (on_db.code, on_db.out) == (before[command].code, before[command].out), command
    assert "3 payments" in moved.out and "1 refunds" in moved.out and "1 Z reports" in moved.out
    again = cli("db", "import", "--from", shop, *db)
    assert again.code == 2 and "already holds records" in again.err
    back = tmp_path / "back"
    out = cli("db", "export", "--to", back, *db, "--data-dir", shop)
    assert out.code == 0, out.err
    assert _tables(back) == _tables(shop)
    assert (back / "keys" / "keyring.json").read_bytes() == (
        shop / "keys" / "keyring.json"
    ).read_bytes()
    refused = cli("db", "export", "--to", shop, *db)
    assert refused.code == 2 and "already holds paygate data" in refused.err
    shutil.copytree(shop / "banks", back / "banks")  # the banks' books are not the gateway's
    for command in checks:
        after = cli(*command, "--data-dir", back)
        assert (after.code, after.out) == (before[command].code, before[command].out), command


def test_an_import_refuses_a_data_dir_without_data(cli, pg_url, tmp_path):
    done = cli("db", "import", "--from", tmp_path / "nothing", "--database-url", pg_url)
    assert done.code == 2 and "holds no paygate data" in done.err


def test_demo_seed_fills_a_postgresql_database_once(cli, pg_url, tmp_path):
    db = ("--data-dir", tmp_path / "seeded", "--database-url", pg_url)
    seeded = cli("demo", "seed", "--days", "2", "--per-day", "12", *db)
    assert seeded.code == 0, seeded.err
    assert "into the database" in seeded.err and "seeded " in seeded.out
    yesterday = (date.today() - timedelta(days=1)).isoformat()  # closed; today may be empty
    listed = cli("list", "--date", yesterday, "--json", *db)
    assert listed.code == 0 and len(json.loads(listed.out)) >= 6, listed.err
    for command in (("audit", "verify"), ("ledger", "check")):
        assert cli(*command, *db).code == 0, command
    again = cli("demo", "seed", "--days", "1", "--per-day", "5", *db)
    assert again.code == 2 and "the database already has payments" in again.err
