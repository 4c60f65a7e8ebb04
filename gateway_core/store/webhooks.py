"""The merchants' webhook endpoints and their deliveries in the main database
(`ports.WebhookRepository`): tables `webhook_endpoints` and `webhook_deliveries`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from tinydb.table import Table

from gateway_core.ports import Record
from gateway_core.store.database import DataStore
from gateway_core.store.documents import column_index, copied, documents


class _ById:
    """A table of documents with a unique `id`, found through an index of doc ids built
    when first used and again whenever it names the wrong document (a rolled-back unit
    may have indexed one it never stored)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.ids: dict[str, int] | None = None

    def _doc_id(self, record_id: str) -> int | None:
        for fresh in (False, True):
            if self.ids is None or fresh:
                self.ids = column_index(self.table, "id")
            doc_id = self.ids.get(record_id)
            doc = None if doc_id is None else self.table.get(doc_id=doc_id)
            if doc is not None and doc.get("id") == record_id:
                return doc_id
        return None

    def position(self, record_id: str) -> int:
        """Where a stored record is in the order added (its doc id)."""
        return self._doc_id(record_id) or 0

    def add(self, record: Record) -> None:
        doc_id = self.table.insert(record)
        if self.ids is not None:
            self.ids[record["id"]] = doc_id

    def get(self, record_id: str) -> Record | None:
        doc_id = self._doc_id(record_id)
        return None if doc_id is None else copied(self.table.get(doc_id=doc_id))

    def update(self, record_id: str, fields: Mapping[str, Any]) -> None:
        doc_id = self._doc_id(record_id)
        if doc_id is not None:
            self.table.update(dict(fields), doc_ids=[doc_id])


class TinyWebhookRepository:
    """Endpoints and deliveries, each in the order added. The pending deliveries' ids
    are also held in memory (the worker asks for them every round: not a scan of the
    whole log), built when first used and again after a unit rolled back."""

    def __init__(self, store: DataStore) -> None:
        self._store = store
        self._endpoints = _ById(store.main.table("webhook_endpoints"))
        self._deliveries = _ById(store.main.table("webhook_deliveries"))
        self._pending: dict[str, str] | None = None  # delivery id → its endpoint's

    def forget_indexes(self) -> None:
        """Drop what memory holds (rebuilt when next used): a rolled-back unit may have
        changed it."""
        self._pending = self._endpoints.ids = self._deliveries.ids = None

    def _pending_ids(self) -> dict[str, str]:
        if self._pending is None:
            docs = documents(self._deliveries.table)
            self._pending = {d["id"]: d["endpoint_id"] for d in docs if d["state"] == "pending"}
        return self._pending

    def add_endpoint(self, endpoint: Record) -> None:
        self._endpoints.add(endpoint)

    def endpoint(self, endpoint_id: str) -> Record | None:
        return self._endpoints.get(endpoint_id)

    def endpoints(self) -> list[Record]:
        return documents(self._endpoints.table)

    def update_endpoint(self, endpoint_id: str, fields: Mapping[str, Any]) -> None:
        self._endpoints.update(endpoint_id, fields)

    def add_delivery(self, delivery: Record) -> None:
        self._deliveries.add(delivery)
        if delivery["state"] == "pending":
            self._pending_ids()[delivery["id"]] = delivery["endpoint_id"]

    def delivery(self, delivery_id: str) -> Record | None:
        return self._deliveries.get(delivery_id)

    def update_delivery(self, delivery_id: str, fields: Mapping[str, Any]) -> None:
        self._deliveries.update(delivery_id, fields)
        if fields.get("state", "pending") != "pending":
            self._pending_ids().pop(delivery_id, None)
        elif "state" in fields and (record := self.delivery(delivery_id)) is not None:
            self._pending_ids()[delivery_id] = record["endpoint_id"]

    def deliveries(
        self, endpoint_id: str | None = None, *, state: str | None = None, limit: int | None = None
    ) -> list[Record]:
        if state == "pending":
            ids = [i for i, e in self._pending_ids().items() if endpoint_id in (None, e)]
            held = (self._deliveries.get(i) for i in ids)
            found = [r for r in held if r is not None and r["state"] == "pending"]
            found.sort(key=lambda r: self._deliveries.position(r["id"]))
        else:
            found = [
                r
                for r in documents(self._deliveries.table)
                if endpoint_id in (None, r["endpoint_id"]) and state in (None, r["state"])
            ]
        return found if limit is None else found[-limit:] if limit else []

    def leading(self) -> bool:
        """The data dir's one writer process delivers."""
        return True

    def audit_after(self, day: date | None, seq: int, limit: int) -> list[tuple[date, Record]]:
        """The audit events after `seq`, each day's read from its newest back to the
        first at or before `seq` (a day's events are stored in order), under the day's
        lock; a day with no data is not opened."""
        found: list[tuple[date, Record]] = []
        for on in self._store.days():
            db = None if day is not None and on < day else self._store.existing_day(on)
            if db is None:
                continue
            with db.journal.lock:
                found += [(on, event) for event in _newer(db.table("audit"), seq)]
            if len(found) >= limit:
                break
        return found[:limit]


def _newer(table: Table, seq: int) -> list[Record]:
    """A day's events numbered after `seq`, oldest first, reading none older."""
    docs = table._read_table()  # in the order inserted (see documents.newest)
    newer = []
    for key in reversed(docs):
        event = dict(docs[key])
        if event["seq"] <= seq:
            break
        newer.append(event)
    return newer[::-1]
