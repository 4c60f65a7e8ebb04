"""A TinyDB `Table` that writes only what changed, as one journal entry.

Stock TinyDB hands the whole database to `Storage.write` on every change (O(n) per
insert). `JournaledTable` runs TinyDB's own updater functions against an overlay that
records the touched documents, then commits just those as one atomic change set. The
stored table is not touched until the journal entry is durable, so a failed write or a
raising updater changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import orjson
from tinydb.table import Table

from gateway_core.store.journal import JournalStorage, Op

_DELETED = None


class _Overlay(MutableMapping[int, dict]):
    """The table as an updater sees it: reads fall through, writes are collected."""

    def __init__(self, base: dict[str, dict]) -> None:
        self._base = base
        self.changes: dict[int, dict | None] = {}

    def __getitem__(self, doc_id: int) -> dict:
        if doc_id in self.changes:
            doc = self.changes[doc_id]
            if doc is _DELETED:
                raise KeyError(doc_id)
            return doc
        copy = orjson.loads(orjson.dumps(self._base[str(doc_id)]))
        self.changes[doc_id] = copy
        return copy

    def __setitem__(self, doc_id: int, doc: dict) -> None:
        self.changes[doc_id] = doc

    def __delitem__(self, doc_id: int) -> None:
        if doc_id not in self:
            raise KeyError(doc_id)
        self.changes[doc_id] = _DELETED

    def __contains__(self, doc_id: object) -> bool:
        if doc_id in self.changes:
            return self.changes[doc_id] is not _DELETED
        return str(doc_id) in self._base

    def __iter__(self) -> Iterator[int]:
        for key in self._base:
            doc_id = int(key)
            if self.changes.get(doc_id, True) is not _DELETED:
                yield doc_id
        for doc_id, doc in self.changes.items():
            if doc is not _DELETED and str(doc_id) not in self._base:
                yield doc_id

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def ops(self, table: str) -> list[Op]:
        """The change set: a put per new or changed document, a del per removal."""
        ops: list[Op] = []
        for doc_id, doc in self.changes.items():
            key = str(doc_id)
            if doc is _DELETED:
                if key in self._base:
                    ops.append(["del", table, key])
            elif self._base.get(key) != doc:
                ops.append(["put", table, key, doc])
        return ops


class JournaledTable(Table):
    """TinyDB table whose writes cost O(changed documents), not O(table)."""

    _storage: JournalStorage
    default_query_cache_capacity = 0  # results could outlive a rolled-back atomic block

    def _base(self) -> dict[str, dict]:
        return self._storage.table(self.name)

    def _read_table(self) -> dict[str, Any]:
        return self._base()

    def _update_table(self, updater: Callable[[dict[int, Any]], None]) -> None:
        with self._storage.lock:
            overlay = _Overlay(self._base())
            updater(overlay)  # type: ignore[arg-type]
            self._storage.commit(overlay.ops(self.name))
        self._query_cache.clear()

    def truncate(self) -> None:
        """Remove every document with one journal entry."""
        self._storage.commit([["clear", self.name]])
        self._query_cache.clear()
        self._next_id = None
