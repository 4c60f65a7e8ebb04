"""Cashiers' shifts and their drawer moves, in the main database (`shifts`,
`drawer_moves`): an open shift is found by its terminal in one lookup, whatever day it
opened on. Implements `ports.ShiftRepository`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from tinydb import Query

from gateway_core.ports import Record
from gateway_core.store.database import DataStore


class TinyShiftRepository:
    """Shifts (`shifts`) and the moves of their drawers (`drawer_moves`)."""

    def __init__(self, store: DataStore) -> None:
        self._store = store
        self._shifts = store.main.table("shifts")
        self._moves = store.main.table("drawer_moves")

    def get(self, shift_id: str) -> Record | None:
        doc = self._shifts.get(Query().id == shift_id)
        return None if doc is None else dict(doc)

    def open_on(self, merchant_id: str, terminal_id: str) -> Record | None:
        """The merchant's open shift on a terminal, None when there is none."""
        q = Query()
        mine = (q.merchant_id == merchant_id) & (q.terminal_id == terminal_id)
        doc = self._shifts.get(mine & (q.status == "open"))
        return None if doc is None else dict(doc)

    def of_merchant(self, merchant_id: str, day: date | None = None) -> list[Record]:
        """The merchant's shifts opened on `day` and those still open (every shift when
        `day` is None), oldest first."""
        q = Query()
        found = self._shifts.search(q.merchant_id == merchant_id)
        wanted = [
            d for d in found if day is None or d["day"] == day.isoformat() or d["status"] == "open"
        ]
        return sorted((dict(d) for d in wanted), key=lambda r: r["opened_at"])

    def add(self, shift: Record, opening: Record) -> None:
        """File a new shift and its opening move (the float) as one durable write."""
        with self._store.main.journal.atomic():
            self._shifts.insert(shift)
            self._moves.insert(opening)

    def update(self, shift_id: str, fields: Mapping[str, Any]) -> None:
        self._shifts.update(dict(fields), Query().id == shift_id)

    def add_move(self, move: Record, expected: int) -> None:
        """File a drawer move and the shift's new expected amount as one durable write."""
        with self._store.main.journal.atomic():
            self._moves.insert(move)
            self._shifts.update({"expected": expected}, Query().id == move["shift_id"])

    def moves(self, shift_id: str) -> list[Record]:
        """A shift's drawer moves, oldest first."""
        return [dict(d) for d in self._moves.search(Query().shift_id == shift_id)]

    def refund_move(self, refund_id: str) -> Record | None:
        """The move that paid a refund out, None when none did."""
        doc = self._moves.get(Query().refund_id == refund_id)
        return None if doc is None else dict(doc)
