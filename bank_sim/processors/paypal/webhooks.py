"""The PayPal fake's webhooks: events in PayPal's envelope, sent with PayPal's
transmission headers, and the check behind `POST /v1/notifications/verify-webhook-signature`.

PayPal signs `transmission_id|transmission_time|webhook_id|crc32(body)` with its
certificate's key (SHA256withRSA); the fake signs the same input with an Ed25519 key of
its own (seeded in its state file; the public key is served at PAYPAL-CERT-URL). The
body is the event as compact JSON, which is also how the check re-reads `webhook_event`.
"""

from __future__ import annotations

import base64
import json
import uuid
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bank_sim.processors.paypal.store import utc_text

AUTH_ALGO = "Ed25519"  # PayPal's is SHA256withRSA
CERT_ID = "CERT-paygate-fake-paypal"
RESOURCE_TYPES = {"CAPTURE": "capture", "AUTHORIZATION": "authorization", "ORDER": "checkout-order"}


@dataclass(frozen=True)
class SentWebhook:
    """One event as the fake sent it: its type, PayPal's headers and the exact body."""

    event_id: str
    event_type: str
    headers: dict[str, str]
    body: bytes


def canonical(event: dict[str, Any]) -> bytes:
    """The bytes an event is sent (and checked) as."""
    return json.dumps(event, separators=(",", ":")).encode()


def _signed_input(transmission_id: str, time: str, webhook_id: str, body: bytes) -> bytes:
    return f"{transmission_id}|{time}|{webhook_id}|{zlib.crc32(body)}".encode()


class Webhooks:
    """Makes, signs, keeps (and hands to `deliver`) the fake's events."""

    def __init__(self, seed: bytes, webhook_id: str, now: Callable[[], datetime]) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._webhook_id = webhook_id
        self._now = now
        self.sent: deque[SentWebhook] = deque(maxlen=1000)
        self.deliver: Callable[[SentWebhook], None] | None = None

    def public_pem(self) -> str:
        """The public key, served at the PAYPAL-CERT-URL."""
        return (
            self._key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def emit(self, event_type: str, resource: dict[str, Any], cert_url: str) -> SentWebhook:
        """Send `event_type` about `resource` (a capture, authorization or refund)."""
        moment = self._now()
        kind = event_type.split(".")[1]
        event = {
            "id": f"WH-{uuid.uuid4().hex[:17].upper()}",
            "event_version": "1.0",
            "create_time": utc_text(moment),
            "resource_type": RESOURCE_TYPES.get(kind, "refund"),
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": f"{kind.title()} {event_type.rsplit('.', 1)[1].lower()}",
            "resource": resource,
        }
        body = canonical(event)
        transmission_id = str(uuid.uuid4())
        time = utc_text(moment)
        signature = self._key.sign(_signed_input(transmission_id, time, self._webhook_id, body))
        headers = {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": time,
            "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
            "PAYPAL-CERT-URL": cert_url,
            "PAYPAL-AUTH-ALGO": AUTH_ALGO,
            "Content-Type": "application/json",
        }
        sent = SentWebhook(str(event["id"]), event_type, headers, body)
        self.sent.append(sent)
        if self.deliver is not None:
            self.deliver(sent)
        return sent

    def verify(self, request: dict[str, Any]) -> bool:
        """PayPal's verify-webhook-signature: was this event signed for this webhook?"""
        try:
            if request.get("auth_algo") != AUTH_ALGO:
                return False
            if not str(request.get("cert_url", "")).endswith(f"/{CERT_ID}"):
                return False
            body = canonical(request["webhook_event"])
            signed = _signed_input(
                str(request["transmission_id"]),
                str(request["transmission_time"]),
                str(request["webhook_id"]),
                body,
            )
            signature = base64.b64decode(str(request["transmission_sig"]), validate=True)
            self._key.public_key().verify(signature, signed)
        except (KeyError, TypeError, ValueError, InvalidSignature):
            return False
        return True
