"""A scripted processor for the routing tests (`ports.Connector`, no SDK): each
authorization does what the next word of its `script` says, and it keeps the payments
it made, found again by their idempotency key or id, as a provider does.

Words: "approve", "decline", "action" (3-D Secure), "pending", "down" (503, nothing
made), "unreached" (never sent), "lost" (sent, nothing made, answer lost),
"accept_then_lost" (made, then the answer lost), "refuse" (the request itself
refused). `status_script`: "unknown" makes the next status call fail too. Webhooks
are signed `X-Test-Signature: HMAC-SHA256(body)`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from support import open_runtime

from gateway_core.clock import FixedClock
from gateway_core.errors import BankNotReached, BankRefused, BankUnavailable
from gateway_core.ports.connectors import (
    ConnectorCharge,
    ConnectorEvent,
    ConnectorRefund,
    ConnectorResult,
    ConnectorStatus,
    ProcessorDown,
    SignatureRefused,
)
from gateway_core.runtime import Runtime
from gateway_core.settings import ProcessorSettings, load_settings
from gateway_core.tenders.processors import Processors

SECRET = b"whsec_test"


@dataclass
class Made:
    """A payment the processor made."""

    reference: str
    key: str
    amount: int
    status: ConnectorStatus
    captured: int = 0
    refunds: dict[str, int] = field(default_factory=dict)
    pan_last4: str = ""
    method: str = "card"


def sign(body: bytes) -> dict[str, str]:
    return {"X-Test-Signature": hmac.new(SECRET, body, hashlib.sha256).hexdigest()}


def event_body(event_id: str, reference: str, status: str, kind: str = "payment.updated") -> bytes:
    doc = {"id": event_id, "type": kind, "reference": reference, "status": status}
    return json.dumps(doc).encode()


class Scripted:
    """One scripted processor."""

    def __init__(self, name: str, methods: tuple[str, ...] = ("card",)) -> None:
        self.name = name
        self.methods = frozenset(methods)
        self.script: list[str] = []
        self.status_script: list[str] = []
        self.made: dict[str, Made] = {}  # reference → payment
        self.calls: list[tuple[str, str]] = []  # (operation, key or reference)
        self.closed = False

    # -- what the gateway calls ------------------------------------------------------------
    async def authorize(self, charge: ConnectorCharge) -> ConnectorResult:
        self.calls.append(("authorize", charge.idempotency_key))
        word = self.script.pop(0) if self.script else "approve"
        if word == "down":
            raise ProcessorDown(f"{self.name} answered 503: try again later")
        if word == "unreached":
            raise BankNotReached(f"{self.name}: connection refused")
        if word == "lost":
            raise BankUnavailable(f"{self.name}: no answer in time")
        if word == "refuse":
            raise BankRefused("Invalid API Key provided")
        known = self._by_key(charge.idempotency_key)
        if known is not None:  # the same attempt again: the same payment
            return self._result(known)
        words: dict[str, ConnectorStatus] = {
            "decline": "declined",
            "action": "requires_action",
            "pending": "pending",
        }
        status = words.get(word, "succeeded" if charge.capture else "requires_capture")
        made = Made(
            reference=f"{self.name}_{len(self.made) + 1}",
            key=charge.idempotency_key,
            amount=charge.amount,
            status=status,
            captured=charge.amount if status == "succeeded" else 0,
            pan_last4=charge.card.pan.get_secret_value()[-4:] if charge.card else "",
            method=charge.method,
        )
        self.made[made.reference] = made
        if word == "accept_then_lost":
            raise BankUnavailable(f"{self.name}: read timed out")
        return self._result(made)

    async def capture(self, reference: str, amount: int, idempotency_key: str) -> ConnectorResult:
        self.calls.append(("capture", reference))
        made = self.made[reference]
        if made.status == "requires_capture":
            made.status, made.captured = "succeeded", amount
        return self._result(made)

    async def void(self, reference: str, idempotency_key: str) -> ConnectorResult:
        self.calls.append(("void", reference))
        made = self.made[reference]
        if made.status in ("requires_capture", "requires_action", "pending"):
            made.status = "canceled"
        return self._result(made)

    async def refund(
        self, reference: str, refund_id: str, amount: int, idempotency_key: str
    ) -> ConnectorRefund:
        self.calls.append(("refund", reference))
        made = self.made[reference]
        made.refunds.setdefault(refund_id, amount)
        return ConnectorRefund(f"re_{refund_id}", made.refunds[refund_id], "succeeded")

    async def status(
        self, *, reference: str | None = None, idempotency_key: str | None = None
    ) -> ConnectorResult | None:
        self.calls.append(("status", reference or idempotency_key or ""))
        if self.status_script and self.status_script.pop(0) == "unknown":
            raise BankUnavailable(f"{self.name}: no answer in time")
        made = self.made.get(reference or "") or self._by_key(idempotency_key or "")
        return None if made is None else self._result(made)

    async def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ConnectorEvent:
        given = {k.lower(): v for k, v in headers.items()}.get("x-test-signature", "")
        if not hmac.compare_digest(given, sign(body)["X-Test-Signature"]):
            raise SignatureRefused("the webhook's signature does not match")
        doc = json.loads(body)
        made = self.made.get(doc["reference"])
        if made is not None:
            made.status = doc["status"]
            made.captured = made.amount if made.status == "succeeded" else made.captured
        return ConnectorEvent(
            provider=self.name,
            event_id=doc["id"],
            type=doc["type"],
            reference=doc["reference"],
            result=None if made is None else self._result(made),
            created_at=datetime(2026, 11, 28, tzinfo=UTC),
        )

    async def close(self) -> None:
        self.closed = True

    # -- the processor's books -------------------------------------------------------------
    def _by_key(self, key: str) -> Made | None:
        return next((m for m in self.made.values() if m.key == key), None)

    def _result(self, made: Made) -> ConnectorResult:
        declined = made.status == "declined"
        return ConnectorResult(
            status=made.status,
            reference=made.reference,
            response_code="51" if declined else "00",
            message={"declined": "Insufficient funds", "succeeded": "Approved"}.get(
                made.status, ""
            ),
            action_url=self._action_url(made),
            amount_captured=made.captured,
            amount_refunded=sum(made.refunds.values()),
            decline_code="insufficient_funds" if declined else None,
            provider_status=made.status,
        )

    def _action_url(self, made: Made) -> str | None:
        if made.status not in ("requires_action", "pending"):
            return None
        if made.method == "upi":
            return f"upi://pay?pa=shop@{self.name}&tr={made.reference}"
        return f"https://{self.name}.test/3ds/{made.reference}"

    def charged(self) -> int:
        """How many payments it made that hold or took money."""
        return sum(m.status in ("succeeded", "requires_capture") for m in self.made.values())


@dataclass
class Routed:
    """An open runtime and the scripted processors its gateway routes to."""

    rt: Runtime
    stripe: Scripted
    razorpay: Scripted


def routed_runtime(
    data_dir: Path, clock: FixedClock, routing: list[dict[str, Any]], **settings: Any
) -> tuple[Runtime, dict[str, Scripted]]:
    """A runtime on `routing` with scripted "stripe" and "razorpay" processors."""
    scripted = {"stripe": Scripted("stripe"), "razorpay": Scripted("razorpay", ("card", "upi"))}
    conf = load_settings(
        data_dir=data_dir,
        timezone="Asia/Kolkata",
        processors={name: ProcessorSettings() for name in scripted},
        routing=routing,
        **settings,
    )
    rt = open_runtime(conf, clock=clock)
    rt.processors = Processors(scripted.__getitem__, rt.records.idempotency)
    return rt, scripted
