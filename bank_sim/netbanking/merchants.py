"""The merchants each bank has boarded for net banking, with the secret the bank signs
their customers' returns with (one per merchant and bank).

Boarding answers the secret (the merchant's, when it brings one, else one the bank
makes); boarding again answers the same one. The secret is kept only as AES-GCM
ciphertext under the banks' own key, and appears in no page, error or log.
"""

from __future__ import annotations

import base64
import hmac
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bank_sim.netbanking.errors import NbNotFound
from gateway_core.errors import InputError
from gateway_core.netbanking_api import NbMerchant
from gateway_core.ports import Record
from gateway_core.store import JournaledDB
from gateway_core.store.documents import Documents

MIN_SECRET_BYTES = 16
SECRET_BYTES = 32  # what the bank makes


def _raw(secret: str) -> bytes:
    try:
        raw = bytes.fromhex(secret)
    except ValueError:
        raw = b""
    if len(raw) < MIN_SECRET_BYTES:
        raise InputError("secret: hex, 16 bytes or more")
    return raw


class Merchants:
    """Boarded merchants per bank, in the banks' main database."""

    def __init__(self, db: JournaledDB, key: bytes) -> None:
        self._docs = Documents(db, "nb_merchants", key="key")
        self._aead = AESGCM(key)

    def board(self, bank: str, merchant: NbMerchant) -> NbMerchant:
        """Enrol or update `merchant` at `bank`; the answer carries the shared secret."""
        name = merchant.name.strip()
        if not name or len(merchant.name) > 99:
            raise InputError("a merchant name has 1 to 99 characters")
        if not (0 < len(merchant.merchant_id) <= 40 and merchant.merchant_id.isprintable()):
            raise InputError("a merchant id has 1 to 40 printable characters")
        key = f"{bank}/{merchant.merchant_id}"
        stored = self._docs.get(key)
        if stored is None:
            raw = _raw(merchant.secret) if merchant.secret else secrets.token_bytes(SECRET_BYTES)
            self._docs.add({"key": key, "name": name, "secret": self._seal(key, raw)})
        else:
            known = self.secret(bank, merchant.merchant_id)
            if merchant.secret and not hmac.compare_digest(_raw(merchant.secret).hex(), known):
                raise InputError(f"{merchant.merchant_id} is boarded at {bank} with another secret")
            self._docs.update(key, {"name": name})
        secret = self.secret(bank, merchant.merchant_id)
        return NbMerchant(merchant_id=merchant.merchant_id, name=name, secret=secret)

    def merchant(self, bank: str, merchant_id: str) -> Record:
        """A merchant boarded at `bank`; `NbNotFound` otherwise."""
        doc = self._docs.get(f"{bank}/{merchant_id}")
        if doc is None:
            raise NbNotFound(f"merchant {merchant_id[:40]} is not boarded at {bank}")
        return doc

    def secret(self, bank: str, merchant_id: str) -> str:
        """The hex secret `bank` shares with the merchant."""
        doc = self.merchant(bank, merchant_id)
        sealed = doc["secret"]
        nonce, data = bytes.fromhex(sealed["nonce"]), base64.b64decode(sealed["ciphertext"])
        return self._aead.decrypt(nonce, data, doc["key"].encode()).hex()

    def _seal(self, key: str, raw: bytes) -> dict[str, str]:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, raw, key.encode())
        return {"nonce": nonce.hex(), "ciphertext": base64.b64encode(sealed).decode()}
