"""Moving one merchant's records between an embedded data dir (`DataStore`) and
PostgreSQL (`PgRecords`), both ways: every record of every day, tokens, users, API
keys, the risk rules' memory, idempotency keys, shifts, bills, Z reports, failed
authentications and the audit chain as it is (events, order and head unchanged, so
`paygate audit verify` gives the same answer). Indexes the other side derives (the
refund index, the open bills) are rebuilt by it. A table this module does not know
stops the move: nothing is left behind unnoticed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from psycopg.types.json import Jsonb

from gateway_core.pgstore.records import PgRecords
from gateway_core.ports import Record
from gateway_core.store import DataStore
from gateway_core.store.journal import sync_deferred
from gateway_core.store.repos import (
    TinyAuditRepository,
    TinyClosingRepository,
    TinyPaymentRepository,
    TinyRefundRepository,
)

DAY_TABLES = {"payments", "refunds", "audit", "bills", "tallies"}  # tallies: rebuilt, not moved
MAIN_TABLES = {
    "tokens", "audit_head", "users", "api_keys", "risk_events", "risk_blocks",
    "risk_ticket_stats", "idempotency", "open_payments", "open_bills", "bill_keys",
    "shifts", "drawer_moves", "auth_failures", "refund_index", "webhook_endpoints",
    "webhook_deliveries",
}  # fmt: skip
# a row of each table as (merchant column values..., record): what `_rows` reads
_SELECT = "SELECT {cols} FROM {table} WHERE merchant_id = %s ORDER BY {order}"


class TransferError(ValueError):
    """The move cannot be made (the target holds data, or the source a table unknown)."""


@dataclass
class Moved:
    """How many records of each kind were moved."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n

    def __str__(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items()) if n) or "nothing"


def _closing_shop(name: str, home: str) -> str:
    return home if name == "closings" else name.removeprefix("closings.")


def _unknown(names: Iterable[str], known: set[str], where: str) -> None:
    extra = sorted(n for n in names if n not in known and not n.startswith("closings"))
    if extra:
        raise TransferError(f"{where} holds tables this version cannot move: {', '.join(extra)}")


def holds_records(records: PgRecords) -> bool:
    """Whether the merchant has anything in the database."""
    db, m = records.db, records.merchant
    tables = ("days", "tokens", "users", "api_keys", "audit_head", "closings", "shifts")
    return any(db.one(f"SELECT 1 FROM {t} WHERE merchant_id = %s LIMIT 1", (m,)) for t in tables)


# -- embedded → PostgreSQL -------------------------------------------------------------------
def import_store(store: DataStore, records: PgRecords) -> Moved:
    """Copy everything of `store` into `records` (whose merchant must have nothing yet),
    as one transaction: all of it or, on any error, none."""
    if holds_records(records):
        raise TransferError(f"the database already holds records of merchant {records.merchant}")
    main = store.main
    _unknown(main.tables(), MAIN_TABLES, f"{store.db_dir}/main")
    moved = Moved()
    with records.unit():
        for day in store.days():
            db = store.day(day)
            _unknown(db.tables(), DAY_TABLES, f"{store.db_dir}/days/{day}")
            _import_day(store, day, records, moved)
        _import_main(store, records, moved)
    return moved


def _many(records: PgRecords, sql: str, rows: Iterable[tuple[Any, ...]]) -> int:
    batch = list(rows)
    if batch:
        with records.db.connection() as conn, conn.cursor() as cur:
            cur.executemany(sql, batch)
    return len(batch)


def _import_day(store: DataStore, day: date, records: PgRecords, moved: Moved) -> None:
    db, m = store.day(day), records.merchant
    records.db.run("INSERT INTO days VALUES (%s, %s) ON CONFLICT DO NOTHING", (m, day))
    for table, sql in (
        ("payments", "INSERT INTO payments (merchant_id, day, id, record) VALUES (%s, %s, %s, %s)"),
        ("refunds", "INSERT INTO refunds (merchant_id, day, id, record) VALUES (%s, %s, %s, %s)"),
        ("bills", "INSERT INTO bills (merchant_id, day, id, record) VALUES (%s, %s, %s, %s)"),
    ):
        docs = db.table(table)
        moved.add(table, _many(records, sql, ((m, day, d["id"], Jsonb(dict(d))) for d in docs)))
    sql = "INSERT INTO audit_events (merchant_id, day, record) VALUES (%s, %s, %s)"
    moved.add(
        "audit events", _many(records, sql, ((m, day, Jsonb(dict(d))) for d in db.table("audit")))
    )


def _import_main(store: DataStore, records: PgRecords, moved: Moved) -> None:
    main, m = store.main, records.merchant
    for doc in main.table("tokens"):
        records.tokens.add(dict(doc))
        moved.add("tokens")
    head = main.table("audit_head").get(doc_id=1)
    if head is not None:
        records.audit.set_head(dict(head))
    for doc in main.table("users"):
        records.users.add(doc.get("merchant_id"), dict(doc))
        moved.add("users")
    for doc in main.table("api_keys"):
        records.api_keys.add(dict(doc))
        moved.add("API keys")
    for doc in main.table("risk_events"):
        records.risk.add_event(doc.get("merchant_id"), dict(doc))
    for doc in main.table("risk_blocks"):
        records.risk.add_block(doc.get("merchant_id"), dict(doc))
    sql = "INSERT INTO risk_tickets (merchant_id, shop, currency, count, sum) "
    sql += " VALUES (%s, %s, %s, %s, %s)"
    tickets = main.table("risk_ticket_stats")
    _many(
        records,
        sql,
        ((m, d.get("merchant_id") or m, d["currency"], d["count"], d["sum"]) for d in tickets),
    )
    for doc in main.table("idempotency"):
        records.idempotency.add(dict(doc))
        moved.add("idempotency keys")
    for doc in main.table("open_payments"):
        records.open_payments.add(doc["id"])
    sql = "INSERT INTO bill_keys (merchant_id, key, bill_id) VALUES (%s, %s, %s)"
    _many(records, sql, ((m, d["key"], d["bill_id"]) for d in main.table("bill_keys")))
    sql = "INSERT INTO shifts (merchant_id, id, record) VALUES (%s, %s, %s)"
    moved.add(
        "shifts", _many(records, sql, ((m, d["id"], Jsonb(dict(d))) for d in main.table("shifts")))
    )
    sql = "INSERT INTO drawer_moves (merchant_id, record) VALUES (%s, %s)"
    _many(records, sql, ((m, Jsonb(dict(d))) for d in main.table("drawer_moves")))
    sql = "INSERT INTO auth_failures (merchant_id, address, at, last) VALUES (%s, %s, %s, %s)"
    failures = main.table("auth_failures")
    _many(
        records,
        sql,
        ((m, d["address"], Jsonb(d["at"]), datetime.fromisoformat(d["at"][-1])) for d in failures),
    )
    for doc in main.table("webhook_endpoints"):
        records.webhooks.add_endpoint(dict(doc))
        moved.add("webhook endpoints")
    for doc in main.table("webhook_deliveries"):
        records.webhooks.add_delivery(dict(doc))
    for name in sorted(n for n in main.tables() if n.startswith("closings")):
        closings = records.closings(_closing_shop(name, m))
        for doc in main.table(name):
            closings.add(date.fromordinal(doc.doc_id), dict(doc))
            moved.add("Z reports")


# -- PostgreSQL → embedded -------------------------------------------------------------------
def _rows(records: PgRecords, table: str, cols: str, order: str = "n") -> Iterator[tuple[Any, ...]]:
    sql = _SELECT.format(cols=cols, table=table, order=order)
    return iter(records.db.all(sql, (records.merchant,)))


def export_store(records: PgRecords, store: DataStore) -> Moved:
    """Copy everything of the merchant in `records` into the empty `store` (a bulk load:
    synced once at the end)."""
    if store.days() or any(len(store.main.table(n)) for n in store.main.tables()):
        raise TransferError(f"{store.data_dir} already holds data; export into a new data dir")
    main, moved = store.main, Moved()
    with sync_deferred():
        payments, refunds = TinyPaymentRepository(store), TinyRefundRepository(store)
        audit = TinyAuditRepository(store)
        for day in records.days():
            for payment in records.payments.each(day):
                payments.save(day, payment)
                moved.add("payments")
            for refund in records.refunds.for_day(day):
                refunds.add(day, refund)
                moved.add("refunds")
            for event in records.audit.on(day):
                audit.append(day, event)
                moved.add("audit events")
            for bill in records.bills.for_day(day):
                store.day(day).table("bills").insert(bill)
                if bill["status"] in ("open", "canceling"):
                    main.table("open_bills").insert({"id": bill["id"]})
                moved.add("bills")
        head = records.audit.head()
        if head is not None:
            audit.set_head(head)
        _export_main(records, store, moved)
    return moved


def _export_main(records: PgRecords, store: DataStore, moved: Moved) -> None:
    m, main = records.merchant, store.main

    def put(table: str, docs: Iterable[Record], kind: str = "") -> None:
        for doc in docs:
            main.table(table).insert(doc)
            if kind:
                moved.add(kind)

    put("tokens", records.tokens.all(), "tokens")
    put("users", (r for (r,) in _rows(records, "users", "record")), "users")
    put("api_keys", records.api_keys.all(), "API keys")
    put("risk_events", records.risk.events())
    put("risk_blocks", records.risk.blocks())
    tickets = _rows(records, "risk_tickets", "shop, currency, count, sum")
    put("risk_ticket_stats", (
        {"currency": c, "count": n, "sum": s, **({} if shop == m else {"merchant_id": shop})}
        for shop, c, n, s in tickets
    ))  # fmt: skip
    put(
        "idempotency",
        (r for (r,) in _rows(records, "idempotency", "record")),
        "idempotency keys",
    )
    put("open_payments", ({"id": i} for i in records.open_payments.ids()))
    put(
        "bill_keys",
        ({"key": k, "bill_id": b} for k, b in _rows(records, "bill_keys", "key, bill_id")),
    )
    put("shifts", (r for (r,) in _rows(records, "shifts", "record")), "shifts")
    put("drawer_moves", (r for (r,) in _rows(records, "drawer_moves", "record")))
    failures = _rows(records, "auth_failures", "address, at")
    put("auth_failures", ({"address": a, "at": at} for a, at in failures))
    put("webhook_endpoints", records.webhooks.endpoints(), "webhook endpoints")
    put("webhook_deliveries", records.webhooks.deliveries())
    for shop, day, report in _rows(records, "closings", "shop, day, record", "shop, day"):
        TinyClosingRepository(store, shop, home=m).add(day, report)
        moved.add("Z reports")
