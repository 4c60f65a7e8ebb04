"""What the gateway remembers besides its records, on PostgreSQL: users, API keys, the
risk rules' memory, idempotency keys, open payments and failed authentications. Each
implements its `Protocol` in `gateway_core.ports` as the embedded store's
(`gateway_core.store.state`, `.auth_failures`) does; counters are changed by one
statement (`count = count + 1`), so that every gateway process counts the same."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

from psycopg.types.json import Jsonb

from gateway_core.pgstore.db import Database
from gateway_core.pgstore.repos import Days, Repo
from gateway_core.ports import Record
from gateway_core.store.auth_failures import MAX_ADDRESSES

_RISK_COLUMNS = {  # what `attempts` matches on: the columns (or record fields) of risk_events
    "fingerprint": "fingerprint",
    "terminal_id": "terminal_id",
    "outcome": "record ->> 'outcome'",
}
OWNER_LOCK = 0x6F776E72  # "ownr": the advisory lock space of the gateway processes


def _tagged(record: Record, shop: str, home: str) -> Record:
    """A record as the embedded store keeps it: the home merchant's carry no merchant
    id, another merchant's carry theirs."""
    return record if shop == home else {**record, "merchant_id": shop}


class _PerShop(Repo):
    """A repository whose calls name a merchant (None: the home one, `merchant`)."""

    def _shop(self, merchant_id: str | None) -> str:
        return merchant_id or self._m


class PgUserRepository(_PerShop):
    """Each merchant's users by id."""

    def get(self, merchant_id: str | None, user_id: str) -> Record | None:
        sql = "SELECT record FROM users WHERE merchant_id = %s AND shop = %s AND id = %s"
        return self._record(sql, self._shop(merchant_id), user_id)

    def list(self, merchant_id: str | None) -> list[Record]:
        """A merchant's users, in the order they were added."""
        sql = "SELECT record FROM users WHERE merchant_id = %s AND shop = %s ORDER BY n"
        return self._records(sql, self._shop(merchant_id))

    def add(self, merchant_id: str | None, user: Record) -> None:
        shop = self._shop(merchant_id)
        self._db.run(
            "INSERT INTO users (merchant_id, shop, id, record) VALUES (%s, %s, %s, %s)",
            (self._m, shop, user["id"], Jsonb(_tagged(user, shop, self._m))),
        )

    def update(self, merchant_id: str | None, user_id: str, fields: Mapping[str, Any]) -> None:
        self._db.run(
            "UPDATE users SET record = record || %s WHERE merchant_id = %s AND shop = %s"
            " AND id = %s",
            (Jsonb(dict(fields)), self._m, self._shop(merchant_id), user_id),
        )


class PgApiKeyRepository(Repo):
    """The terminals' API keys, in the order issued."""

    def add(self, key: Record) -> None:
        self._db.run(
            "INSERT INTO api_keys (merchant_id, id, record) VALUES (%s, %s, %s)",
            (self._m, key["id"], Jsonb(key)),
        )

    def get(self, key_id: str) -> Record | None:
        return self._record(
            "SELECT record FROM api_keys WHERE merchant_id = %s AND id = %s", key_id
        )

    def all(self) -> list[Record]:
        return self._records("SELECT record FROM api_keys WHERE merchant_id = %s ORDER BY n")

    def update(self, key_id: str, fields: Mapping[str, Any]) -> None:
        self._db.run(
            "UPDATE api_keys SET record = record || %s WHERE merchant_id = %s AND id = %s",
            (Jsonb(dict(fields)), self._m, key_id),
        )


class PgRiskRepository(_PerShop):
    """Attempts, blocks and each merchant's ticket count and sum per currency."""

    def events(self) -> Iterator[Record]:
        """Every attempt recorded, oldest first."""
        sql = (
            "SELECT record, n FROM risk_events WHERE merchant_id = %s AND n > %s"
            " ORDER BY n LIMIT %s"
        )
        return (row[0] for row in self._db.pages(sql, (self._m,)))

    def add_event(self, merchant_id: str | None, event: Record) -> None:
        record = _tagged(event, self._shop(merchant_id), self._m)
        self._db.run(
            "INSERT INTO risk_events (merchant_id, record) VALUES (%s, %s)",
            (self._m, Jsonb(record)),
        )

    def attempts(self, merchant_id: str | None, day: date, **match: str) -> list[datetime] | None:
        """The times of a day's attempts of a merchant whose fields match, oldest
        first: every gateway process's (one query, on an index by card or terminal)."""
        shop = None if merchant_id in (None, self._m) else merchant_id
        sql = (
            "SELECT record ->> 'at' FROM risk_events WHERE merchant_id = %s AND day = %s"
            " AND shop IS NOT DISTINCT FROM %s"
        )
        params: list[object] = [self._m, day.isoformat(), shop]
        for name, value in sorted(match.items()):
            column = _RISK_COLUMNS.get(name)
            if column is None:
                raise ValueError(f"attempts are not found by {name}")
            sql += f" AND {column} = %s"
            params.append(value)
        rows = self._db.all(sql + " ORDER BY n", params)
        return [datetime.fromisoformat(row[0]) for row in rows]

    def blocks(self) -> list[Record]:
        """Every block ever set, in force or not."""
        return self._records("SELECT record FROM risk_blocks WHERE merchant_id = %s ORDER BY n")

    def add_block(self, merchant_id: str | None, block: Record) -> None:
        record = _tagged(block, self._shop(merchant_id), self._m)
        self._db.run(
            "INSERT INTO risk_blocks (merchant_id, record) VALUES (%s, %s)",
            (self._m, Jsonb(record)),
        )

    def ticket(self, merchant_id: str | None, currency: str) -> Record | None:
        """A merchant's approved payments in a currency: their `count` and `sum`."""
        shop = self._shop(merchant_id)
        row = self._db.one(
            "SELECT count, sum FROM risk_tickets WHERE merchant_id = %s AND shop = %s"
            " AND currency = %s",
            (self._m, shop, currency),
        )
        if row is None:
            return None
        return _tagged({"currency": currency, "count": row[0], "sum": row[1]}, shop, self._m)

    def add_ticket(self, merchant_id: str | None, currency: str, amount: int) -> None:
        """Count one more approved payment of `amount` (one statement: exact across
        processes)."""
        self._db.run(
            "INSERT INTO risk_tickets (merchant_id, shop, currency, count, sum)"
            " VALUES (%s, %s, %s, 1, %s) ON CONFLICT (merchant_id, shop, currency) DO UPDATE"
            " SET count = risk_tickets.count + 1, sum = risk_tickets.sum + excluded.sum",
            (self._m, self._shop(merchant_id), currency, amount),
        )


class PgIdempotencyRepository(Repo):
    """Idempotency records by key hash. The key is the primary key: of two concurrent
    inserts of one key the second waits for the first's COMMIT, then fails
    (`db.RecordConflict`), its transaction rolled back: one payment."""

    def get(self, key_hash: str) -> Record | None:
        sql = "SELECT record FROM idempotency WHERE merchant_id = %s AND key = %s"
        return self._record(sql, key_hash)

    def add(self, record: Record) -> None:
        self._db.run(
            "INSERT INTO idempotency (merchant_id, key, record) VALUES (%s, %s, %s)",
            (self._m, record["key"], Jsonb(record)),
        )

    def remove_before(self, cutoff: datetime) -> None:
        """Forget the keys made before `cutoff`."""
        self._db.run(
            "DELETE FROM idempotency WHERE merchant_id = %s AND created_at < %s",
            (self._m, cutoff.isoformat()),
        )


class PgOpenPaymentRepository(Repo):
    """The payments not yet final, each owned by the gateway process that opened it
    (`owner`: alive while its connection holds the owner's advisory lock). A process
    sees its own; those of a dead one are taken over by exactly one other."""

    def __init__(self, db: Database, merchant: str, days: Days, owner: str) -> None:
        super().__init__(db, merchant, days)
        self._owner = owner

    def add(self, payment_id: str) -> None:
        self._db.run(
            "INSERT INTO open_payments (merchant_id, id, owner) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            (self._m, payment_id, self._owner),
        )

    def discard(self, payment_id: str) -> None:
        """Let go of a payment (nothing happens when it is not there)."""
        self._db.run(
            "DELETE FROM open_payments WHERE merchant_id = %s AND id = %s", (self._m, payment_id)
        )

    def ids(self) -> list[str]:
        """This process's open payments, oldest first."""
        rows = self._db.all(
            "SELECT id FROM open_payments WHERE merchant_id = %s AND owner = %s ORDER BY n",
            (self._m, self._owner),
        )
        return [row[0] for row in rows]

    def take_over(self) -> list[str]:
        """Make this process the owner of the open payments of processes that died (or
        were imported: no owner), oldest first: an owner is dead when its lock can be
        taken. Of two processes taking over at once, one gets each dead owner's."""
        taken: list[str] = []
        others = self._db.all(
            "SELECT DISTINCT owner FROM open_payments WHERE merchant_id = %s AND owner <> %s",
            (self._m, self._owner),
        )
        for (owner,) in others:
            with self._db.unit():
                row = self._db.one(
                    "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", (OWNER_LOCK, owner)
                )
                if row and row[0]:
                    moved = self._db.all(
                        "UPDATE open_payments SET owner = %s WHERE merchant_id = %s AND"
                        " owner = %s RETURNING n, id",
                        (self._owner, self._m, owner),
                    )
                    taken += [pid for _n, pid in sorted(moved)]
        return taken


class PgFailedAuthRepository(Repo):
    """Failed authentications per client address, shared by every gateway process on
    the database; addresses whose failures all aged out are forgotten at the next write,
    and at most `MAX_ADDRESSES` are kept."""

    def failures(self, address: str) -> list[datetime]:
        """The failures stored for `address`, oldest first."""
        row = self._db.one(
            "SELECT at FROM auth_failures WHERE merchant_id = %s AND address = %s",
            (self._m, address),
        )
        return [] if row is None else [datetime.fromisoformat(at) for at in row[0]]

    def record(self, address: str, at: datetime, *, since: datetime) -> None:
        """One more failure of `address` at `at`; failures up to `since` are dropped."""
        with self._db.atomic():
            self._db.run(
                "SELECT 1 FROM auth_failures WHERE merchant_id = %s AND address = %s FOR UPDATE",
                (self._m, address),
            )
            kept = [t for t in self.failures(address) if t > since]
            self._db.run(
                "INSERT INTO auth_failures (merchant_id, address, at, last) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT"
                " (merchant_id, address) DO UPDATE SET at = excluded.at, last = excluded.last",
                (self._m, address, Jsonb([t.isoformat() for t in [*kept, at]]), at),
            )
            self._db.run(
                "DELETE FROM auth_failures WHERE merchant_id = %s AND last <= %s", (self._m, since)
            )
            self._db.run(
                "DELETE FROM auth_failures WHERE merchant_id = %s AND address IN (SELECT"
                " address FROM auth_failures WHERE merchant_id = %s ORDER BY last DESC"
                " OFFSET %s)",
                (self._m, self._m, MAX_ADDRESSES),
            )
