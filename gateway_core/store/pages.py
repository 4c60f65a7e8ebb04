"""A day's payments a page at a time, newest first: each merchant's order of the day
(creation time, then id, descending) sliced from the stored bytes without decoding the
documents (a 100k-payment day in a fraction of a decode), then one page decoded.

The order of a day is kept while the day's table holds as many documents as when it
was made (a payment's id, merchant and creation time never change once stored)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from typing import Any

import orjson
from tinydb.table import Table

from gateway_core.store.table import Decoded

Cursor = tuple[str, str]  # (created_at, id) of the last payment shown
Order = list[tuple[str, str, int]]  # (created_at, id, doc id), newest first

_CREATED, _MERCHANT = b'"created_at":"', b'"merchant_id":"'


def _sliced(doc: bytes, mark: bytes, *, last: bool = False) -> str | None:
    """A top-level string field read from a document's JSON bytes (None: decode it).
    `last`: the field comes after every nested object (its last occurrence is its own)."""
    at = doc.rfind(mark) if last else doc.find(mark)
    if at < 0:
        return None
    start = at + len(mark)
    end = doc.find(b'"', start)
    if end < 0 or doc.find(b"\\", start, end) >= 0:
        return None
    return doc[start:end].decode()


def day_order(table: Table, merchant_id: str | None) -> Order:
    """A merchant's payments of the day (None: every merchant's), newest first:
    (created_at, id, doc id)."""
    docs = table._read_table()
    order: Order = []
    if isinstance(docs, Decoded):
        held: Mapping[str, Any] = docs._docs
        for key, raw in held.items():
            merchant = _sliced(raw, _MERCHANT)
            created = _sliced(raw, _CREATED, last=True)
            if merchant is None or created is None:  # escaped, or shaped otherwise
                doc = orjson.loads(raw)
                merchant, created = doc.get("merchant_id"), doc["created_at"]
            if merchant_id is None or merchant == merchant_id:
                order.append((created, _payment_id(raw), int(key)))
    else:
        order = [
            (doc["created_at"], doc["id"], int(key))
            for key, doc in docs.items()
            if merchant_id is None or doc.get("merchant_id") == merchant_id
        ]
    order.sort(reverse=True)
    return order


def _payment_id(raw: bytes) -> str:
    """A payment's id: written first in its document (else decoded)."""
    end = raw.find(b'"', 7) if raw.startswith(b'{"id":"') else -1
    if end < 0 or raw.find(b"\\", 7, end) >= 0:
        found: str = orjson.loads(raw)["id"]
        return found
    return raw[7:end].decode()


def after(order: Order, cursor: Cursor | None) -> int:
    """Where the page after `cursor` starts in a day's order."""
    if cursor is None:
        return 0
    return bisect_left(order, True, key=lambda entry: (entry[0], entry[1]) < cursor)
