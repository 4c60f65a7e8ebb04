"""The merchants' webhook endpoints and their deliveries on PostgreSQL
(`ports.WebhookRepository`, as `gateway_core.store.webhooks` keeps them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg.types.json import Jsonb

from gateway_core.pgstore.repos import Repo
from gateway_core.ports import Record


class PgWebhookRepository(Repo):
    """Endpoints and deliveries, each in the order added."""

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
