"""Split bills on a `DataStore`: each bill in the database of the business day it was
opened on (table `bills`), like payments; in the main database the ids of the bills not
yet final (`open_bills`: what a repair looks at) and the idempotency keys that opened
bills (`bill_keys`, hashed). Implements `ports.BillRepository`.
"""

from __future__ import annotations

import hashlib
from datetime import date

from tinydb import Query
from tinydb.table import Table

from gateway_core.ports import Record
from gateway_core.store.database import DataStore
from gateway_core.store.documents import column_index, copied, documents


def _hashed(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class TinyBillRepository:
    """Bills in each day's database; the open index and the keys in the main one."""

    def __init__(self, store: DataStore) -> None:
        self._store = store
        self._open = store.main.table("open_bills")
        self._keys = store.main.table("bill_keys")
        self._where: dict[date, dict[str, int]] = {}

    def _table(self, day: date) -> Table:
        return self._store.day(day).table("bills")

    def _ids(self, day: date) -> dict[str, int]:
        if day not in self._where:
            self._where[day] = column_index(self._table(day), "id")
        return self._where[day]

    def forget_indexes(self) -> None:
        """Drop the id indexes (a rolled-back insert may be in them): rebuilt when used."""
        self._where.clear()

    def save(self, day: date, bill: Record) -> None:
        """Store a bill; it is in the open index while it is open or canceling."""
        ids = self._ids(day)
        doc_id = ids.get(bill["id"])
        if doc_id is None:
            ids[bill["id"]] = self._table(day).insert(bill)
        else:
            self._table(day).update(bill, doc_ids=[doc_id])
        listed = self._open.contains(Query().id == bill["id"])
        if bill["status"] in ("open", "canceling") and not listed:
            self._open.insert({"id": bill["id"]})
        elif bill["status"] not in ("open", "canceling") and listed:
            self._open.remove(Query().id == bill["id"])

    def get(self, day: date, bill_id: str) -> Record | None:
        """A bill, or None; a day with no data is not opened (nothing is created)."""
        if day not in self._where and self._store.existing_day(day) is None:
            return None
        doc_id = self._ids(day).get(bill_id)
        return None if doc_id is None else copied(self._table(day).get(doc_id=doc_id))

    def for_day(self, day: date) -> list[Record]:
        """The bills opened on a day, oldest first (none for a day with no data)."""
        if self._store.existing_day(day) is None:
            return []
        return documents(self._table(day))

    def open_ids(self) -> list[str]:
        """The bills open or canceling, oldest first."""
        return [doc["id"] for doc in self._open]

    def by_key(self, key: str) -> str | None:
        """The bill an idempotency key opened, or None."""
        doc = self._keys.get(Query().key == _hashed(key))
        return None if doc is None else str(doc["bill_id"])

    def add_key(self, key: str, bill_id: str) -> None:
        """Remember the bill a key opened."""
        self._keys.insert({"key": _hashed(key), "bill_id": bill_id})
