"""The fake's webhooks: endpoints (each with its own `whsec_` secret, kept in memory
only), events in Stripe's shape, signed as Stripe signs them
(`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "t.body")>`), recorded as
deliveries a test can take without HTTP and posted to the endpoints that have a URL."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from bank_sim.processors.stripe.state import new_id

API_VERSION = "2026-10-28.endive"
log = logging.getLogger(__name__)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The `Stripe-Signature` header of `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass(frozen=True)
class Delivery:
    """One event as sent to one endpoint: its exact body and headers."""

    endpoint: str
    url: str | None
    event: dict[str, Any]
    body: bytes
    headers: dict[str, str]

    @property
    def reference(self) -> str:
        """The PaymentIntent the event is about."""
        obj = self.event["data"]["object"]
        return str(obj.get("payment_intent") or obj["id"])


class Webhooks:
    """The account's webhook endpoints and what was sent to them."""

    def __init__(self) -> None:
        self.endpoints: dict[str, dict[str, Any]] = {}
        self._secrets: dict[str, str] = {}
        self.deliveries: list[Delivery] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def add(
        self, url: str | None, events: list[str], created: int, secret: str | None = None
    ) -> dict[str, Any]:
        """A new endpoint (signing with `secret`, else a new one); its `secret` is in
        this answer only (as Stripe does)."""
        endpoint = {
            "id": new_id("we"),
            "object": "webhook_endpoint",
            "api_version": None,
            "created": created,
            "enabled_events": events,
            "livemode": False,
            "status": "enabled",
            "url": url,
        }
        self.endpoints[endpoint["id"]] = endpoint
        secret = secret or "whsec_" + secrets.token_hex(24)
        self._secrets[endpoint["id"]] = secret
        return endpoint | {"secret": secret}

    def remove(self, endpoint_id: str) -> dict[str, Any] | None:
        self._secrets.pop(endpoint_id, None)
        endpoint = self.endpoints.pop(endpoint_id, None)
        return (
            None
            if endpoint is None
            else {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}
        )

    def publish(
        self, kind: str, obj: dict[str, Any], idempotency_key: str | None, now: int
    ) -> dict[str, Any]:
        """The event `kind` about `obj` (as it is now), signed for every endpoint that
        listens to it."""
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": now,
            "data": {"object": json.loads(json.dumps(obj))},
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": None, "idempotency_key": idempotency_key},
            "type": kind,
        }
        listening = [e for e in self.endpoints.values() if {"*", kind} & set(e["enabled_events"])]
        event["pending_webhooks"] = len(listening)
        body = json.dumps(event, indent=2).encode()
        for endpoint in listening:
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign(self._secrets[endpoint["id"]], body, now),
            }
            self.deliveries.append(Delivery(endpoint["id"], endpoint["url"], event, body, headers))
        return event

    def sent(self, reference: str, kind: str | None = None) -> list[Delivery]:
        """What was sent about the PaymentIntent `reference` (of `kind` if given)."""
        return [
            d for d in self.deliveries
            if d.reference == reference and (kind is None or d.event["type"] == kind)
        ]  # fmt: skip

    def post(self, deliveries: list[Delivery]) -> None:
        """Post `deliveries` to their endpoints' URLs in the background (one try each)."""
        for delivery in deliveries:
            if delivery.url:
                task = asyncio.get_running_loop().create_task(self._post(delivery))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _post(self, delivery: Delivery) -> None:
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                await client.post(
                    str(delivery.url), content=delivery.body, headers=delivery.headers
                )
        except httpx.HTTPError as exc:
            log.warning(
                "stripe fake: webhook %s to %s failed: %s",
                delivery.event["id"],
                delivery.url,
                type(exc).__name__,
            )
