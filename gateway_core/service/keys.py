"""API keys of the terminals that talk to `paygate serve`: one per terminal, shown once.

A key reads `pk_<id>_<secret>`: the id (12 hex digits) is public and names the record;
the secret (256 random bits) is kept only as HMAC-SHA256 under a key derived from the
key file's current `fp` key, with the key version stored next to it (a rotated key file
still verifies old keys). Why a keyed HMAC and not argon2: the secret is random, not a
PIN a person chose, so there is nothing to brute-force and a slow hash buys nothing; a
check costs microseconds instead of argon2's tens of milliseconds on every request; and
the data files alone (without the key file) do not even let anyone test a guess.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import NamedTuple

from pydantic import BaseModel

from gateway_core.audit import AuditLog
from gateway_core.clock import Clock
from gateway_core.errors import InputError
from gateway_core.ports import ApiKeyRepository, KeyProvider

_KEY = re.compile(r"pk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_MERCHANT = re.compile(r"[A-Za-z0-9]{1,15}")
_TERMINAL = re.compile(r"[A-Za-z0-9]{1,8}")
_PURPOSE = b"paygate api keys v1"


class UnknownKey(InputError):
    """No API key with that id."""


class ApiKey(BaseModel):
    """A terminal's key as anyone may see it: never the secret or its hash."""

    id: str
    merchant_id: str
    terminal_id: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None


class Verdict(NamedTuple):
    """The outcome of checking a bearer token: the key, or why not."""

    key: ApiKey | None
    reason: str  # "ok", "malformed", "unknown", "revoked", "wrong secret"
    key_id: str | None = None


class ApiKeys:
    """The terminals' API keys, kept in the store (`ApiKeyRepository`)."""

    def __init__(
        self, repo: ApiKeyRepository, keyring: KeyProvider, audit: AuditLog, clock: Clock
    ) -> None:
        self._repo = repo
        self._keyring = keyring
        self._audit = audit
        self._clock = clock

    def _digest(self, secret: str, version: int) -> str:
        derived = hmac.new(self._keyring.get(version).fp, _PURPOSE, hashlib.sha256).digest()
        return hmac.new(derived, secret.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def check_ids(terminal_id: str, merchant_id: str | None = None) -> None:
        """Refuse ids the acquirer could not carry (DE41: 8 characters, DE42: 15)."""
        if merchant_id is not None and not _MERCHANT.fullmatch(merchant_id):
            raise InputError("a merchant id is 1 to 15 letters or digits")
        if not _TERMINAL.fullmatch(terminal_id):
            raise InputError("a terminal id is 1 to 8 letters or digits")

    def issue(self, merchant_id: str, terminal_id: str, *, actor: str) -> tuple[ApiKey, str]:
        """A new key for a terminal of a merchant; returns the record and the key (the
        only time it is ever seen)."""
        self.check_ids(terminal_id, merchant_id)
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        version = self._keyring.current.version
        record = ApiKey(
            id=key_id,
            merchant_id=merchant_id,
            terminal_id=terminal_id,
            created_at=self._clock.now(),
            created_by=actor,
        )
        doc = record.model_dump(mode="json")
        self._repo.add({**doc, "hash": self._digest(secret, version), "key_version": version})
        self._audit.record(
            actor, "api_key.issued", key_id, merchant=merchant_id, terminal=terminal_id
        )
        return record, f"pk_{key_id}_{secret}"

    def list(self) -> list[ApiKey]:
        """Every key, in the order they were issued."""
        return [ApiKey.model_validate(doc) for doc in self._repo.all()]

    def get(self, key_id: str) -> ApiKey:
        """A key by id."""
        doc = self._repo.get(key_id)
        if doc is None:
            raise UnknownKey(f"no API key {key_id[:20]!r}")
        return ApiKey.model_validate(doc)

    def revoke(self, key_id: str, *, actor: str) -> ApiKey:
        """Revoke a key (at once, for good); revoking twice keeps the first time."""
        key = self.get(key_id)
        if key.revoked_at is None:
            self._repo.update(key_id, {"revoked_at": self._clock.now().isoformat()})
            self._audit.record(actor, "api_key.revoked", key_id, terminal=key.terminal_id)
        return self.get(key_id)

    def verify(self, token: str) -> Verdict:
        """Check a bearer token in constant time against the stored hash."""
        match = _KEY.fullmatch(token)
        if match is None:
            return Verdict(None, "malformed")
        key_id, secret = match.groups()
        doc = self._repo.get(key_id)
        if doc is None:
            return Verdict(None, "unknown", key_id)
        if not hmac.compare_digest(doc["hash"], self._digest(secret, doc["key_version"])):
            return Verdict(None, "wrong secret", key_id)
        if doc["revoked_at"] is not None:
            return Verdict(None, "revoked", key_id)
        return Verdict(ApiKey.model_validate(doc), "ok", key_id)

    def terminals(self, merchant_id: str) -> set[str]:
        """The terminals of a merchant that hold a live key."""
        return {
            k.terminal_id for k in self.list() if k.merchant_id == merchant_id and not k.revoked_at
        }
