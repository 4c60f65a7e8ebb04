"""The token vault: the only place a full PAN is kept, and only as AES-GCM ciphertext.

Tokenizing a card gives a token record: random token id, keyed fingerprint
(HMAC-SHA256 of the PAN under the key file's `fp` key, one per key version), the key
version of the ciphertext, brand, BIN-6, last-4, length and expiry. The CVV never
reaches the vault: `tokenize` takes a `CardData`, which has no CVV field.

The same card always maps to the same token (matched by fingerprint under any key
version), so fingerprints written before a key rotation still find their card.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, SecretStr

from gateway_core.cards import Brand, CardData, masked_from_parts, normalize_pan
from gateway_core.clock import Clock, SystemClock
from gateway_core.errors import InputError, SystemFailure
from gateway_core.keys import KeyVersion
from gateway_core.ports import KeyProvider, Record, TokenRepository


class UnknownToken(InputError):
    """No token with that id in the vault."""


class VaultTampered(SystemFailure):
    """A ciphertext failed authentication: the vault file was altered."""


class TokenRecord(BaseModel):
    """What leaves the vault: never the PAN, never the CVV."""

    model_config = ConfigDict(frozen=True)

    token: str
    fingerprint: str
    fingerprints: dict[str, str]
    key_version: int
    brand: str
    bin6: str
    last4: str
    length: int
    expiry: str
    created: str

    @property
    def masked(self) -> str:
        """BIN-6 and last-4 grouped for display."""
        brand = Brand(self.brand)  # type: ignore[call-arg]  # a lookup by id, not a new member
        return masked_from_parts(brand, self.bin6, self.last4, self.length)


def new_token_id() -> str:
    """A random, unguessable token id."""
    return "tok_" + secrets.token_hex(12)


def fingerprint(pan: str, key: KeyVersion) -> str:
    """HMAC-SHA256 of the PAN digits under one key version's fingerprint key."""
    return hmac.new(key.fp, pan.encode(), hashlib.sha256).hexdigest()


class Vault:
    """Tokenize, match, reveal and re-key cards."""

    def __init__(
        self,
        tokens: TokenRepository,
        keyring: KeyProvider,
        *,
        clock: Clock | None = None,
        new_id: Callable[[], str] = new_token_id,
    ) -> None:
        self._tokens = tokens
        self._keys = keyring
        self._clock = clock or SystemClock()
        self._new_id = new_id

    def tokenize(self, card: CardData) -> TokenRecord:
        """Store a card (or find it again) and return its token record."""
        pan = card.pan.get_secret_value()
        existing = self._find(pan)
        if existing is not None:
            if existing["expiry"] != str(card.expiry):
                existing["expiry"] = str(card.expiry)
                self._tokens.replace(existing)
            return _public(existing)
        key = self._keys.current
        token = self._new_id()
        record = {
            "token": token,
            "fingerprints": {str(key.version): fingerprint(pan, key)},
            "key_version": key.version,
            "brand": card.brand.id,
            "bin6": card.bin6,
            "last4": card.last4,
            "length": card.length,
            "expiry": str(card.expiry),
            "created": self._clock.now().isoformat(),
            **_encrypt(pan, token, key),
        }
        return _public(self._tokens.add(record))  # another process's, if it was first

    def find(self, pan: str | SecretStr) -> TokenRecord | None:
        """The token of a card already in the vault, matched under any key version."""
        record = self._find(normalize_pan(pan))
        return None if record is None else _public(record)

    def find_by_fingerprint(self, fp: str) -> TokenRecord | None:
        """The token a fingerprint (of any key version) was computed for."""
        record = self._tokens.find_by_fingerprint(fp)
        return None if record is None else _public(record)

    def keyed_digests(self, text: str) -> list[str]:
        """HMAC-SHA256 of `text` under each key version's fingerprint key, newest first:
        to recognize a secret later (a CVV asked for again) without keeping it."""
        return [fingerprint(text, key) for key in reversed(self._keys.versions)]

    def get(self, token: str) -> TokenRecord:
        """A token record by id."""
        return _public(self._record(token))

    def reveal(self, token: str) -> SecretStr:
        """Decrypt the PAN of a token (for the acquirer); it stays a secret."""
        record = self._record(token)
        return SecretStr(_decrypt(record, self._keys.get(record["key_version"])))

    def rekey(self) -> int:
        """Re-encrypt every token under the current key version; returns how many.

        Each token is rewritten in its own journal entry and keeps its old
        fingerprints, adding one under the new key, so a crash midway loses nothing
        and running it again finishes the job.
        """
        key = self._keys.current
        done = 0
        for record in list(self._tokens.all()):
            if record["key_version"] == key.version:
                continue
            pan = _decrypt(record, self._keys.get(record["key_version"]))
            # a new dict: the one read is shared with the stored document until committed
            fingerprints = {**record["fingerprints"], str(key.version): fingerprint(pan, key)}
            record["fingerprints"] = fingerprints
            record.update(key_version=key.version, **_encrypt(pan, record["token"], key))
            self._tokens.replace(record)
            done += 1
        return done

    def _find(self, pan: str) -> Record | None:
        for key in reversed(self._keys.versions):
            record = self._tokens.find_by_fingerprint(fingerprint(pan, key))
            if record is not None:
                return record
        return None

    def _record(self, token: str) -> Record:
        record = self._tokens.get(token)
        if record is None:
            raise UnknownToken(f"no card with token {token} in the vault")
        return record


def _aad(token: str, version: int) -> bytes:
    return f"{token}|v{version}".encode()


def _encrypt(pan: str, token: str, key: KeyVersion) -> dict[str, str]:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key.enc).encrypt(nonce, pan.encode(), _aad(token, key.version))
    return {
        "nonce": base64.b64encode(nonce).decode(),
        "ciphertext": base64.b64encode(sealed).decode(),
    }


def _decrypt(record: Record, key: KeyVersion) -> str:
    try:
        return (
            AESGCM(key.enc)
            .decrypt(
                base64.b64decode(record["nonce"]),
                base64.b64decode(record["ciphertext"]),
                _aad(record["token"], key.version),
            )
            .decode()
        )
    except (InvalidTag, ValueError, KeyError) as exc:
        raise VaultTampered(f"token {record['token']} failed its integrity check") from exc


def _public(record: Record) -> TokenRecord:
    version = str(record["key_version"])
    return TokenRecord(
        fingerprint=record["fingerprints"][version],
        **{k: v for k, v in record.items() if k in TokenRecord.model_fields},
    )
