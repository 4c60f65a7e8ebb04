"""What only PostgreSQL has to show: migrations, and the guarantees that must hold
across connections (processes): one payment per idempotency key, exact counters, the
audit chain serialized per merchant."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from pg_support import new_database

from gateway_core.audit import AuditLog
from gateway_core.clock import FixedClock
from gateway_core.keys import Keyring
from gateway_core.pgstore import PgRecords, check_url, schema
from gateway_core.pgstore.db import Database, DatabaseUnavailable, RecordConflict, redacted
from gateway_core.ports import TallyKey, TallySums
from gateway_core.risk import RiskEngine
from gateway_core.risk_models import Context, RiskLimits
from gateway_core.store.journal import ReadOnlyStore

DAY = date(2026, 11, 28)


def test_migrations_are_applied_once_and_recorded(pg_server):
    url = new_database(pg_server, "empty")
    with psycopg.connect(url, autocommit=True) as conn:  # the template's schema, dropped
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    db = Database(url)
    try:
        assert schema.current(db) == 0
        applied = schema.upgrade(db)
        assert [m.version for m in applied] == [m.version for m in schema.migrations()]
        assert schema.upgrade(db) == [] and schema.current(db) == applied[-1].version
        rows = db.all("SELECT version, name FROM schema_version ORDER BY version")
        assert rows == [(m.version, m.name) for m in applied]
    finally:
        db.close()


def test_a_schema_it_cannot_use_is_refused(pg_server):
    url = new_database(pg_server, "schema")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    with pytest.raises(DatabaseUnavailable, match=r"version 0, .* run `paygate db upgrade`"):
        PgRecords(url, "M1", read_only=True)
    PgRecords(url, "M1").close()  # a writer brings it up to date
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version (version, name) VALUES (999, 'later')")
    with pytest.raises(DatabaseUnavailable, match="version 999, newer than this paygate's"):
        PgRecords(url, "M1")


def test_every_table_is_keyed_by_merchant_first(pg_url):
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            "SELECT c.relname, a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]"
            " JOIN pg_namespace s ON s.oid = c.relnamespace"
            " WHERE i.indisprimary AND s.nspname = 'public' AND c.relname <> 'schema_version'"
        ).fetchall()
    assert len(rows) >= 19 and {column for _table, column in rows} == {"merchant_id"}


def test_merchants_do_not_see_each_others_records(pg_url):
    with PgRecords(pg_url, "M1") as m1, PgRecords(pg_url, "M2") as m2:
        m1.payments.save(DAY, {"id": "p1", "status": "approved"})
        m1.audit.set_head({"seq": 1, "mac": "x"})
        assert m2.payments.get(DAY, "p1") is None and m2.days() == []
        assert m2.audit.head() is None and m1.days() == [DAY]


def test_a_concurrent_second_insert_of_an_idempotency_key_makes_no_second_payment(pg_url):
    """Two processes charge with one key at once: the second's transaction waits for
    the first's COMMIT, then fails on the key (`RecordConflict`), and rolls its payment
    back."""
    first_in = threading.Event()
    release = threading.Event()
    with PgRecords(pg_url, "M1") as a, PgRecords(pg_url, "M1") as b:

        def charge(records: PgRecords, payment_id: str, hold: bool) -> str:
            with records.unit(DAY):
                records.payments.save(DAY, {"id": payment_id, "status": "unknown"})
                records.idempotency.add({"key": "k", "payment_id": payment_id, "created_at": ""})
                if hold:
                    assert records.idempotency.get("k")  # a read: the writes are sent
                    first_in.set()
                    release.wait(10)
            return payment_id

        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(charge, a, "p1", True)
            first_in.wait(10)
            second = pool.submit(charge, b, "p2", False)
            release.set()
            assert first.result() == "p1"
            with pytest.raises(RecordConflict, match="idempotency"):
                second.result()
        assert b.idempotency.get("k")["payment_id"] == "p1"
        assert [p["id"] for p in b.payments.for_day(DAY)] == ["p1"]


def test_counters_are_exact_across_connections(pg_url):
    with PgRecords(pg_url, "M1", pool_size=8) as records:

        def approve(n: int) -> None:
            with records.unit(DAY):
                records.risk.add_ticket(None, "INR", 100 + n)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(approve, range(200)))
        assert records.risk.ticket(None, "INR") == {
            "currency": "INR",
            "count": 200,
            "sum": sum(100 + n for n in range(200)),
        }


def test_the_audit_chain_is_serialized_per_merchant(pg_url):
    """Writers that read the head inside their unit (locked FOR UPDATE) and append the
    next event never fork the chain, however many there are."""
    with PgRecords(pg_url, "M1", pool_size=8) as records:

        def append(_n: int) -> None:
            with records.unit(DAY):
                head = records.audit.head() or {"seq": 0}
                seq = head["seq"] + 1
                records.audit.append(DAY, {"seq": seq})
                records.audit.set_head({"seq": seq, "mac": str(seq)})

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(append, range(100)))
        assert [e["seq"] for _day, e in records.audit.events()] == list(range(1, 101))
        assert records.audit.last() == (DAY, {"seq": 100})


def test_a_long_day_is_read_a_page_at_a_time(pg_url):
    with PgRecords(pg_url, "M1") as records:
        with records.unit(DAY):
            for n in range(4500):
                records.payments.save(DAY, {"id": f"p{n:05d}", "n": n})
        assert [p["n"] for p in records.payments.each(DAY)] == list(range(4500))


def test_a_read_only_opening_sees_what_was_committed_when_it_opened(pg_url):
    with PgRecords(pg_url, "M1") as writer:
        writer.payments.save(DAY, {"id": "p0"})
        with PgRecords(pg_url, "M1", read_only=True) as reader:
            writer.payments.save(DAY, {"id": "p1"})
            writer.audit.set_head({"seq": 1, "mac": "x"})
            assert reader.read_only and reader.payments.for_day(DAY) == [{"id": "p0"}]
            assert reader.audit.head() is None and reader.payments.get(DAY, "p1") is None
            with pytest.raises(ReadOnlyStore, match="read-only"):
                reader.payments.save(DAY, {"id": "p2"})
            with reader.unit(DAY):  # a unit reads the same snapshot
                assert reader.payments.get(DAY, "p1") is None


def test_bad_and_unreachable_urls_are_one_line():
    with pytest.raises(ValueError, match="postgresql://"):
        check_url("mysql://x@y/z")
    with pytest.raises(ValueError, match="postgresql://"):
        check_url("postgresql:")
    url = "postgresql://u:secret@127.0.0.1:1/none?connect_timeout=1"
    with pytest.raises(DatabaseUnavailable) as caught:
        Database(url)
    assert "secret" not in str(caught.value) and "\n" not in str(caught.value)
    assert redacted(url) == "postgresql://u:***@127.0.0.1:1/none?connect_timeout=1"


def test_each_process_sees_its_open_payments_and_takes_over_a_dead_ones(pg_url):
    a, b, c = (PgRecords(pg_url, "M1") for _ in range(3))
    try:
        a.open_payments.add("p1")
        b.open_payments.add("p2")
        a.open_payments.add("p3")
        assert a.open_payments.ids() == ["p1", "p3"] and b.open_payments.ids() == ["p2"]
        assert b.open_payments.take_over() == [] and c.open_payments.take_over() == []
        a.close()  # its process dies: the lock that said it was alive goes with it
        assert b.open_payments.take_over() == ["p1", "p3"]
        assert c.open_payments.take_over() == []
        assert b.open_payments.ids() == ["p1", "p2", "p3"]
        b.open_payments.discard("p1")
        assert b.open_payments.ids() == ["p2", "p3"]
    finally:
        for records in (b, c):
            records.close()


def test_audit_logs_of_several_processes_make_one_chain(pg_url, tmp_path):
    """Each process's AuditLog appends where the chain is, not where it last left it:
    the events of two processes, in units and alone, from threads, verify as one chain."""
    keyring = Keyring.open(tmp_path / "keyring.json", create=True)
    a, b = PgRecords(pg_url, "M1"), PgRecords(pg_url, "M1")
    try:
        logs = [AuditLog(a.audit, keyring), AuditLog(b.audit, keyring)]

        def record(n: int) -> None:
            records, log = (a, logs[0]) if n % 2 else (b, logs[1])
            if n % 3:
                log.record("test", "alone", str(n))
            else:
                with records.unit(DAY):
                    log.record("test", "first of two", str(n))
                    log.record("test", "second of two", str(n))

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(record, range(60)))
        verdict = AuditLog(a.audit, keyring).verify()
        assert verdict.ok and verdict.count == 80, verdict
    finally:
        a.close()
        b.close()


def _ctx(at: datetime, **more) -> Context:
    fields = {"fingerprint": "fp1", "bin6": "424242", "terminal_id": "T1", "amount": 100_00}
    return Context(**{**fields, "currency": "INR", "at": at, **more})


def test_risk_limits_hold_across_processes(pg_url):
    """Two gateway processes' risk engines count the same attempts: a card's daily limit
    and declines to a card block, whichever process saw each attempt."""
    clock = FixedClock(datetime(2026, 11, 28, 10, 0, tzinfo=UTC))
    limits = RiskLimits(per_day=4, per_minute=100, card_declines=3)
    a, b = PgRecords(pg_url, "M1"), PgRecords(pg_url, "M1")
    try:
        engines = [RiskEngine(r.risk, limits, clock, UTC) for r in (a, b)]
        for n in range(4):
            clock.advance(minutes=2)
            assert engines[n % 2].assess(_ctx(clock.now())).action != "block"
            engines[n % 2].record(_ctx(clock.now()), "approved")
        for engine in engines:  # the fifth is one too many, in either process
            assessed = engine.assess(_ctx(clock.now()))
            assert (assessed.action, assessed.rule) == ("block", "velocity")
        assert a.risk.attempts("M1", clock.now().date(), fingerprint="fp1") == [
            clock.now() - timedelta(minutes=2 * k) for k in (3, 2, 1, 0)
        ]
        for n in range(3):  # another card declined three times, in turn
            engines[n % 2].record(_ctx(clock.now(), fingerprint="fp2"), "declined")
        assert [b["key"] for b in b.risk.blocks()] == ["fp2"]
        assert b.risk.attempts("SHOP2", clock.now().date(), fingerprint="fp1") == []
    finally:
        a.close()
        b.close()


def test_running_totals_add_up_exactly_across_connections(pg_url):
    key = TallyKey("M1", "taken", method="card", currency="INR")
    with PgRecords(pg_url, "M1", pool_size=8) as records:

        def sale(n: int) -> None:
            with records.unit(DAY):
                records.payments.save(DAY, {"id": f"p{n}"})
                records.tallies.add(DAY, {key: TallySums(1, 100 + n)})

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(sale, range(100)))
        with records.db.connection() as conn:
            row = conn.execute("SELECT n, amount FROM tallies WHERE kind = 'taken'").fetchone()
        assert row == (100, sum(100 + n for n in range(100)))


def test_a_card_added_by_two_processes_at_once_gets_one_token(pg_url):
    """Both looked the card up and found nothing; the second to add it gets the first's
    token back and adds nothing."""
    first_in, release = threading.Event(), threading.Event()
    with PgRecords(pg_url, "M1") as a, PgRecords(pg_url, "M1") as b:

        def add(records: PgRecords, token: str, hold: bool) -> dict:
            with records.unit(DAY):
                stored = records.tokens.add({"token": token, "fingerprints": {"1": "fp"}})
                if hold:
                    first_in.set()
                    release.wait(10)
            return stored

        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(add, a, "tok_a", True)
            first_in.wait(10)
            second = pool.submit(add, b, "tok_b", False)
            release.set()
            assert first.result()["token"] == second.result()["token"] == "tok_a"
        assert [t["token"] for t in b.tokens.all()] == ["tok_a"]
