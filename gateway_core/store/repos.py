"""The repositories of the gateway's records on a `DataStore`: tokens, audit events,
payments, refunds and Z reports.

Each implements its `Protocol` in `gateway_core.ports`; a server database (PostgreSQL)
implements the same protocols without the gateway changing. Records cross this boundary
as plain JSON-ready dicts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date, datetime
from itertools import islice

from tinydb.table import Document, Table

from gateway_core.ports import Record
from gateway_core.store.database import DataStore
from gateway_core.store.documents import (
    column_index,
    copied,
    documents,
    each_document,
    newest,
)
from gateway_core.store.journal import StorageCorrupt
from gateway_core.store.pages import Cursor, DayOrder

# What follows a write in its unit of work (the day's running totals, `settlement.running`):
# a payment saved (the day it is filed under, its old record or None, the new one), a
# refund added (the day it is filed under, the refund).
PaymentSaved = Callable[[date, Record | None, Record], None]
RefundAdded = Callable[[date, Record], None]


class TinyTokenRepository:
    """Tokens in the main database, with in-memory indexes by token and fingerprint."""

    def __init__(self, store: DataStore) -> None:
        self._table = store.main.table("tokens")
        self._doc_ids: dict[str, int] = {}
        self._by_fp: dict[str, str] = {}
        for doc in self._table:
            self._index(doc, doc.doc_id)

    def _index(self, record: Record, doc_id: int) -> None:
        self._doc_ids[record["token"]] = doc_id
        for fingerprint in record["fingerprints"].values():
            self._by_fp[fingerprint] = record["token"]

    def get(self, token: str) -> Record | None:
        doc_id = self._doc_ids.get(token)
        return None if doc_id is None else copied(self._table.get(doc_id=doc_id))

    def find_by_fingerprint(self, fingerprint: str) -> Record | None:
        token = self._by_fp.get(fingerprint)
        return None if token is None else self.get(token)

    def add(self, record: Record) -> Record:
        """Store a new card's record (the one writer process: nobody added it meanwhile)."""
        self._index(record, self._table.insert(record))
        return record

    def replace(self, record: Record) -> None:
        doc_id = self._doc_ids[record["token"]]
        self._table.update(record, doc_ids=[doc_id])
        self._index(record, doc_id)

    def all(self) -> Iterator[Record]:
        return (dict(doc) for doc in self._table)


class TinyAuditRepository:
    """Audit events in each day's database; the head in the main database."""

    def __init__(self, store: DataStore) -> None:
        self._store = store
        self._head = store.main.table("audit_head")

    def serialized(self) -> AbstractContextManager[bool]:
        """Nothing to do: the one writer process is the chain's only appender."""
        return contextlib.nullcontext(False)

    def append(self, day: date, event: Record) -> None:
        self._store.day(day).table("audit").insert(event)

    def events(self) -> Iterator[tuple[date, Record]]:
        for day in self._store.days():
            for doc in self._store.day(day).table("audit"):
                yield day, dict(doc)

    def on(self, day: date) -> list[Record]:
        """The events filed under one business day, in stored order, read under the
        day's storage lock (a worker thread never reads a table being written); a day
        with no data is not opened."""
        db = self._store.existing_day(day)
        if db is None:
            return []
        with db.journal.lock:
            return documents(db.table("audit"))

    def last(self) -> tuple[date, Record] | None:
        """The newest event. A writer refuses a log whose newest events are gone (the
        head in the main database is ahead of them, or missing beside them): a lost
        snapshot opens as an empty day, and the chain must not go on over the hole. (A
        crash between an event and its head leaves the head one behind: that is fine.)"""
        found = None
        for day in reversed(self._store.days()):
            event = newest(self._store.day(day).table("audit"))
            if event is not None:
                found = day, event
                break
        if not self._store.read_only:
            where = f"data files are missing in {self._store.db_dir}: the main database's"
            refuse_a_hole(found[1] if found else None, self.head(), where)
        return found

    def head(self) -> Record | None:
        doc = self._head.get(doc_id=1)
        return None if doc is None else dict(doc)

    def set_head(self, head: Record) -> None:
        self._head.upsert(Document(head, doc_id=1))


def refuse_a_hole(newest: Record | None, head: Record | None, where: str) -> None:
    """A writer refuses an audit log whose newest events are gone: the head is ahead of
    the newest stored event, or missing beside it (one behind is a crash between an event
    and its head: fine). `where` starts the message."""
    stored = newest.get("seq", 0) if newest else 0
    if not 0 <= stored - (head["seq"] if head else 0) <= 1:
        expected = f"event {head['seq']}" if head else "no event (it is missing)"
        raise StorageCorrupt(
            f"{where} audit head names {expected}, the newest stored is {stored or 'none'}; "
            "restore them from a backup (`paygate audit verify` shows what is missing)"
        )


class TinyPaymentRepository:
    """Payments in each day's database; a day's id index is built when first used.
    `saved` follows each save in its unit of work."""

    def __init__(self, store: DataStore, *, saved: PaymentSaved | None = None) -> None:
        self._store = store
        self._where: dict[date, dict[str, int]] = {}
        self._saved = saved
        self._orders: dict[date, DayOrder] = {}

    def _table(self, day: date) -> Table:
        return self._store.day(day).table("payments")

    def _ids(self, day: date) -> dict[str, int]:
        if day not in self._where:
            self._where[day] = column_index(self._table(day), "id")
        return self._where[day]

    def save(self, day: date, payment: Record) -> None:
        if self._saved is None:
            self._write(day, payment)
            return
        with self._store.day(day).journal.atomic():
            old = self._write(day, payment)
            self._saved(day, old, payment)

    def _write(self, day: date, payment: Record) -> Record | None:
        """Store a payment; the record it replaces, if any (read only for a hook)."""
        ids = self._ids(day)
        doc_id = ids.get(payment["id"])
        if doc_id is None:
            ids[payment["id"]] = self._table(day).insert(payment)
            return None
        old = copied(self._table(day).get(doc_id=doc_id)) if self._saved else None
        self._table(day).update(payment, doc_ids=[doc_id])
        return old

    def get(self, day: date, payment_id: str) -> Record | None:
        """A payment, or None; a day with no data is not opened (nothing is created)."""
        if day not in self._where and self._store.existing_day(day) is None:
            return None
        doc_id = self._ids(day).get(payment_id)
        return None if doc_id is None else copied(self._table(day).get(doc_id=doc_id))

    def for_day(self, day: date) -> list[Record]:
        return documents(self._table(day))

    def forget_indexes(self) -> None:
        """Drop the id indexes (rebuilt when next used): a rolled-back block of writes
        may have indexed a payment it never stored."""
        self._where.clear()

    def each(self, day: date) -> Iterator[Record]:
        """The day's payments one at a time: a report adds up 100k of them without
        holding them all."""
        return each_document(self._table(day))

    def page(
        self, day: date, merchant_id: str | None, cursor: Cursor | None, size: int
    ) -> list[Record]:
        """Up to `size` of a merchant's payments filed under `day` (None: every
        merchant's), newest first (creation time, then id), after `cursor` (the
        (created_at, id) of the last one shown; None: from the newest). A day with no
        data is not opened."""
        db = self._store.existing_day(day)
        if db is None:
            return []
        with db.journal.lock:
            table = self._table(day)
            order = self._orders.get(day)
            if order is None:
                order = self._orders[day] = DayOrder()
            order.update(table)
            found = (copied(table.get(doc_id=i)) for i in order.older(cursor))
            mine = (r for r in found if r and merchant_id in (None, r.get("merchant_id")))
            return list(islice(mine, size))


class TinyRefundRepository:
    """Refunds in each day's database; which refunds belong to which payment is an
    index in the main database (held in memory too). `added` follows each refund in
    its unit of work."""

    def __init__(self, store: DataStore, *, added: RefundAdded | None = None) -> None:
        self._store = store
        self._added = added
        self._index = store.main.table("refund_index")
        self._by_payment: dict[str, list[tuple[date, str]]] = {}
        for doc in self._index:
            self._remember(doc)
        self._ids: dict[date, dict[str, int]] = {}

    def _remember(self, doc: Record) -> None:
        where = (date.fromisoformat(doc["day"]), doc["refund_id"])
        self._by_payment.setdefault(doc["payment_id"], []).append(where)

    def _table(self, day: date) -> Table:
        return self._store.day(day).table("refunds")

    def _doc_ids(self, day: date) -> dict[str, int]:
        if day not in self._ids:
            self._ids[day] = column_index(self._table(day), "id")
        return self._ids[day]

    def add(self, day: date, refund: Record) -> None:
        with self._store.day(day).journal.atomic():
            self._doc_ids(day)[refund["id"]] = self._table(day).insert(refund)
            if self._added is not None:
                self._added(day, refund)
        link = {
            "payment_id": refund["payment_id"],
            "refund_id": refund["id"],
            "day": day.isoformat(),
        }
        self._index.insert(link)
        self._remember(link)

    def for_payment(self, payment_id: str) -> list[Record]:
        found: list[Record] = []
        for day, refund_id in self._by_payment.get(payment_id, []):
            doc_id = self._doc_ids(day).get(refund_id)
            refund = None if doc_id is None else copied(self._table(day).get(doc_id=doc_id))
            if refund is not None:
                found.append(refund)
        return found

    def for_day(self, day: date) -> list[Record]:
        if day not in self._store.days():
            return []
        return documents(self._table(day))


class TinyClosingRepository:
    """One merchant's Z reports in the main database, one document per day (doc id: the
    day's ordinal), so "is this day closed?" is one lookup, not a scan. The home merchant
    (None, or `home`: the settings' merchant) keeps table `closings`, where Z reports were
    before merchants were told apart; another merchant has `closings.<merchant id>`."""

    def __init__(
        self, store: DataStore, merchant_id: str | None = None, *, home: str | None = None
    ) -> None:
        mine = merchant_id in (None, home)
        self._table = store.main.table("closings" if mine else f"closings.{merchant_id}")

    def get(self, day: date) -> Record | None:
        doc = self._table.get(doc_id=day.toordinal())
        return None if doc is None else dict(doc)

    def closed_at(self, day: date) -> datetime | None:
        """When the day's Z report was taken (None: the day is open)."""
        doc = self._table.get(doc_id=day.toordinal())
        return None if doc is None else datetime.fromisoformat(doc["closed_at"])

    def add(self, day: date, report: Record) -> None:
        if self._table.contains(doc_id=day.toordinal()):
            raise ValueError(f"business day {day} is already closed")
        self._table.insert(Document(report, doc_id=day.toordinal()))

    def all(self) -> list[Record]:
        return sorted((dict(doc) for doc in self._table), key=lambda r: r["number"])
