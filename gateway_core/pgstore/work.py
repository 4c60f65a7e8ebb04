"""Cashiers' shifts with their drawer moves, and split bills, on PostgreSQL. They
implement `ports.ShiftRepository` and `ports.BillRepository` as the embedded store's
(`gateway_core.store.shifts`, `.bills`) do."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from psycopg.types.json import Jsonb

from gateway_core.pgstore.repos import Repo
from gateway_core.ports import Record
from gateway_core.store.bills import _hashed


class PgShiftRepository(Repo):
    """Shifts and the moves of their drawers; an open shift is found by its terminal."""

    def get(self, shift_id: str) -> Record | None:
        return self._record(
            "SELECT record FROM shifts WHERE merchant_id = %s AND id = %s", shift_id
        )

    def open_on(self, merchant_id: str, terminal_id: str) -> Record | None:
        """The merchant's open shift on a terminal, None when there is none."""
        return self._record(
            "SELECT record FROM shifts WHERE merchant_id = %s AND shop = %s AND terminal_id = %s"
            " AND status = 'open' ORDER BY n LIMIT 1",
            merchant_id,
            terminal_id,
        )

    def of_merchant(self, merchant_id: str, day: date | None = None) -> list[Record]:
        """The merchant's shifts opened on `day` and those still open (every shift when
        `day` is None), oldest first."""
        sql = "SELECT record FROM shifts WHERE merchant_id = %s AND shop = %s"
        found = self._records(sql, merchant_id)
        wanted = [
            r for r in found if day is None or r["day"] == day.isoformat() or r["status"] == "open"
        ]
        return sorted(wanted, key=lambda r: r["opened_at"])

    def add(self, shift: Record, opening: Record) -> None:
        """File a new shift and its opening move (the float) as one transaction."""
        with self._db.atomic():
            self._db.run(
                "INSERT INTO shifts (merchant_id, id, record) VALUES (%s, %s, %s)",
                (self._m, shift["id"], Jsonb(shift)),
            )
            self._move(opening)

    def _move(self, move: Record) -> None:
        self._db.run(
            "INSERT INTO drawer_moves (merchant_id, record) VALUES (%s, %s)", (self._m, Jsonb(move))
        )

    def update(self, shift_id: str, fields: Mapping[str, Any]) -> None:
        self._db.run(
            "UPDATE shifts SET record = record || %s WHERE merchant_id = %s AND id = %s",
            (Jsonb(dict(fields)), self._m, shift_id),
        )

    def add_move(self, move: Record, expected: int) -> None:
        """File a drawer move and the shift's new expected amount as one transaction."""
        with self._db.atomic():
            self._move(move)
            self.update(move["shift_id"], {"expected": expected})

    def moves(self, shift_id: str) -> list[Record]:
        """A shift's drawer moves, oldest first."""
        sql = "SELECT record FROM drawer_moves WHERE merchant_id = %s AND shift_id = %s ORDER BY n"
        return self._records(sql, shift_id)

    def refund_move(self, refund_id: str) -> Record | None:
        """The move that paid a refund out, None when none did."""
        return self._record(
            "SELECT record FROM drawer_moves WHERE merchant_id = %s AND refund_id = %s"
            " ORDER BY n LIMIT 1",
            refund_id,
        )


class PgBillRepository(Repo):
    """Bills by (day, id); the open ones are those whose status says so (an index)."""

    def forget_indexes(self) -> None:
        """Nothing to forget: the database's indexes roll back with the transaction."""

    def save(self, day: date, bill: Record) -> None:
        self._days.note(day)
        self._db.run(
            "INSERT INTO bills (merchant_id, day, id, record) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (merchant_id, day, id) DO UPDATE SET record = excluded.record",
            (self._m, day, bill["id"], Jsonb(bill)),
        )

    def get(self, day: date, bill_id: str) -> Record | None:
        sql = "SELECT record FROM bills WHERE merchant_id = %s AND day = %s AND id = %s"
        return self._record(sql, day, bill_id)

    def for_day(self, day: date) -> list[Record]:
        """The bills opened on a day, oldest first."""
        sql = "SELECT record FROM bills WHERE merchant_id = %s AND day = %s ORDER BY n"
        return self._records(sql, day)

    def open_ids(self) -> list[str]:
        """The bills open or canceling, oldest first."""
        rows = self._db.all(
            "SELECT id FROM bills WHERE merchant_id = %s AND status IN ('open', 'canceling')"
            " ORDER BY n",
            (self._m,),
        )
        return [row[0] for row in rows]

    def by_key(self, key: str) -> str | None:
        """The bill an idempotency key opened, or None."""
        sql = "SELECT bill_id FROM bill_keys WHERE merchant_id = %s AND key = %s"
        row = self._db.one(sql, (self._m, _hashed(key)))
        return None if row is None else str(row[0])

    def add_key(self, key: str, bill_id: str) -> None:
        """Remember the bill a key opened (a key is taken once)."""
        self._db.run(
            "INSERT INTO bill_keys (merchant_id, key, bill_id) VALUES (%s, %s, %s)",
            (self._m, _hashed(key), bill_id),
        )
