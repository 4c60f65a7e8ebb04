"""Baseline: the same store interface over stock TinyDB (JSONStorage). Not product code.

Each database is one `<name>.json` file that TinyDB reads whole on every read and
rewrites whole on every write, in place and without fsync: slower, and not durable.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from tinydb import TinyDB
from tinydb.storages import JSONStorage

from gateway_core.store import DataStore


class StockStorage(JSONStorage):
    """TinyDB's default storage, with the two attributes the store's users reach for."""

    recovered: list[str] = []

    def __init__(
        self, directory: Path, name: str, *, read_only: bool = False, packed: bool = False
    ) -> None:
        super().__init__(
            Path(directory) / f"{name}.json",
            create_dirs=True,
            access_mode="r" if read_only else "r+",
        )

    def atomic(self) -> contextlib.AbstractContextManager[None]:
        """Stock TinyDB has no transactions: each write in the block stands alone."""
        return contextlib.nullcontext()


class StockDB(TinyDB):
    """Stock TinyDB, with `journal` naming its storage as `JournaledDB` does."""

    @property
    def journal(self) -> StockStorage:
        return self.storage  # type: ignore[return-value]


class StockDataStore(DataStore):
    """The data dir's databases as stock TinyDB JSON files."""

    db_class = StockDB
    storage_class = StockStorage
    shared_wal = False
    day_file = re.compile(r"^(\d{4}-\d{2}-\d{2})\.json$")
