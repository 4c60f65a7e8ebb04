"""The day's running totals in each day's database (`TallyRepository`): table `tallies`,
one document per key, `{"key": [...], "sums": [...]}`, found through an index in memory
built when the day is first used.

Written in the unit of work of the payment or refund they follow (the same day's
database, one journal entry). Rows under merchant "" keep the bookkeeping: kind "seen"
counts the payments (code "payments") and refunds (code "refunds") tallied, kind
"basis" the writes made under each fee basis (code: its fingerprint). The day's tallies
are fresh while those counts are the day's tables' and every write had the reader's
basis; anything written around them (an older version, a copy of files) makes them stale,
and the reader rebuilds them from the records (`replace`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from weakref import WeakKeyDictionary

from tinydb.table import Table

from gateway_core.ports import TallyKey, TallySums
from gateway_core.store.database import DataStore

TABLE = "tallies"
SEEN, BASIS = "seen", "basis"  # the kinds of the bookkeeping rows (merchant "")


# Each open day's table of totals: key → doc id, shared by every repository on the store
# (a rebuild through one renumbers the documents for all).
_INDEXES: WeakKeyDictionary[Table, dict[TallyKey, int]] = WeakKeyDictionary()


def _index(table: Table) -> dict[TallyKey, int]:
    ids = _INDEXES.get(table)
    if ids is None:
        docs = table._read_table()
        ids = _INDEXES[table] = {TallyKey(*doc["key"]): int(k) for k, doc in docs.items()}
    return ids


def seen_key(what: str) -> TallyKey:
    """The bookkeeping row counting the payments ("payments") or refunds ("refunds")
    tallied."""
    return TallyKey("", SEEN, code=what)


def basis_key(basis: str) -> TallyKey:
    """The bookkeeping row counting the writes made under a fee basis."""
    return TallyKey("", BASIS, code=basis)


class TinyTallyRepository:
    """Running totals in each day's database."""

    def __init__(self, store: DataStore) -> None:
        self._store = store

    def _table(self, day: date) -> Table:
        return self._store.day(day).table(TABLE)

    def add(self, day: date, deltas: Mapping[TallyKey, TallySums]) -> None:
        """Add `deltas` to the day's totals in one write (a key not held yet starts at 0)."""
        if not deltas:
            return
        table = self._table(day)
        ids = _index(table)

        def updater(docs: dict[int, Any]) -> None:
            for key, delta in deltas.items():
                doc_id = ids.get(key)
                if doc_id is None or doc_id not in docs:  # new, or its write rolled back
                    doc_id = ids[key] = table._get_next_id()  # type: ignore[no-untyped-call]  # TinyDB's
                    docs[doc_id] = {"key": list(key), "sums": list(delta)}
                else:
                    sums = [a + b for a, b in zip(docs[doc_id]["sums"], delta, strict=True)]
                    docs[doc_id] = {"key": list(key), "sums": sums}

        table._update_table(updater)  # one change set, through TinyDB's update path

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
        with self._store.day(day).journal.atomic():
            table.truncate()
            table.insert_multiple({"key": list(k), "sums": list(v)} for k, v in tallies.items())
            _INDEXES.pop(table, None)

    def fresh(self, day: date, basis: str) -> bool:
        """Whether the day's totals hold every payment and refund filed under it, each
        written under fee basis `basis` (a day with no data is: it has nothing)."""
        db = self._store.existing_day(day)
        if db is None:
            return True
        with db.journal.lock:
            rows = self.of_day(day, "")
            bases = {key.code for key, sums in rows.items() if key.kind == BASIS and sums.n}
            payments = rows.get(seen_key("payments"), TallySums()).n
            refunds = rows.get(seen_key("refunds"), TallySums()).n
            return (
                bases <= {basis}
                and payments == len(db.table("payments"))
                and refunds == len(db.table("refunds"))
            )
