"""The day's running totals on PostgreSQL (`TallyRepository`): table `tallies`, one row
per `TallyKey` (its merchant in column `shop`), added to by upserts in the unit of the
write they follow. Adds take the day's advisory lock shared, a rebuild takes it alone, so
no add lands between a rebuild's read of the records and its write of the totals."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from gateway_core.pgstore.repos import Repo
from gateway_core.ports import TallyKey, TallySums
from gateway_core.store.tallies import holds_all

_TALLY_LOCK = 0x74616C6C  # "tall": the advisory lock space of the days' totals
_KEY = "shop, kind, method, brand, funding, currency, status, code, terminal, at"
_SUMS = "n, amount, captured, tips, fees, gst"
_ADD = (
    f"INSERT INTO tallies (merchant_id, day, {_KEY}, {_SUMS})"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    f" ON CONFLICT (merchant_id, day, {_KEY}) DO UPDATE SET"
    " n = tallies.n + excluded.n, amount = tallies.amount + excluded.amount,"
    " captured = tallies.captured + excluded.captured, tips = tallies.tips + excluded.tips,"
    " fees = tallies.fees + excluded.fees, gst = tallies.gst + excluded.gst"
)


class PgTallyRepository(Repo):
    """Running totals by day, every merchant's of this store's rows."""

    def _lock(self, day: date, *, alone: bool) -> None:
        """The day's lock to COMMIT (pipelined: the statements after it wait for it)."""
        how = "pg_advisory_xact_lock" if alone else "pg_advisory_xact_lock_shared"
        self._db.run(f"SELECT {how}(%s, hashtext(%s))", (_TALLY_LOCK, f"{self._m}/{day}"))

    def add(self, day: date, deltas: Mapping[TallyKey, TallySums]) -> None:
        if not deltas:
            return
        with self._db.atomic():
            self._lock(day, alone=False)
            for key, sums in deltas.items():
                self._db.run(_ADD, (self._m, day, *key, *sums))

    def kept(
        self,
        day: date,
        merchant_id: str,
        basis: str,
        rebuild: Callable[[], Mapping[TallyKey, TallySums]],
    ) -> dict[TallyKey, TallySums]:
        """A merchant's totals of the day, rebuilt first (and stored, unless read-only)
        when they do not hold every record of the day under fee basis `basis`."""
        if day not in self._days:
            return {}
        with self._db.unit():
            if not self._db.read_only:
                self._lock(day, alone=True)
            if self._fresh(day, basis):
                return self._of_day(day, merchant_id)
            rebuilt = rebuild()
            if not self._db.read_only:
                self._db.run(
                    "DELETE FROM tallies WHERE merchant_id = %s AND day = %s", (self._m, day)
                )
                for key, sums in rebuilt.items():
                    self._db.run(_ADD, (self._m, day, *key, *sums))
        return {k: TallySums(*v) for k, v in rebuilt.items() if k.merchant_id == merchant_id}

    def _of_day(self, day: date, merchant_id: str) -> dict[TallyKey, TallySums]:
        rows = self._db.all(
            f"SELECT {_KEY}, {_SUMS} FROM tallies WHERE merchant_id = %s AND day = %s"
            " AND shop = %s",
            (self._m, day, merchant_id),
        )
        return {TallyKey(*row[:10]): TallySums(*row[10:]) for row in rows}

    def _fresh(self, day: date, basis: str) -> bool:
        stored = self._db.one(
            "SELECT (SELECT count(*) FROM payments WHERE merchant_id = %s AND day = %s),"
            " (SELECT count(*) FROM refunds WHERE merchant_id = %s AND day = %s)",
            (self._m, day, self._m, day),
        )
        payments, refunds = stored if stored is not None else (0, 0)
        return holds_all(self._of_day(day, ""), basis, payments, refunds)
