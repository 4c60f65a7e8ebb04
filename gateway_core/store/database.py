"""The data dir: a long-lived `main` database plus one database per business day.

```
<data_dir>/paygate.lock, writer.json      writer lock (see lock.py)
<data_dir>/db/main.*                      tokens, audit head, users, settings
<data_dir>/db/days/YYYY-MM-DD.*           that day's payments and audit events
```

Today's writes go to today's file set only, so they never pay for history. A writer
holds the data dir's lock; a read-only open takes no lock and cannot write.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from tinydb import TinyDB

from gateway_core.errors import InputError
from gateway_core.store.journal import JournalStorage
from gateway_core.store.lock import WriterLock
from gateway_core.store.table import JournaledTable


class NoDataDir(InputError):
    """A data dir that holds no paygate data, opened by a command that needs some."""


class JournaledDB(TinyDB):
    """TinyDB on a `JournalStorage` with journaled tables."""

    table_class = JournaledTable

    @property
    def journal(self) -> JournalStorage:
        """The storage under this database."""
        return self.storage  # type: ignore[return-value]


class DataStore:
    """Opens the databases of a data dir; one writer per dir, any number of readers.

    `db_class` and `storage_class` make a database; `day_file` matches a day's file names
    (benchmarks run the same code over SQLite and stock TinyDB by changing these three).
    """

    db_class: type[TinyDB] = JournaledDB
    storage_class: type = JournalStorage
    day_file = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(snapshot\.json|journal\.jsonl)$")

    def __init__(self, data_dir: Path, *, read_only: bool = False, create: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.read_only = read_only
        self.db_dir = self.data_dir / "db"
        self.days_dir = self.db_dir / "days"
        self._lock: WriterLock | None = None
        self._days: dict[date, JournaledDB] = {}
        self._main: JournaledDB | None = None
        if (read_only or not create) and not self.db_dir.is_dir():
            raise NoDataDir(f"no paygate data in {self.data_dir}")
        if not read_only:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._lock = WriterLock(self.data_dir)
            self._lock.acquire()
        try:
            self._main = self._open(self.db_dir, "main")
            if not read_only:
                for day in self._unclean_days():
                    self.day(day)  # a torn tail is repaired and reported now, not later
        except BaseException:
            self.close()
            raise

    @property
    def main(self) -> JournaledDB:
        """The long-lived database: tokens, users, the audit head."""
        assert self._main is not None, "store is closed"
        return self._main

    def _open_dbs(self) -> list[JournaledDB]:
        return [*self._days.values(), *([self._main] if self._main is not None else [])]

    def _open(self, directory: Path, name: str, *, packed: bool = False) -> JournaledDB:
        return self.db_class(
            directory, name, storage=self.storage_class, read_only=self.read_only, packed=packed
        )

    def day(self, day: date) -> JournaledDB:
        """The database of one business day (created on first write), packed: its
        documents are held as JSON bytes."""
        if day not in self._days:
            self._days[day] = self._open(self.days_dir, day.isoformat(), packed=True)
        return self._days[day]

    def days(self) -> list[date]:
        """Every business day that has data, oldest first."""
        if not self.days_dir.is_dir():
            return []
        found = {
            date.fromisoformat(m.group(1))
            for p in self.days_dir.iterdir()
            if (m := self.day_file.match(p.name))
        }
        return sorted(found | set(self._days))

    def _unclean_days(self) -> list[date]:
        """Days not left as a clean close leaves them (an empty journal beside the
        snapshot): being written at a crash, so maybe torn, or with their journal gone."""
        return [
            day
            for day in self.days()
            if not _empty(self.days_dir / f"{day.isoformat()}.journal.jsonl")
        ]

    @property
    def recovered(self) -> list[str]:
        """What opening had to repair (torn journal tails dropped), for the operator."""
        return [note for db in self._open_dbs() for note in db.journal.recovered]

    def close(self) -> None:
        """Compact and close every open database, then release the writer lock."""
        try:
            for db in self._open_dbs():
                db.close()
            self._days.clear()
            self._main = None
        finally:
            if self._lock is not None:
                self._lock.release()

    def __enter__(self) -> DataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _empty(path: Path) -> bool:
    return path.exists() and path.stat().st_size == 0
