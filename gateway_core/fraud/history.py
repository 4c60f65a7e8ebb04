"""Labelled payment history: what `paygate risk simulate` writes and training reads.

One JSON object a line, oldest first, plain values only. A card is its token id (a
fingerprint), its BIN-6 and last 4 digits: never a card number. A fraud carries the
pattern it came from and when its chargeback arrives (`label_at`): training may use a
label only once it has arrived.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson

from gateway_core.errors import InputError
from gateway_core.fraud.features import Attempt


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """One attempt of the history and what became known of it."""

    id: str
    attempt: Attempt
    last4: str  # "" for a UPI payer
    currency: str
    fraud: bool = False
    pattern: str = ""  # card_testing, account_takeover, stolen_abroad, velocity, bin_attack
    label_at: datetime | None = None  # when the chargeback arrives (frauds only)

    def line(self) -> bytes:
        """This record as one JSON line."""
        a = self.attempt
        doc = {
            "id": self.id,
            "at": a.at.isoformat(),
            "card": a.card,
            "bin6": a.bin6,
            "last4": self.last4,
            "funding": a.funding,
            "country": a.country,
            "terminal": a.terminal,
            "amount": a.amount,
            "currency": self.currency,
            "outcome": "declined" if a.declined else "approved",
            "fraud": self.fraud,
            "pattern": self.pattern,
            "label_at": self.label_at.isoformat() if self.label_at else None,
        }
        return orjson.dumps(doc) + b"\n"

    @classmethod
    def parse(cls, line: bytes) -> HistoryRecord:
        doc = orjson.loads(line)
        attempt = Attempt(
            at=datetime.fromisoformat(doc["at"]),
            card=doc["card"],
            terminal=doc["terminal"],
            amount=int(doc["amount"]),
            bin6=doc["bin6"],
            funding=doc["funding"],
            country=doc["country"],
            declined=doc["outcome"] == "declined",
        )
        label = doc["label_at"]
        return cls(
            id=doc["id"],
            attempt=attempt,
            last4=doc["last4"],
            currency=doc["currency"],
            fraud=bool(doc["fraud"]),
            pattern=doc["pattern"],
            label_at=datetime.fromisoformat(label) if label else None,
        )


def history_bytes(records: Iterable[HistoryRecord]) -> bytes:
    """The file's content for `records`."""
    return b"".join(r.line() for r in records)


def read_history(path: Path) -> tuple[list[HistoryRecord], str]:
    """The records of a history file and the SHA-256 of its bytes (a plain error for a
    missing or broken file)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"no history at {path}: run `paygate risk simulate` first") from None
    try:
        records = [HistoryRecord.parse(line) for line in data.splitlines() if line]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise InputError(f"{path} is not a payment history file") from None
    if not records:
        raise InputError(f"{path} holds no payments")
    return records, hashlib.sha256(data).hexdigest()
