"""Reading TinyDB tables fast, and `Documents`: one table as plain dicts.

The helpers read a table's stored mapping in place (iterating a TinyDB table copies
each document first). `Documents` is the small generic repository the bank simulator
keeps its tables in (`DocumentTable` in `gateway_core.ports`): callers see dicts, never
TinyDB's queries, documents or doc ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tinydb import Query, TinyDB
from tinydb.queries import QueryInstance
from tinydb.table import Document, Table

from gateway_core.ports import Record
from gateway_core.store.journal import collector_paused
from gateway_core.store.table import Decoded, JournaledTable

_SINGLE = 1  # the doc id of a table's single document (a counter, a head)


def copied(doc: Mapping[str, Any] | None) -> Record | None:
    """A stored document as a dict of its own (None stays None)."""
    return None if doc is None else dict(doc)


def column_index(table: Table, field: str) -> dict[Any, int]:
    """`field` → doc id for every document, read in place: iterating a TinyDB table
    copies each document first (0.3 s and a burst of garbage for a 100k-payment day)."""
    docs = table._read_table()
    if isinstance(docs, Decoded):
        return docs.column(field)
    return {doc[field]: int(key) for key, doc in docs.items()}


def each_document(table: Table) -> Iterator[Record]:
    """Every document as a dict of its own, oldest first, made when reached (iterating a
    TinyDB table makes a `Document` copy that callers then copied again). A packed table
    decodes fresh dicts; another one's are copied."""
    docs = table._read_table()
    return iter(docs.values()) if isinstance(docs, Decoded) else map(dict, docs.values())


def documents(table: Table) -> list[Record]:
    """`each_document` as a list, with the collector paused as for a load: 100k dicts
    would otherwise set off full collection passes."""
    with collector_paused():
        return list(each_document(table))


def newest(table: Table) -> Record | None:
    """The last document inserted, without copying the others (documents are kept in
    insertion order, in memory and in snapshots)."""
    if isinstance(table, JournaledTable):
        return table.newest()
    docs = table._read_table()
    return dict(docs[next(reversed(docs))]) if docs else None


def of_merchant(merchant_id: str | None, home: str | None) -> QueryInstance:
    """A query for one merchant's records: those with its `merchant_id`, and for the home
    merchant (the settings') also those with none, written before merchants were told
    apart or by the home merchant since (its records keep that format)."""
    mine: QueryInstance = Query().merchant_id == merchant_id
    return mine | ~Query().merchant_id.exists() if merchant_id == home else mine


def tagged(record: Record, merchant_id: str | None, home: str | None) -> Record:
    """A record to store for `merchant_id`: the home merchant's carry no merchant id (as
    they always did), another merchant's carry theirs."""
    return record if merchant_id in (None, home) else {**record, "merchant_id": merchant_id}


class Documents:
    """One table of a database as plain dicts, found by the value of its `key` field
    (held in an index in memory, built when first used)."""

    def __init__(self, db: TinyDB, name: str, *, key: str | None = None) -> None:
        self._table = db.table(name)
        self._key = key
        self._index: dict[Any, int] | None = None

    def __len__(self) -> int:
        return len(self._table)

    def __iter__(self) -> Iterator[Record]:
        """Every document, oldest first."""
        return each_document(self._table)

    def _ids(self) -> dict[Any, int]:
        if self._key is None:
            raise TypeError(f"table {self._table.name} has no key field")
        if self._index is None:
            self._index = column_index(self._table, self._key)
        return self._index

    def _stored(self, value: object) -> Document | None:
        """The document whose key is `value` (an index entry left by a rolled-back
        write, naming nothing or another document, is dropped)."""
        doc_id = self._ids().get(value)
        if doc_id is None:
            return None
        doc = self._table.get(doc_id=doc_id)
        if isinstance(doc, Document) and doc.get(str(self._key)) == value:
            return doc
        del self._ids()[value]
        return None

    def get(self, value: object) -> Record | None:
        """The document whose key field holds `value`."""
        doc = self._stored(value)
        return None if doc is None else dict(doc)

    def find(self, **fields: object) -> Record | None:
        """The first document holding these field values."""
        return next(iter(self.where(**fields)), None)

    def where(self, **fields: object) -> list[Record]:
        """Every document holding these field values, oldest first."""
        return [dict(d) for d in self._table if all(d.get(k) == v for k, v in fields.items())]

    def add(self, doc: Record) -> None:
        """Append a document."""
        doc_id = self._table.insert(doc)
        if self._key is not None and self._index is not None:
            self._index[doc[self._key]] = doc_id

    def put(self, doc: Record) -> None:
        """Store a document under its key: a new one is appended, a known one replaced."""
        self._ids()  # refuses a table without a key field
        stored = self._stored(doc[str(self._key)])
        if stored is None:
            self.add(doc)
        else:
            self._table.update(doc, doc_ids=[stored.doc_id])

    def update(self, value: object, fields: Mapping[str, Any]) -> None:
        """Change some fields of the document whose key is `value` (none: nothing)."""
        stored = self._stored(value)
        if stored is not None:
            self._table.update(dict(fields), doc_ids=[stored.doc_id])

    def update_where(
        self, fields: Mapping[str, Any], test: Callable[[Mapping[str, Any]], bool]
    ) -> None:
        """Change some fields of every document that passes `test`, in one write."""
        self._table.update(dict(fields), _query(test))

    def remove_where(self, test: Callable[[Mapping[str, Any]], bool]) -> None:
        """Remove every document that passes `test`, in one write."""
        self._table.remove(_query(test))
        self._index = None

    def single(self) -> Record | None:
        """The table's one document (a counter, a total), None before it is first set."""
        doc = self._table.get(doc_id=_SINGLE)
        return None if doc is None else dict(doc)

    def set_single(self, doc: Record) -> None:
        """Store the table's one document."""
        self._table.upsert(Document(doc, doc_id=_SINGLE))


def _query(test: Callable[[Mapping[str, Any]], bool]) -> QueryInstance:
    """`test` as TinyDB's query (not cached: a test is not known by its hash)."""
    return QueryInstance(test, None)
