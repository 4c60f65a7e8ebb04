"""Failed authentications per client address, for the limiter of `paygate serve`.

They are kept in the store (the main database's `auth_failures` table), not in a
process's memory: every gateway process on a store counts the same failures, and a
restarted one goes on counting where the last stopped. One document per address,
holding the times of its recent failures; an address whose failures have all aged out
is forgotten at the next write, and at most `MAX_ADDRESSES` are kept.
"""

from __future__ import annotations

from datetime import datetime

from tinydb import Query

from gateway_core.ports import FailedAuthRepository
from gateway_core.store.database import DataStore

# the port is re-exported for its users that import it from here
__all__ = ["FailedAuthRepository", "TinyFailedAuthRepository"]

MAX_ADDRESSES = 10_000  # addresses remembered at once; the one failing longest ago goes first


class TinyFailedAuthRepository:
    """`FailedAuthRepository` on the main database of a `DataStore`."""

    def __init__(self, store: DataStore) -> None:
        self._table = store.main.table("auth_failures")

    def failures(self, address: str) -> list[datetime]:
        """The failures stored for `address`, oldest first."""
        doc = self._table.get(Query().address == address)
        return [] if doc is None else [datetime.fromisoformat(at) for at in doc["at"]]

    def record(self, address: str, at: datetime, *, since: datetime) -> None:
        """One more failure of `address` at `at`; failures up to `since` are dropped."""
        kept = [t for t in self.failures(address) if t > since]
        doc = {"address": address, "at": [t.isoformat() for t in [*kept, at]]}
        self._table.upsert(doc, Query().address == address)
        last = {d.doc_id: datetime.fromisoformat(d["at"][-1]) for d in self._table}
        fresh = {doc_id: t for doc_id, t in last.items() if t > since}
        stale = [doc_id for doc_id in last if doc_id not in fresh]
        if len(fresh) > MAX_ADDRESSES:
            stale.append(min(fresh, key=fresh.__getitem__))
        if stale:
            self._table.remove(doc_ids=stale)
