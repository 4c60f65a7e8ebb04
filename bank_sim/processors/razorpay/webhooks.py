"""The Razorpay fake's webhooks as Razorpay sends them: a JSON event (`entity: event`,
`event`, `contains`, `payload`, `created_at`) signed `X-Razorpay-Signature:
hex(HMAC-SHA256(webhook_secret, body))` with its `X-Razorpay-Event-Id`.

Every event is kept (the last `KEPT`) for a test to take (`take`, `sent`), and POSTed
to the registered URL when there is one (best effort: a failed delivery is not retried)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import string
import threading
from collections import deque
from dataclasses import dataclass

import httpx

_ALPHABET = string.ascii_letters + string.digits
KEPT = 1000


def new_id(prefix: str) -> str:
    """A Razorpay-style id: the prefix and 14 base-62 characters."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(14))


def sign(secret: str, body: bytes) -> str:
    """Razorpay's webhook signature of `body`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Delivery:
    """One webhook as sent: its id, type, the payment it is about, headers and body."""

    event_id: str
    event: str
    reference: str
    headers: dict[str, str]
    body: bytes


class Webhooks:
    """The fake's webhook endpoint (URL and secret) and its outbox."""

    def __init__(self, secret: str, account_id: str) -> None:
        self._secret = secret
        self._url: str | None = None
        self._account_id = account_id
        self._lock = threading.Lock()  # the server's thread emits, a test's takes
        self._kept: deque[Delivery] = deque(maxlen=KEPT)
        self._fresh: deque[Delivery] = deque(maxlen=KEPT)
        self._unsent: list[Delivery] = []

    def register(self, url: str | None, secret: str) -> None:
        """Send events to `url` (None: keep them in the outbox only), signed with `secret`."""
        self._url, self._secret = url, secret

    def emit(self, event: str, created_at: int, **entities: dict[str, object]) -> None:
        """Sign and queue `event` about `entities` (payment, order, refund)."""
        payload = {name: {"entity": entity} for name, entity in entities.items()}
        body = json.dumps(
            {
                "entity": "event",
                "account_id": self._account_id,
                "event": event,
                "contains": list(entities),
                "payload": payload,
                "created_at": created_at,
            },
            separators=(",", ":"),
        ).encode()
        event_id = new_id("evt_")
        headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Signature": sign(self._secret, body),
            "X-Razorpay-Event-Id": event_id,
        }
        about = entities.get("payment") or {}
        reference = str(about.get("id") or entities.get("refund", {}).get("payment_id", ""))
        delivery = Delivery(event_id, event, reference, headers, body)
        with self._lock:
            self._kept.append(delivery)
            self._fresh.append(delivery)
            if self._url is not None:
                self._unsent.append(delivery)

    def take(self) -> list[Delivery]:
        """The events sent since the last take, oldest first."""
        with self._lock:
            taken = list(self._fresh)
            self._fresh.clear()
        return taken

    def sent(self, reference: str) -> list[Delivery]:
        """The kept events about payment `reference`, oldest first."""
        with self._lock:
            return [d for d in self._kept if d.reference == reference]

    async def send(self, timeout_s: float = 5.0) -> None:
        """POST the queued events to the registered URL, in order."""
        with self._lock:
            unsent, self._unsent = self._unsent, []
        if self._url is None or not unsent:
            return
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            for delivery in unsent:
                try:
                    await client.post(self._url, content=delivery.body, headers=delivery.headers)
                except httpx.HTTPError:
                    continue
