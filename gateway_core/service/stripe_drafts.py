"""PaymentIntents created without `confirm`: drafts that are not stored anywhere.

A draft's id holds what it was created with, signed with the vault's keyed digest
under its merchant (`pi_d-1250-inr-m-visa-1795840200-9f2c4e1a7b-<mac>`: amount,
currency, capture manual / automatic, the test payment method or `x`, created, a
nonce), so another merchant's, or a forged one, is unknown. Each confirm of it is a
`Gateway.charge` whose idempotency key is the draft's id and attempt number: the
payments it made are found by those keys (the latest is the PaymentIntent now; after a
decline the next confirm is attempt n+1), and a canceled draft leaves one record
under its `:canceled` key. The idempotency records live `IDEMPOTENCY_DAYS`: a draft
older than that is canceled (`abandoned`).
"""

from __future__ import annotations

import contextlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from gateway_core.clock import Clock
from gateway_core.errors import RecordConflict
from gateway_core.idempotency import IDEMPOTENCY_DAYS, key_hash
from gateway_core.ports import Records
from gateway_core.vault import Vault

PREFIX = "pi_d-"
_DRAFT = re.compile(
    r"pi_d-(\d{1,15})-([a-z]{3})-([am])-([A-Za-z_]{1,60})-(\d{1,12})-([0-9a-f]{10})-([0-9a-f]{20})"
)
MAX_ATTEMPTS = 20


class Draft(NamedTuple):
    """A PaymentIntent not confirmed yet, as its id says."""

    id: str
    amount: int
    currency: str  # upper case
    capture: Literal["automatic", "manual"]
    method: str | None  # a test payment method (pm_card_...), None: none yet
    created: int  # seconds since the epoch


class Standing(NamedTuple):
    """Where a draft stands: its confirms so far, the latest one's payment, canceled."""

    attempts: int
    payment_id: str | None
    canceled: bool


class Drafts:
    """Drafts of one store: made, read back, canceled."""

    def __init__(self, records: Records, vault: Vault, clock: Clock) -> None:
        self._records = records
        self._vault = vault
        self._clock = clock

    def _mac(self, merchant_id: str, body: str) -> list[str]:
        return [d[:20] for d in self._vault.keyed_digests(f"stripe-draft|{merchant_id}|{body}")]

    def make(
        self, merchant_id: str, amount: int, currency: str, manual: bool, method: str | None
    ) -> Draft:
        """A new draft of `merchant_id` (nothing is written)."""
        created = int(self._clock.now().timestamp())
        pm = method.removeprefix("pm_card_") if method else "x"
        fields = [str(amount), currency.lower(), "m" if manual else "a", pm, str(created)]
        body = "-".join([*fields, secrets.token_hex(5)])
        draft_id = f"{PREFIX}{body}-{self._mac(merchant_id, body)[0]}"
        capture: Literal["automatic", "manual"] = "manual" if manual else "automatic"
        return Draft(draft_id, amount, currency.upper(), capture, method, created)

    def read(self, merchant_id: str, draft_id: str) -> Draft | None:
        """The draft an id names, when it is `merchant_id`'s (None: not a draft id, forged,
        or another merchant's)."""
        match = _DRAFT.fullmatch(draft_id)
        if match is None:
            return None
        body, mac = draft_id.removeprefix(PREFIX).rsplit("-", 1)
        if mac not in self._mac(merchant_id, body):
            return None
        amount, currency, capture, pm, created = match.groups()[:5]
        return Draft(
            draft_id,
            int(amount),
            currency.upper(),
            "manual" if capture == "m" else "automatic",
            None if pm == "x" else f"pm_card_{pm}",
            int(created),
        )

    @staticmethod
    def attempt_key(merchant_id: str, draft: Draft, attempt: int) -> str:
        """The idempotency key of a draft's `attempt`-th confirm (the gateway's)."""
        return f"{merchant_id}/stripe-draft:{draft.id}:{attempt}"

    def standing(self, merchant_id: str, draft: Draft) -> Standing:
        """The draft's confirms so far and whether it was canceled (or is too old)."""
        idempotency = self._records.idempotency
        payment_id, attempts = None, 0
        while attempts < MAX_ATTEMPTS:
            doc = idempotency.get(key_hash(self.attempt_key(merchant_id, draft, attempts + 1)))
            if doc is None:
                break
            payment_id, attempts = doc["payment_id"], attempts + 1
        canceled = idempotency.get(key_hash(self._cancel_key(merchant_id, draft))) is not None
        too_old = self._clock.now() - timedelta(days=IDEMPOTENCY_DAYS)
        stale = datetime.fromtimestamp(draft.created, too_old.tzinfo) < too_old
        return Standing(attempts, payment_id, canceled or (stale and payment_id is None))

    @staticmethod
    def _cancel_key(merchant_id: str, draft: Draft) -> str:
        return f"{merchant_id}/stripe-draft:{draft.id}:canceled"

    async def cancel(self, merchant_id: str, draft: Draft) -> None:
        """Cancel a draft with no payment (kept as long as idempotency records are)."""
        record = {
            "key": key_hash(self._cancel_key(merchant_id, draft)),
            "params": None,
            "payment_id": draft.id,
            "created_at": self._clock.now().isoformat(),
        }
        # canceled by another process meanwhile
        with contextlib.suppress(RecordConflict), self._records.unit(durable=False):
            self._records.idempotency.add(record)
        await self._records.synced()  # durable before it is answered, the loop not blocked
