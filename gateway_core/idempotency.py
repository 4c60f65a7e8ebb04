"""Idempotency keys: a charge asked again with its key gives back the payment the first
one made; the same key with other parameters is refused. A key is stored hashed (a
caller may put anything in it), the parameters as a keyed digest (a card's CVV compared,
never kept), for `IDEMPOTENCY_DAYS`."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from gateway_core.payments import ChargeRequest, IdempotencyConflict
from gateway_core.ports import IdempotencyRepository, Tender
from gateway_core.settings import Settings
from gateway_core.vault import Vault

IDEMPOTENCY_DAYS = 7


def key_hash(key: str) -> str:
    """How a key is stored."""
    return hashlib.sha256(key.encode()).hexdigest()


class IdempotencyKeys:
    """The keys of charges and the payment each one made."""

    def __init__(self, repo: IdempotencyRepository, vault: Vault, settings: Settings) -> None:
        self._repo = repo
        self._vault = vault
        self._settings = settings

    def params(self, req: ChargeRequest, tender: Tender, checked: object) -> list[str]:
        """Everything asked for, keyed (HMAC, newest key first): the method's part as its
        tender gives it (a card: its vault token, expiry and CVV, compared, never kept)."""
        method = () if tender.method == "card" else (tender.method,)  # as stored before
        asked = (
            "idempotency",
            req.amount,
            req.tip,
            req.currency,
            req.capture,
            req.terminal_id or self._settings.terminal_id,
            req.merchant_id or self._settings.merchant_id,
            req.operator,
            *method,
            *tender.digest(checked),
        )
        return self._vault.keyed_digests("|".join(map(str, asked)))

    def made(self, key: str, req: ChargeRequest, tender: Tender, checked: object) -> str | None:
        """The id of the payment `key` made (None: a new key); `IdempotencyConflict`
        when it was made with other parameters."""
        doc = self._repo.get(key_hash(key))
        if doc is None:
            return None
        if doc["params"] not in self.params(req, tender, checked):
            raise IdempotencyConflict(f"idempotency key {key} was used for a different payment")
        payment_id: str = doc["payment_id"]
        return payment_id

    def remember(self, key: str, params: str | None, payment_id: str, now: datetime) -> None:
        """File the key of a payment just stored (a key never names a missing one)."""
        record = {"key": key_hash(key), "params": params, "payment_id": payment_id}
        self._repo.add({**record, "created_at": now.isoformat()})

    def prune(self, now: datetime) -> None:
        """Forget the keys older than `IDEMPOTENCY_DAYS`."""
        self._repo.remove_before(now - timedelta(days=IDEMPOTENCY_DAYS))
