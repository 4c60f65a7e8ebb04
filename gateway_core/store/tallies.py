"""The day's running totals in each day's database (`TallyRepository`): table `tallies`,
one document per key, `{"key": [...], "sums": [...]}`, found through an index in memory
built when the day is first used.

Written in the unit of work of the payment or refund they follow (the same day's
database, one journal entry). Rows under merchant "" keep the bookkeeping: kind "seen"
counts the payments (code "payments") and refunds (code "refunds") tallied, kind
"basis" names the fee basis they were written under (code: its fingerprint). The day's
totals are fresh while those counts are the day's tables' and one basis, the reader's,
is named; anything written around them (an older version, a copy of files, a benchmark
filling a day) makes them stale, and the reader rebuilds them from the records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from weakref import WeakKeyDictionary

from tinydb import Query
from tinydb.table import Table

from gateway_core.ports import TallyKey, TallySums
from gateway_core.store.database import DataStore
from gateway_core.store.journal import JournalStorage, Op
from gateway_core.store.snapshot import unpack

TABLE = "tallies"
SEEN, BASIS = "seen", "basis"  # the kinds of the bookkeeping rows (merchant "")
_Key = Query()


class _Index:
    """An open day's totals: key → doc id, and the next doc id (shared by every repository
    on the store: a rebuild through one renumbers the documents for all)."""

    def __init__(self, held: Mapping[str, Any]) -> None:
        self.ids = {TallyKey(*unpack(doc)["key"]): key for key, doc in held.items()}
        self.next = max(map(int, held), default=0) + 1

    def new(self, key: TallyKey) -> str:
        doc_id = self.ids[key] = str(self.next)
        self.next += 1
        return doc_id


_INDEXES: WeakKeyDictionary[object, _Index] = WeakKeyDictionary()  # by journal


def _plus(sums: list[int], delta: TallySums) -> list[int]:
    return [a + b for a, b in zip(sums, delta, strict=True)]


def seen_key(what: str) -> TallyKey:
    """The bookkeeping row counting the payments ("payments") or refunds ("refunds")
    tallied."""
    return TallyKey("", SEEN, code=what)


def basis_key(basis: str) -> TallyKey:
    """The bookkeeping row naming a fee basis the day's totals were written under."""
    return TallyKey("", BASIS, code=basis)


def holds_all(
    bookkeeping: Mapping[TallyKey, TallySums], basis: str, payments: int, refunds: int
) -> bool:
    """Whether a day's totals (their bookkeeping rows) count the `payments` and `refunds`
    stored under it, all under fee basis `basis`."""
    bases = {key.code for key, sums in bookkeeping.items() if key.kind == BASIS and sums.n}
    seen = bookkeeping.get(seen_key("payments"), TallySums()).n
    return (
        bases == ({basis} if seen else set())
        and seen == payments
        and bookkeeping.get(seen_key("refunds"), TallySums()).n == refunds
    )


class TinyTallyRepository:
    """Running totals in each day's database."""

    def __init__(self, store: DataStore) -> None:
        self._store = store

    def _table(self, day: date) -> Table:
        return self._store.day(day).table(TABLE)

    def add(self, day: date, deltas: Mapping[TallyKey, TallySums]) -> None:
        """Add `deltas` to the day's totals in one change set (a key not held yet starts
        at 0), put straight into the day's journal: a sale adds to a few totals at every
        step, and TinyDB's update path would copy and compare each document twice."""
        if not deltas:
            return
        db = self._store.day(day)
        journal = db.journal
        if not isinstance(journal, JournalStorage):  # a baseline's stock TinyDB (benchmarks/)
            stock = db.table(TABLE)
            for key, delta in deltas.items():
                found = stock.get(_Key.key == list(key))
                sums = list(delta) if found is None else _plus(found["sums"], delta)
                stock.upsert({"key": list(key), "sums": sums}, _Key.key == list(key))
            return
        with journal.lock:
            held = journal.table(TABLE)
            index = _INDEXES.get(journal)
            if index is None:
                index = _INDEXES[journal] = _Index(held)
            ops: list[Op] = []
            for key, delta in deltas.items():
                doc_id = index.ids.get(key)
                doc = None if doc_id is None else held.get(doc_id)
                if doc_id is None or doc is None:  # new, or its write rolled back
                    doc_id, sums = index.new(key), list(delta)
                else:
                    sums = _plus(unpack(doc)["sums"], delta)
                ops.append(["put", TABLE, doc_id, {"key": list(key), "sums": sums}])
            journal.commit(ops)

    def of_day(self, day: date, merchant_id: str) -> dict[TallyKey, TallySums]:
        """A merchant's totals of the day (none for a day with no data: nothing opened)."""
        db = self._store.existing_day(day)
        if db is None:
            return {}
        with db.journal.lock:
            docs = db.table(TABLE)._read_table()
            found = (doc for doc in docs.values() if doc["key"][0] == merchant_id)
            return {TallyKey(*doc["key"]): TallySums(*doc["sums"]) for doc in found}

    def kept(
        self,
        day: date,
        merchant_id: str,
        basis: str,
        rebuild: Callable[[], Mapping[TallyKey, TallySums]],
    ) -> dict[TallyKey, TallySums]:
        """A merchant's totals of the day, first rebuilt (and stored, by a writer) when
        they are not `fresh`; all under the day's lock, so no write lands between the
        check, the records read and the totals stored."""
        db = self._store.existing_day(day)
        if db is None:
            return {}
        with db.journal.lock:
            if self.fresh(day, basis):
                return self.of_day(day, merchant_id)
            rebuilt = rebuild()
            if not self._store.read_only:
                self.replace(day, rebuilt)
            return {k: TallySums(*v) for k, v in rebuilt.items() if k.merchant_id == merchant_id}

    def replace(self, day: date, tallies: Mapping[TallyKey, TallySums]) -> None:
        """Make `tallies` the day's totals, every merchant's and the bookkeeping, in one
        write."""
        table = self._table(day)
        journal = self._store.day(day).journal
        with journal.atomic():
            table.truncate()
            table.insert_multiple({"key": list(k), "sums": list(v)} for k, v in tallies.items())
            _INDEXES.pop(journal, None)

    def fresh(self, day: date, basis: str) -> bool:
        """Whether the day's totals hold every payment and refund filed under it, each
        written under fee basis `basis` (a day with no data is: it has nothing)."""
        db = self._store.existing_day(day)
        if db is None:
            return True
        with db.journal.lock:
            stored = len(db.table("payments")), len(db.table("refunds"))
            return holds_all(self.of_day(day, ""), basis, *stored)
