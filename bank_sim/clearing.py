"""The acquirer's clearing files: one per business day, a line per capture, refund and
reversed sale.

A line is written *owed* in the banks' main database, in the same write as the booking
it clears (so it is never lost nor made twice), then copied into its day's file and
forgotten there. Captures and refunds (rare, a person waits on them) are copied at once;
the lines of sales (single-message 0200s, the hot path) are copied in batches of
`BATCH`, when the banks open and when they close, so that a sale costs the banks one
durable write. Until then a day's file is read together with what is owed to it. After
a crash or a failed copy a line already in its file is skipped, never copied twice.
Each day counts the lines written to it, so that a day that goes missing or loses lines
is noticed (`check`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any

from bank_sim.config import BankConfig
from gateway_core.clock import business_day
from gateway_core.store import DataStore, JournaledDB
from gateway_core.store.documents import Documents

BATCH = 100  # owed sale lines copied into their days together


class Clearing:
    """Owed lines, their copy into the days' files, and the count of each day."""

    def __init__(self, db: JournaledDB, store: DataStore, config: BankConfig) -> None:
        self._db = db
        self._store = store
        self._config = config
        self._owed = Documents(db, "clearing_owed")  # lines written in main, not yet in their day
        self._cleared = Documents(db, "clearing_days", key="day")  # day → lines it was given
        if not self._cleared:
            self._count_existing_days()
        self._unsure = True  # after a crash an owed line may be in its day already
        self.pay()

    def owe(
        self, kind: str, record: dict[str, Any], amount: int, ref: str, day: date | None
    ) -> str:
        """Inside the booking's write: the line, owed to the clearing file of the
        merchant's business day the request names (DE15; today if none), and counted;
        returns that day."""
        on = (day or business_day(self._config.clock, self._config.tz)).isoformat()
        line = {
            "type": kind,
            "ref": ref,
            "payment_id": record["payment_id"],
            "amount": amount,
            "currency": record["currency"],
            "rrn": record["rrn"],
            "auth_code": record.get("auth_code"),
            "merchant_id": record["merchant_id"],
            "terminal_id": record["terminal_id"],
            "brand": record.get("brand"),
            "funding": record.get("funding"),
            "at": self._config.clock.now().isoformat(),
        }
        self._owed.add({"day": on, "line": line})
        self._count(on, 1)
        return on

    def _count(self, day: str, lines: int) -> None:
        doc = self._cleared.get(day)
        if doc is None:
            self._cleared.add({"day": day, "lines": lines})
        else:
            self._cleared.update(day, {"lines": doc["lines"] + lines})

    def pay_when_due(self) -> None:
        """Copy the owed lines once a batch of them waits."""
        if len(self._owed) >= BATCH:
            self.pay()

    def pay(self) -> None:
        """Copy the owed clearing lines into their days' files, then forget them. After
        a crash or a failed copy (`_unsure`), a line already in its file is skipped."""
        owed = list(self._owed)
        if not owed:
            return
        unsure, self._unsure = self._unsure, True
        by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for doc in owed:
            by_day[doc["day"]].append(doc["line"])
        for day, lines in by_day.items():
            db = self._store.day(date.fromisoformat(day))
            table = Documents(db, "clearing")
            there = {(d["type"], d["ref"]) for d in table} if unsure else set()
            with db.journal.atomic():
                for line in lines:
                    if (line["type"], line["ref"]) not in there:
                        table.add(line)
        paid = {(doc["line"]["type"], doc["line"]["ref"]) for doc in owed}
        self._owed.remove_where(lambda doc: (doc["line"]["type"], doc["line"]["ref"]) in paid)
        self._unsure = False

    def _count_existing_days(self) -> None:
        """Banks from before days were counted: count the lines their days hold now."""
        counts = {day: len(_file(self._store, day)) for day in self._store.days()}
        with self._db.journal.atomic():
            for day, lines in counts.items():
                self._count(day.isoformat(), lines)

    def check(self) -> str | None:
        """The first clearing day that is gone or holds other than the lines written to
        it (None when every one is whole)."""
        on_disk = set(self._store.days())
        owed: Counter[str] = Counter(doc["day"] for doc in self._owed)
        for doc in sorted(self._cleared, key=lambda d: d["day"]):
            day, lines = date.fromisoformat(doc["day"]), doc["lines"] - owed[doc["day"]]
            files = f"{self._store.days_dir / day.isoformat()}.*"
            if day not in on_disk and lines:
                return (
                    f"the banks' clearing day {day} is missing ({lines} capture and refund "
                    f"lines): restore {files} from a backup"
                )
            held = len(_file(self._store, day)) if day in on_disk else 0
            if held != lines:
                return (
                    f"the banks' clearing day {day} holds {held} lines, {lines} were "
                    f"written to it: restore {files} from a backup"
                )
        return None

    def lines(self, day: date) -> list[dict[str, Any]]:
        """The clearing file of one business day: every capture and refund, with the
        lines still owed to it; a sale reversed after its answer was lost is in neither
        (its sale line and its reversal line cancel out)."""
        held = list(_file(self._store, day)) if day in self._store.days() else []
        owed = [doc["line"] for doc in self._owed if doc["day"] == day.isoformat()]
        reversed_sales = {line["ref"] for line in [*held, *owed] if line["type"] == "reversal"}
        return [
            line
            for line in [*held, *owed]
            if line["type"] != "reversal"
            and not (line["type"] == "capture" and line["ref"] in reversed_sales)
        ]


def _file(store: DataStore, day: date) -> Documents:
    """The clearing file of one business day (its lines, one per capture or refund)."""
    return Documents(store.day(day), "clearing")
