"""The repositories of what the gateway remembers besides its records, all in the main
database: users, API keys, the risk rules' memory, idempotency keys and the index of
open payments.

Each implements its `Protocol` in `gateway_core.ports`. A record of the home merchant
(`home`, the settings' merchant) is stored without a merchant id, as before merchants
were told apart; another merchant's carries its id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

from tinydb import Query

from gateway_core.ports import Record
from gateway_core.store.database import DataStore
from gateway_core.store.documents import Documents, of_merchant, tagged


class TinyUserRepository:
    """Users in the main database's `users` table."""

    def __init__(self, store: DataStore, *, home: str | None = None) -> None:
        self._table = store.main.table("users")
        self._home = home

    def _mine(self, merchant_id: str | None, user_id: str) -> Any:
        return (Query().id == user_id) & of_merchant(merchant_id or self._home, self._home)

    def get(self, merchant_id: str | None, user_id: str) -> Record | None:
        doc = self._table.get(self._mine(merchant_id, user_id))
        return None if doc is None else dict(doc)

    def list(self, merchant_id: str | None) -> list[Record]:
        """A merchant's users, in the order they were added."""
        mine = of_merchant(merchant_id or self._home, self._home)
        return [dict(doc) for doc in self._table.search(mine)]

    def add(self, merchant_id: str | None, user: Record) -> None:
        self._table.insert(tagged(user, merchant_id, self._home))

    def update(self, merchant_id: str | None, user_id: str, fields: Mapping[str, Any]) -> None:
        self._table.update(dict(fields), self._mine(merchant_id, user_id))


class TinyApiKeyRepository:
    """API keys in the main database's `api_keys` table."""

    def __init__(self, store: DataStore) -> None:
        self._table = store.main.table("api_keys")

    def add(self, key: Record) -> None:
        self._table.insert(key)

    def get(self, key_id: str) -> Record | None:
        doc = self._table.get(Query().id == key_id)
        return None if doc is None else dict(doc)

    def all(self) -> list[Record]:
        return [dict(doc) for doc in self._table]

    def update(self, key_id: str, fields: Mapping[str, Any]) -> None:
        self._table.update(dict(fields), Query().id == key_id)


class TinyRiskRepository:
    """Attempts (`risk_events`), blocks (`risk_blocks`) and each merchant's ticket count
    and sum per currency (`risk_ticket_stats`)."""

    def __init__(self, store: DataStore, *, home: str | None = None) -> None:
        main = store.main
        self._events = main.table("risk_events")
        self._blocks = main.table("risk_blocks")
        self._stats = main.table("risk_ticket_stats")
        self._home = home
        self._ticket_ids: dict[tuple[str | None, str], int] = {}  # (merchant, currency)

    def events(self) -> Iterator[Record]:
        """Every attempt recorded, oldest first."""
        return (dict(doc) for doc in self._events)

    def add_event(self, merchant_id: str | None, event: Record) -> None:
        self._events.insert(tagged(event, merchant_id, self._home))

    def attempts(self, merchant_id: str | None, day: date, **match: str) -> list[datetime] | None:
        """None: the one writer process remembers every attempt itself."""
        return None

    def blocks(self) -> list[Record]:
        """Every block ever set, in force or not."""
        return [dict(doc) for doc in self._blocks]

    def add_block(self, merchant_id: str | None, block: Record) -> None:
        self._blocks.insert(tagged(block, merchant_id, self._home))

    def _ticket_query(self, merchant_id: str | None, currency: str) -> Any:
        return (Query().currency == currency) & of_merchant(merchant_id or self._home, self._home)

    def _ticket(self, merchant_id: str | None, currency: str) -> Any:
        """The stored document of a merchant's tickets in a currency: by its doc id once
        found (checked: a rolled-back write may have left another there), else searched."""
        key = (merchant_id or self._home, currency)
        doc_id = self._ticket_ids.get(key)
        doc = None if doc_id is None else self._stats.get(doc_id=doc_id)
        if doc is not None and (doc.get("merchant_id", self._home), doc["currency"]) == key:
            return doc
        doc = self._stats.get(self._ticket_query(merchant_id, currency))
        if doc is not None:
            self._ticket_ids[key] = doc.doc_id
        return doc

    def ticket(self, merchant_id: str | None, currency: str) -> Record | None:
        """A merchant's approved payments in a currency: their `count` and `sum`."""
        doc = self._ticket(merchant_id, currency)
        return None if doc is None else dict(doc)

    def add_ticket(self, merchant_id: str | None, currency: str, amount: int) -> None:
        """Count one more approved payment of `amount`."""
        doc = self._ticket(merchant_id, currency)
        if doc is None:
            stats = {"currency": currency, "count": 1, "sum": amount}
            self._stats.insert(tagged(stats, merchant_id, self._home))
        else:
            self._stats.update(
                {"count": doc["count"] + 1, "sum": doc["sum"] + amount}, doc_ids=[doc.doc_id]
            )


class TinyIdempotencyRepository:
    """Idempotency records (`key`: the key's hash, `params`, `payment_id`, `created_at`)
    in the main database's `idempotency` table, found through an index by key (a week
    of keys is not scanned at every request)."""

    def __init__(self, store: DataStore) -> None:
        self._table = Documents(store.main, "idempotency", key="key")

    def get(self, key_hash: str) -> Record | None:
        return self._table.get(key_hash)

    def add(self, record: Record) -> None:
        self._table.add(record)

    def remove_before(self, cutoff: datetime) -> None:
        """Forget the keys made before `cutoff`."""
        before = cutoff.isoformat()
        self._table.remove_where(lambda doc: doc["created_at"] < before)


class TinyOpenPaymentRepository:
    """The main database's `open_payments` table: one document per payment not final."""

    def __init__(self, store: DataStore) -> None:
        self._table = store.main.table("open_payments")
        self._added: dict[str, int] = {}  # doc ids of the payments this process added

    def add(self, payment_id: str) -> None:
        self._added[payment_id] = self._table.insert({"id": payment_id})

    def discard(self, payment_id: str) -> None:
        """Let go of a payment (nothing is written when it is not there): by the doc id
        it was added under (checked: a rolled-back write may have left another there),
        else searched."""
        doc_id = self._added.pop(payment_id, None)
        mine = doc_id is not None and self._table.get(doc_id=doc_id)
        if doc_id is not None and mine and mine["id"] == payment_id:
            self._table.remove(doc_ids=[doc_id])
        elif self._table.contains(Query().id == payment_id):
            self._table.remove(Query().id == payment_id)

    def ids(self) -> list[str]:
        """The open payments, oldest first."""
        return [doc["id"] for doc in self._table]

    def take_over(self) -> list[str]:
        """None: the one writer process has them all already (`ids`)."""
        return []
