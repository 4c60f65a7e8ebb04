"""Stripe's `Idempotency-Key` on every POST of the Stripe-compatible API, kept in the
gateway's own idempotency records (`IdempotencyRepository`: the key hashed, the
request's parameters as a keyed digest, the id of the object it made), pruned with
them after `IDEMPOTENCY_DAYS`. A create also hands its key to `Gateway.charge`, whose
own idempotency covers a call cut short between the charge and this record.

A key is scoped per merchant. The same key again with the same path and parameters is
answered with the object it made; with others it is Stripe's `idempotency_error`
(400); while its first call runs, a second one gets Stripe's 409 (the SDK retries).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

from gateway_core.clock import Clock
from gateway_core.errors import RecordConflict
from gateway_core.idempotency import key_hash
from gateway_core.ports import Records
from gateway_core.service.stripe_errors import MISMATCH, StripeError
from gateway_core.service.stripe_form import Form
from gateway_core.vault import Vault


class Replays:
    """The Stripe API's idempotency keys and the objects they made."""

    def __init__(self, records: Records, vault: Vault, clock: Clock) -> None:
        self._records = records
        self._vault = vault
        self._clock = clock
        self._running: set[str] = set()

    def _digests(self, path: str, form: Form) -> list[str]:
        asked = json.dumps(["stripe", path, form], sort_keys=True, separators=(",", ":"))
        return self._vault.keyed_digests(asked)

    def made(self, scoped: str, path: str, form: Form) -> str | None:
        """The id of the object `scoped` made (None: a new key); a different request
        under it is an `idempotency_error`."""
        doc = self._records.idempotency.get(key_hash(scoped))
        if doc is None:
            return None
        if doc["params"] not in self._digests(path, form):
            raise StripeError(400, "idempotency_error", "idempotency_key_in_use", MISMATCH)
        object_id: str = doc["payment_id"]
        return object_id

    @contextlib.contextmanager
    def busy(self, scoped: str) -> Iterator[None]:
        """The block runs the first call of `scoped`; a second one meanwhile is a 409."""
        if scoped in self._running:
            message = "There is currently another in-progress request using this Idempotent Key."
            raise StripeError(409, "idempotency_error", "idempotency_key_in_use", message)
        self._running.add(scoped)
        try:
            yield
        finally:
            self._running.discard(scoped)

    async def remember(self, scoped: str, path: str, form: Form, object_id: str) -> None:
        """File the key of a call that made or changed `object_id`."""
        record = {
            "key": key_hash(scoped),
            "params": self._digests(path, form)[0],
            "payment_id": object_id,
            "created_at": self._clock.now().isoformat(),
        }
        # the same call in another process: one
        with contextlib.suppress(RecordConflict), self._records.unit(durable=False):
            self._records.idempotency.add(record)
        await self._records.synced()  # durable before it is answered, the loop not blocked
