"""The real processors a gateway reaches (`ports.Connector`), opened on first use and
closed with the runtime, and what it remembers about them in the idempotency records
(namespaced keys, in both stores): which payment a provider's id belongs to, and which
of a provider's webhook events were taken (each one once).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gateway_core.idempotency import key_hash
from gateway_core.ports import IdempotencyRepository
from gateway_core.ports.connectors import Connector, ConnectorEvent


def attempt_key(payment_id: str, processor: str) -> str:
    """The idempotency key of a payment's attempt at `processor` (each processor is
    tried once per payment): a retry of it is the same provider payment."""
    return f"paygate-{payment_id}-{processor}"


class Processors:
    """Connectors by name (`open` makes one), a payment's provider ids, the events
    taken, and the verified events waiting for their payment's tender (`inbox`)."""

    def __init__(
        self, open_connector: Callable[[str], Connector], records: IdempotencyRepository
    ) -> None:
        self._open = open_connector
        self._records = records
        self._connectors: dict[str, Connector] = {}
        self.inbox: dict[str, ConnectorEvent] = {}  # payment id → an event to apply

    def get(self, name: str) -> Connector:
        """The connector `name`, opened now if it is not yet."""
        if name not in self._connectors:
            self._connectors[name] = self._open(name)
        return self._connectors[name]

    def remember(self, processor: str, reference: str, payment_id: str, now: datetime) -> None:
        """File that `processor`'s payment `reference` is `payment_id` (once)."""
        key = key_hash(f"processor-payment:{processor}:{reference}")
        if self._records.get(key) is None:
            record = {"key": key, "params": None, "payment_id": payment_id}
            self._records.add({**record, "created_at": now.isoformat()})

    def payment_of(self, processor: str, reference: str) -> str | None:
        """The payment `processor`'s payment `reference` is, if filed."""
        doc = self._records.get(key_hash(f"processor-payment:{processor}:{reference}"))
        return None if doc is None else str(doc["payment_id"])

    def taken(self, event: ConnectorEvent) -> bool:
        """Whether this event (by its provider and id) was taken already."""
        return self._records.get(self._event_key(event)) is not None

    def take(self, event: ConnectorEvent, subject: str, now: datetime) -> None:
        """File `event` as taken (about `subject`, a payment id or the provider's id)."""
        record = {"key": self._event_key(event), "params": None, "payment_id": subject}
        self._records.add({**record, "created_at": now.isoformat()})

    @staticmethod
    def _event_key(event: ConnectorEvent) -> str:
        return key_hash(f"processor-event:{event.provider}:{event.event_id}")

    async def aclose(self) -> None:
        """Close every connector opened."""
        connectors, self._connectors = list(self._connectors.values()), {}
        for connector in connectors:
            await connector.close()
