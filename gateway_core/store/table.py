"""A TinyDB `Table` that writes only what changed, as one journal entry.

Stock TinyDB hands the whole database to `Storage.write` on every change (O(n) per
insert). `JournaledTable` runs TinyDB's own updater functions against an overlay that
records the touched documents, then commits just those as one atomic change set. The
stored table is not touched until the journal entry is durable, so a failed write or a
raising updater changes nothing. In a packed database TinyDB reads documents decoded
from their stored bytes (`Decoded`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, cast

import orjson
from tinydb.table import Table

from gateway_core.store.journal import JournalStorage, Op
from gateway_core.store.snapshot import Doc, unpack

_DELETED = None


Json = dict[str, Any]


class _Overlay(MutableMapping[int, Json]):
    """The table as an updater sees it: reads fall through, writes are collected."""

    def __init__(self, base: dict[str, Doc]) -> None:
        self._base = base
        self.changes: dict[int, Json | None] = {}

    def __getitem__(self, doc_id: int) -> Json:
        if doc_id in self.changes:
            doc = self.changes[doc_id]
            if doc is _DELETED:
                raise KeyError(doc_id)
            return doc
        held = self._base[str(doc_id)]
        copy: Json = orjson.loads(held if type(held) is bytes else orjson.dumps(held))
        self.changes[doc_id] = copy
        return copy

    def __setitem__(self, doc_id: int, doc: Json) -> None:
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
            held = self._base.get(key)
            if doc is _DELETED:
                if key in self._base:
                    ops.append(["del", table, key])
            elif type(held) is bytes:
                if held != (packed := orjson.dumps(doc)):
                    ops.append(["put", table, key, packed])
            elif held != doc:
                ops.append(["put", table, key, doc])
        return ops


class Decoded(Mapping[str, Json]):
    """A packed table as TinyDB reads it: each document decoded when looked at."""

    __slots__ = ("_docs",)

    def __init__(self, docs: dict[str, Doc]) -> None:
        self._docs = cast(dict[str, bytes], docs)  # a packed table holds only bytes

    def __getitem__(self, key: str) -> Json:
        return unpack(self._docs[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._docs)

    def __reversed__(self) -> Iterator[str]:
        return reversed(self._docs)

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, key: object) -> bool:
        return key in self._docs

    def items(self) -> Iterator[tuple[str, Json]]:  # type: ignore[override]  # lazily, no view
        return ((key, orjson.loads(doc)) for key, doc in self._docs.items())

    def values(self) -> Iterator[Json]:  # type: ignore[override]  # lazily, no view
        return map(orjson.loads, self._docs.values())

    def column(self, field: str) -> dict[Any, int]:
        """`field` → doc id for every document. A string written first in its document
        (a payment's `id`) is sliced from the bytes instead of decoding them all: 100k
        payments in a tenth of the time."""
        mark = b'{"' + field.encode() + b'":"'
        start = len(mark)
        found: dict[Any, int] = {}
        for key, doc in self._docs.items():
            end = doc.find(b'"', start) if doc.startswith(mark) else -1
            if end < 0 or doc.find(b"\\", start, end) >= 0:  # elsewhere, or escaped
                found[orjson.loads(doc)[field]] = int(key)
            else:
                found[doc[start:end].decode()] = int(key)
        return found


class JournaledTable(Table):
    """TinyDB table whose writes cost O(changed documents), not O(table)."""

    _storage: JournalStorage
    default_query_cache_capacity = 0  # results could outlive a rolled-back atomic block

    def _base(self) -> dict[str, Doc]:
        return self._storage.table(self.name)

    def _read_table(self) -> Mapping[str, Any]:  # type: ignore[override]  # TinyDB only reads it
        base = self._base()
        return Decoded(base) if self._storage.packed else base

    def _update_table(self, updater: Callable[[dict[int, Any]], None]) -> None:
        with self._storage.atomic():  # durable when the outermost unit ends, unlocked
            overlay = _Overlay(self._base())
            updater(overlay)  # type: ignore[arg-type]  # an overlay acts as the dict TinyDB edits
            self._storage.commit(overlay.ops(self.name))
        self._query_cache.clear()

    def insert(self, document: Mapping[str, Any]) -> int:
        """TinyDB's insert of a new document, as one put: no overlay, no updater."""
        if isinstance(document, self.document_class) or not isinstance(document, Mapping):
            return super().insert(document)  # its own doc id, or TinyDB's refusal
        next_id: Callable[[], int] = self._get_next_id  # TinyDB's, untyped
        doc_id = next_id()
        if str(doc_id) in self._base():
            raise ValueError(f"Document with ID {doc_id} already exists")
        self._storage.commit([["put", self.name, str(doc_id), dict(document)]])
        self._query_cache.clear()
        return doc_id

    def update(
        self,
        fields: Any,
        cond: Any = None,
        doc_ids: Iterable[int] | None = None,
    ) -> list[int]:
        """TinyDB's update; by doc ids with a mapping of fields, each document is read,
        changed and compared once (a put only when it changed), with no overlay."""
        if doc_ids is None or cond is not None or not isinstance(fields, Mapping):
            return super().update(fields, cond, doc_ids)
        base, ops, updated = self._base(), list[Op](), list[int]()
        for doc_id in doc_ids:
            key = str(doc_id)
            held = base.get(key)
            if held is None:
                continue
            updated.append(doc_id)
            if isinstance(held, bytes):
                doc: Json = orjson.loads(held)
                doc.update(fields)
                if held != (packed := orjson.dumps(doc)):
                    ops.append(["put", self.name, key, packed])
            elif held != (doc := {**held, **fields}):
                ops.append(["put", self.name, key, doc])
        self._storage.commit(ops)
        self._query_cache.clear()
        return updated

    def newest(self) -> Json | None:
        """The last document inserted (read alone when its table was not read yet)."""
        held = self._storage.last(self.name)
        return None if held is None else dict(unpack(held))

    def truncate(self) -> None:
        """Remove every document with one journal entry."""
        self._storage.commit([["clear", self.name]])
        self._query_cache.clear()
        self._next_id = None
