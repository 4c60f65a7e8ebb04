"""The Stripe fake's account: its objects (PaymentIntents, Charges, Refunds,
PaymentMethods, Events), the issuer accounts behind its PaymentMethods and its saved
idempotent answers, in one JSON file under its directory, written atomically after
each change (so a refund after a restart finds its payment). No PAN or CVC is ever in it."""

from __future__ import annotations

import json
import secrets
import string
from pathlib import Path
from typing import Any

from bank_sim.processors.stripe.errors import missing
from gateway_core.errors import SystemFailure
from gateway_core.store.files import make_private_dir, write_atomically

_ALPHABET = string.ascii_letters + string.digits
KEEP_EVENTS = 1000  # the newest events kept (Stripe keeps 30 days of them)
_KINDS = {"pi": "payment_intent", "ch": "charge", "re": "refund", "pm": "payment_method"}


def new_id(prefix: str) -> str:
    """A Stripe-looking id: `pi_3Q...` (prefix, then 24 letters and digits)."""
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(24))}"


class StripeState:
    """Everything the fake account holds, saved to `directory/stripe.json`."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "stripe.json"
        try:
            data = json.loads(self.path.read_text("utf-8")) if self.path.exists() else {}
        except (OSError, ValueError) as exc:
            raise SystemFailure(
                f"the Stripe fake's state {self.path} is unreadable: {exc}"
            ) from None
        self.objects: dict[str, dict[str, Any]] = data.get("objects", {})
        self.accounts: dict[str, dict[str, Any]] = data.get("accounts", {})
        self.idempotency: dict[str, dict[str, Any]] = data.get("idempotency", {})
        self.events: list[dict[str, Any]] = data.get("events", [])

    def get(self, prefix: str, object_id: str, param: str = "id") -> dict[str, Any]:
        """The object `object_id` of kind `prefix` (pi, ch, re, pm); 404 otherwise."""
        found = self.objects.get(object_id)
        if found is None or not object_id.startswith(prefix + "_"):
            raise missing(_KINDS[prefix], object_id, param)
        return found

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        return obj

    def of(self, kind: str) -> list[dict[str, Any]]:
        """Objects of `kind` ("payment_intent", ...), newest first."""
        return [obj for obj in reversed(self.objects.values()) if obj["object"] == kind]

    def save(self) -> None:
        """Write everything, whole or not at all (private to the user)."""
        del self.events[:-KEEP_EVENTS]
        data = {
            "objects": self.objects,
            "accounts": self.accounts,
            "idempotency": self.idempotency,
            "events": self.events,
        }
        make_private_dir(self.path.parent)
        write_atomically(self.path, json.dumps(data, separators=(",", ":")).encode(), replace=True)
