"""The gateway's records on PostgreSQL: payments, refunds, audit events, Z reports and
tokens. Each implements its `Protocol` in `gateway_core.ports` as the embedded store's
(`gateway_core.store.repos`) does, with the same dicts in and out; every row is keyed
by the owning merchant first."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, datetime

from psycopg.types.json import Jsonb

from gateway_core.pgstore.db import Database
from gateway_core.ports import Record
from gateway_core.store.repos import PaymentSaved, RefundAdded, refuse_a_hole

_AUDIT_LOCK = 0x61756474  # "audt": the advisory lock space of the audit chains
_TOKEN_LOCK = 0x746F6B6E  # "tokn": of the cards being added to the vault


class Days:
    """The business days that hold records (table `days`), noted as they are written."""

    def __init__(self, db: Database, merchant: str) -> None:
        self._db, self._m = db, merchant
        self._known: set[date] = set()

    def note(self, day: date) -> None:
        if day not in self._known:
            self._db.run("INSERT INTO days VALUES (%s, %s) ON CONFLICT DO NOTHING", (self._m, day))
            self._db.after_commit(lambda: self._known.add(day))

    def all(self) -> list[date]:
        rows = self._db.all("SELECT day FROM days WHERE merchant_id = %s ORDER BY day", (self._m,))
        return [row[0] for row in rows]

    def __contains__(self, day: date) -> bool:
        if day in self._known:
            return True
        sql = "SELECT 1 FROM days WHERE merchant_id = %s AND day = %s"
        return self._db.one(sql, (self._m, day)) is not None


class Repo:
    def __init__(self, db: Database, merchant: str, days: Days) -> None:
        self._db, self._m, self._days = db, merchant, days

    def _records(self, sql: str, *params: object) -> list[Record]:
        return [row[0] for row in self._db.all(sql, (self._m, *params))]

    def _record(self, sql: str, *params: object) -> Record | None:
        row = self._db.one(sql, (self._m, *params))
        return None if row is None else row[0]


class PgPaymentRepository(Repo):
    """Payments by (day, id), in the order they were first saved; `saved` follows each
    save in its unit (the record replaced, if any, and the new one)."""

    def __init__(
        self, db: Database, merchant: str, days: Days, *, saved: PaymentSaved | None = None
    ) -> None:
        super().__init__(db, merchant, days)
        self._saved = saved

    def save(self, day: date, payment: Record) -> None:
        with self._db.atomic():
            old = None if self._saved is None else self.get(day, payment["id"])
            self._days.note(day)
            self._db.run(
                "INSERT INTO payments (merchant_id, day, id, record) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (merchant_id, day, id) DO UPDATE SET record = excluded.record",
                (self._m, day, payment["id"], Jsonb(payment)),
            )
            if self._saved is not None:
                self._saved(day, old, payment)

    def page(
        self, day: date, merchant_id: str | None, cursor: tuple[str, str] | None, size: int
    ) -> list[Record]:
        """Up to `size` of a merchant's payments of `day` (None: every merchant's),
        newest first (creation time, then id), after `cursor`."""
        sql = "SELECT record FROM payments WHERE merchant_id = %s AND day = %s"
        params: list[object] = [day]
        if merchant_id is not None:
            sql += " AND record ->> 'merchant_id' = %s"
            params.append(merchant_id)
        if cursor is not None:
            sql += " AND (record ->> 'created_at', id) < (%s, %s)"
            params.extend(cursor)
        sql += " ORDER BY record ->> 'created_at' DESC, id DESC LIMIT %s"
        return self._records(sql, *params, size)

    def get(self, day: date, payment_id: str) -> Record | None:
        sql = "SELECT record FROM payments WHERE merchant_id = %s AND day = %s AND id = %s"
        return self._record(sql, day, payment_id)

    def for_day(self, day: date) -> list[Record]:
        sql = "SELECT record FROM payments WHERE merchant_id = %s AND day = %s ORDER BY n"
        return self._records(sql, day)

    def each(self, day: date) -> Iterator[Record]:
        """The day's payments a page at a time: a report adds up 100k of them without
        holding them all."""
        sql = (
            "SELECT record, n FROM payments WHERE merchant_id = %s AND day = %s AND n > %s"
            " ORDER BY n LIMIT %s"
        )
        return (row[0] for row in self._db.pages(sql, (self._m, day)))

    def forget_indexes(self) -> None:
        """Nothing to forget: the database's indexes roll back with the transaction."""


class PgRefundRepository(Repo):
    """Refunds by day, found by their payment through an index of the table; `added`
    follows each refund in its unit."""

    def __init__(
        self, db: Database, merchant: str, days: Days, *, added: RefundAdded | None = None
    ) -> None:
        super().__init__(db, merchant, days)
        self._added = added

    def add(self, day: date, refund: Record) -> None:
        with self._db.atomic():
            self._days.note(day)
            self._db.run(
                "INSERT INTO refunds (merchant_id, day, id, record) VALUES (%s, %s, %s, %s)",
                (self._m, day, refund["id"], Jsonb(refund)),
            )
            if self._added is not None:
                self._added(day, refund)

    def for_payment(self, payment_id: str) -> list[Record]:
        sql = "SELECT record FROM refunds WHERE merchant_id = %s AND payment_id = %s ORDER BY n"
        return self._records(sql, payment_id)

    def for_day(self, day: date) -> list[Record]:
        sql = "SELECT record FROM refunds WHERE merchant_id = %s AND day = %s ORDER BY n"
        return self._records(sql, day)


class PgAuditRepository(Repo):
    """Audit events by day in the order appended; the head is one row per merchant. A
    unit that reads the head holds the merchant's audit lock to its COMMIT: the chain is
    serialized per merchant (a second process appending waits for the first's COMMIT),
    without any global lock."""

    def __init__(self, db: Database, merchant: str, days: Days, *, where: str = "") -> None:
        super().__init__(db, merchant, days)
        self._where = where or "the database"
        self._known: Record | None = None  # the head as this process last read or set it

    @contextlib.contextmanager
    def serialized(self) -> Iterator[bool]:
        """The block's appends as the chain's only ones until its unit's COMMIT (the
        merchant's audit lock, taken once per unit); True when the stored head is not
        the one this process last read or set: another process appended meanwhile."""
        with self._db.atomic():
            moved = self._db.lock_once(_AUDIT_LOCK, self._m) and self._stored_head() != self._known
            yield moved

    def append(self, day: date, event: Record) -> None:
        self._days.note(day)
        self._db.run(
            "INSERT INTO audit_events (merchant_id, day, record) VALUES (%s, %s, %s)",
            (self._m, day, Jsonb(event)),
        )

    def events(self) -> Iterator[tuple[date, Record]]:
        """Every event, day by day, in the order appended (as the embedded store has them)."""
        sql = (
            "SELECT day, record, day, n FROM audit_events WHERE merchant_id = %s"
            " AND (day, n) > (%s, %s) ORDER BY day, n LIMIT %s"
        )
        rows = self._db.pages(sql, (self._m,), start=(date.min, -1))
        return ((row[0], row[1]) for row in rows)

    def on(self, day: date) -> list[Record]:
        sql = "SELECT record FROM audit_events WHERE merchant_id = %s AND day = %s ORDER BY n"
        return self._records(sql, day)

    def last(self) -> tuple[date, Record] | None:
        """The newest event (of the newest day). A writer refuses a log whose head is
        ahead of its newest event, or missing beside events (as the embedded store
        does); inside a unit the head is locked first, so the newest event read is the
        chain's end until COMMIT."""
        head = self.head()
        row = self._db.one(
            "SELECT day, record FROM audit_events WHERE merchant_id = %s"
            " ORDER BY day DESC, n DESC LIMIT 1",
            (self._m,),
        )
        found = None if row is None else (row[0], row[1])
        if not self._db.read_only:
            where = f"audit events are missing in {self._where}: the"
            refuse_a_hole(found[1] if found else None, head, where)
        return found

    def head(self) -> Record | None:
        """The head; inside a unit, under the merchant's audit lock (held to COMMIT: a
        transaction-scoped advisory lock on the merchant, so that a head not yet written
        locks as well as one that is)."""
        if self._db.in_unit and not self._db.read_only:
            self._db.lock_once(_AUDIT_LOCK, self._m)
        self._known = self._stored_head()
        return self._known

    def _stored_head(self) -> Record | None:
        return self._record("SELECT record FROM audit_head WHERE merchant_id = %s")

    def set_head(self, head: Record) -> None:
        self._db.run(
            "INSERT INTO audit_head VALUES (%s, %s)"
            " ON CONFLICT (merchant_id) DO UPDATE SET record = excluded.record",
            (self._m, Jsonb(head)),
        )
        self._known = head


class PgClosingRepository(Repo):
    """One merchant's Z reports (`shop`: the merchant whose days they close)."""

    def __init__(self, db: Database, merchant: str, days: Days, shop: str) -> None:
        super().__init__(db, merchant, days)
        self._shop = shop

    def get(self, day: date) -> Record | None:
        sql = "SELECT record FROM closings WHERE merchant_id = %s AND shop = %s AND day = %s"
        return self._record(sql, self._shop, day)

    def closed_at(self, day: date) -> datetime | None:
        """When the day's Z report was taken (None: the day is open)."""
        report = self.get(day)
        return None if report is None else datetime.fromisoformat(report["closed_at"])

    def add(self, day: date, report: Record) -> None:
        self._db.writing()
        added = self._db.one(
            "INSERT INTO closings VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
            (self._m, self._shop, day, Jsonb(report)),
        )
        if added is None:
            raise ValueError(f"business day {day} is already closed")

    def all(self) -> list[Record]:
        sql = "SELECT record FROM closings WHERE merchant_id = %s AND shop = %s"
        return sorted(self._records(sql, self._shop), key=lambda r: r["number"])


class PgTokenRepository(Repo):
    """Vault tokens, found by token or by any of their card fingerprints."""

    def get(self, token: str) -> Record | None:
        sql = "SELECT record FROM tokens WHERE merchant_id = %s AND token = %s"
        return self._record(sql, token)

    def find_by_fingerprint(self, fingerprint: str) -> Record | None:
        return self._record(
            "SELECT t.record FROM token_fingerprints f JOIN tokens t"
            " ON t.merchant_id = f.merchant_id AND t.token = f.token"
            " WHERE f.merchant_id = %s AND f.fingerprint = %s",
            fingerprint,
        )

    def add(self, record: Record) -> Record:
        """Store a new card's record, or give the one another process stored for the
        same card meanwhile (nothing is added then): the card's fingerprints are locked
        to COMMIT, so two processes adding one card take turns."""
        with self._db.atomic():
            fingerprints = sorted(record["fingerprints"].values())
            for fingerprint in fingerprints:
                self._db.lock_once(_TOKEN_LOCK, fingerprint)
            for fingerprint in fingerprints:
                if (stored := self.find_by_fingerprint(fingerprint)) is not None:
                    return stored
            self._db.run(
                "INSERT INTO tokens (merchant_id, token, record) VALUES (%s, %s, %s)",
                (self._m, record["token"], Jsonb(record)),
            )
            self._fingerprints(record)
        return record

    def replace(self, record: Record) -> None:
        with self._db.atomic():
            self._db.run(
                "UPDATE tokens SET record = %s WHERE merchant_id = %s AND token = %s",
                (Jsonb(record), self._m, record["token"]),
            )
            self._fingerprints(record)

    def _fingerprints(self, record: Record) -> None:
        for fingerprint in record["fingerprints"].values():
            self._db.run(
                "INSERT INTO token_fingerprints VALUES (%s, %s, %s)"
                " ON CONFLICT (merchant_id, fingerprint) DO UPDATE SET token = excluded.token",
                (self._m, fingerprint, record["token"]),
            )

    def all(self) -> Iterator[Record]:
        sql = "SELECT record, n FROM tokens WHERE merchant_id = %s AND n > %s ORDER BY n LIMIT %s"
        return (row[0] for row in self._db.pages(sql, (self._m,)))
