"""The PayPal fake's state: orders, authorizations, captures, refunds, the
PayPal-Request-Id answers and the webhook signing key, in one JSON file under the
directory the fake is opened with, written whole and atomically after every change."""

from __future__ import annotations

import json
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway_core.errors import SystemFailure
from gateway_core.store.files import make_private_dir, write_atomically

Record = dict[str, Any]
KINDS = ("orders", "authorizations", "captures", "refunds")


def utc_text(moment: datetime) -> str:
    """PayPal's time format: 2026-12-07T00:30:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PaypalStore:
    """Records by kind and id, kept in `directory/paypal.json`."""

    def __init__(self, directory: Path) -> None:
        make_private_dir(directory)
        self._path = directory / "paypal.json"
        self.lock = threading.RLock()
        if self._path.exists():
            try:
                self._data: dict[str, Any] = json.loads(self._path.read_text(encoding="utf-8"))
                bytes.fromhex(self._data["signing_seed"])
            except (ValueError, KeyError, TypeError):
                raise SystemFailure(
                    f"the PayPal fake's state {self._path} is unreadable: move it away"
                ) from None
        else:
            self._data = {kind: {} for kind in KINDS}
            self._data["requests"] = {}
            self._data["signing_seed"] = secrets.token_hex(32)
            self.save()

    @property
    def signing_seed(self) -> bytes:
        """The seed of the fake's own webhook signing key."""
        return bytes.fromhex(self._data["signing_seed"])

    def new_id(self) -> str:
        """A PayPal-style id: 17 upper-case letters and digits."""
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
        return "".join(secrets.choice(alphabet) for _ in range(17))

    def get(self, kind: str, record_id: str) -> Record | None:
        record: Record | None = self._data[kind].get(record_id)
        return record

    def records(self, kind: str) -> list[Record]:
        """Every record of `kind`, oldest first."""
        with self.lock:
            return list(self._data[kind].values())

    def put(self, kind: str, record: Record) -> None:
        self._data[kind][record["id"]] = record

    def answered(self, scope: str, request_id: str | None) -> Record | None:
        """What an earlier request with this PayPal-Request-Id made, if any."""
        if not request_id:
            return None
        found: Record | None = self._data["requests"].get(f"{scope}|{request_id}")
        return found

    def remember(self, scope: str, request_id: str | None, kind: str, record_id: str) -> None:
        if request_id:
            self._data["requests"][f"{scope}|{request_id}"] = {"kind": kind, "id": record_id}

    def save(self) -> None:
        """Write the whole state, whole or not at all (private to the user)."""
        data = json.dumps(self._data, separators=(",", ":")).encode()
        write_atomically(self._path, data, replace=True)
