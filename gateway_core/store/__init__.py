"""Durable storage: TinyDB's document API over a journaled, crash-safe storage."""

from gateway_core.store.database import DataStore, JournaledDB, NoDataDir
from gateway_core.store.journal import JournalStorage, ReadOnlyStore, StorageCorrupt
from gateway_core.store.lock import DataDirBusy

__all__ = [
    "DataDirBusy",
    "DataStore",
    "JournalStorage",
    "JournaledDB",
    "NoDataDir",
    "ReadOnlyStore",
    "StorageCorrupt",
]
