"""The merchants' webhook endpoints and their deliveries on PostgreSQL
(`ports.WebhookRepository`, as `gateway_core.store.webhooks` keeps them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from gateway_core.pgstore.db import Database, DatabaseUnavailable, redacted
from gateway_core.pgstore.repos import Days, Repo
from gateway_core.ports import Record

_LEAD_LOCK = 0x77686B73  # "whks": the advisory lock of the process that delivers


class PgWebhookRepository(Repo):
    """Endpoints and deliveries, each in the order added. The process that delivers for
    the merchant holds a session advisory lock on a connection of its own (`leading`)
    until `close`."""

    def __init__(self, db: Database, merchant: str, days: Days) -> None:
        super().__init__(db, merchant, days)
        self._lead: psycopg.Connection[tuple[object, ...]] | None = None

    def leading(self) -> bool:
        """Whether this process delivers: it holds the lock, or takes it now (free: no
        other process holds it, or its holder died)."""
        if self._lead is None and not self._db.read_only:
            try:
                conn = psycopg.connect(self._db.url, autocommit=True)
            except psycopg.Error as e:
                raise DatabaseUnavailable(f"database {redacted(self._db.url)}: {e}") from e
            row = conn.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (_LEAD_LOCK, self._m)
            ).fetchone()
            if row and row[0]:
                self._lead = conn
            else:
                conn.close()
        return self._lead is not None

    def close(self) -> None:
        """Let another process deliver."""
        if self._lead is not None:
            self._lead.close()
            self._lead = None

    def add_endpoint(self, endpoint: Record) -> None:
        self._db.run(
            "INSERT INTO webhook_endpoints (merchant_id, id, record) VALUES (%s, %s, %s)",
            (self._m, endpoint["id"], Jsonb(endpoint)),
        )

    def endpoint(self, endpoint_id: str) -> Record | None:
        sql = "SELECT record FROM webhook_endpoints WHERE merchant_id = %s AND id = %s"
        return self._record(sql, endpoint_id)

    def endpoints(self) -> list[Record]:
        sql = "SELECT record FROM webhook_endpoints WHERE merchant_id = %s ORDER BY n"
        return self._records(sql)

    def update_endpoint(self, endpoint_id: str, fields: Mapping[str, Any]) -> None:
        self._db.run(
            "UPDATE webhook_endpoints SET record = record || %s WHERE merchant_id = %s AND id = %s",
            (Jsonb(dict(fields)), self._m, endpoint_id),
        )

    def add_delivery(self, delivery: Record) -> None:
        self._db.run(
            "INSERT INTO webhook_deliveries (merchant_id, id, record) VALUES (%s, %s, %s)",
            (self._m, delivery["id"], Jsonb(delivery)),
        )

    def delivery(self, delivery_id: str) -> Record | None:
        sql = "SELECT record FROM webhook_deliveries WHERE merchant_id = %s AND id = %s"
        return self._record(sql, delivery_id)

    def update_delivery(self, delivery_id: str, fields: Mapping[str, Any]) -> None:
        self._db.run(
            "UPDATE webhook_deliveries SET record = record || %s WHERE merchant_id = %s"
            " AND id = %s",
            (Jsonb(dict(fields)), self._m, delivery_id),
        )

    def deliveries(
        self, endpoint_id: str | None = None, *, state: str | None = None, limit: int | None = None
    ) -> list[Record]:
        sql = "SELECT record FROM webhook_deliveries WHERE merchant_id = %s"
        params: list[object] = []
        for column, value in (("endpoint_id", endpoint_id), ("state", state)):
            if value is not None:
                sql += f" AND {column} = %s"
                params.append(value)
        if limit is None:
            return self._records(sql + " ORDER BY n", *params)
        newest = self._records(sql + " ORDER BY n DESC LIMIT %s", *params, limit)
        return newest[::-1]

    def audit_after(self, day: date | None, seq: int, limit: int) -> list[tuple[date, Record]]:
        """The audit events after `seq` (on the index of a merchant's events by day:
        the rows of the cursor's day and later are looked at)."""
        rows = self._db.all(
            "SELECT day, record FROM audit_events WHERE merchant_id = %s AND day >= %s"
            " AND (record ->> 'seq')::bigint > %s ORDER BY day, n LIMIT %s",
            (self._m, day or date.min, seq, limit),
        )
        return [(row[0], row[1]) for row in rows]
