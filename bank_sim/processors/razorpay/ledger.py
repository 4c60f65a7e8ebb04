"""The Razorpay fake's records (orders, payments, refunds, card usage), kept as
Razorpay's entities in one JSON file under the fake's directory, written atomically
after every change. Fields starting "_" are the fake's own and never served."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from gateway_core.store.files import make_private_dir, write_atomically

Entity = dict[str, Any]
FILE = "razorpay.json"


def public(entity: Entity) -> Entity:
    """An entity as Razorpay serves it (the fake's own fields dropped)."""
    return {k: v for k, v in entity.items() if not k.startswith("_")}


def collection(items: list[Entity]) -> Entity:
    """Razorpay's list answer."""
    return {"entity": "collection", "count": len(items), "items": [public(i) for i in items]}


class Ledger:
    """Orders, payments and refunds by id, and card usage by account; `lock` guards
    every change, `save` writes the file whole."""

    def __init__(self, directory: Path) -> None:
        make_private_dir(directory)
        self._path = directory / FILE
        self.lock = threading.RLock()
        data: dict[str, Any] = {}
        if self._path.exists():
            data = json.loads(self._path.read_text(encoding="utf-8"))
        self.orders: dict[str, Entity] = data.get("orders", {})
        self.payments: dict[str, Entity] = data.get("payments", {})
        self.refunds: dict[str, Entity] = data.get("refunds", {})
        self.usage: dict[str, Entity] = data.get("usage", {})

    def save(self) -> None:
        """Write every record, whole or not at all."""
        data = {
            "orders": self.orders,
            "payments": self.payments,
            "refunds": self.refunds,
            "usage": self.usage,
        }
        write_atomically(self._path, json.dumps(data).encode(), replace=True)

    def order(self, order_id: str) -> Entity | None:
        return self.orders.get(order_id)

    def payments_of(self, order_id: str) -> list[Entity]:
        """An order's payments, newest first."""
        found = [p for p in self.payments.values() if p["order_id"] == order_id]
        return sorted(found, key=lambda p: p["_seq"], reverse=True)

    def refunds_of(self, payment_id: str) -> list[Entity]:
        """A payment's refunds, newest first."""
        found = [r for r in self.refunds.values() if r["payment_id"] == payment_id]
        return sorted(found, key=lambda r: r["_seq"], reverse=True)

    def next_seq(self) -> int:
        """An ever-growing number ordering records made in the same second."""
        return len(self.orders) + len(self.payments) + len(self.refunds)
