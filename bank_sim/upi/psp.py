"""The payee PSP: merchants boarded with their VPA, name, MCC and callback secret, and
the queue of signed callbacks each merchant drains and acknowledges.

The callback secret is kept only as AES-GCM ciphertext under the banks' own key and is
never answered back. A callback stays in the queue, sent again on every fetch, until the
merchant acknowledges it.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bank_sim.upi.errors import UpiNotFound
from gateway_core.errors import InputError
from gateway_core.ports import Record
from gateway_core.store import JournaledDB
from gateway_core.store.documents import Documents
from gateway_core.upi_api import UpiCallback, UpiMerchant, sign_callback
from gateway_core.upi_link import check_vpa

MIN_SECRET_BYTES = 16


class Psp:
    """Merchants and their callbacks, in the banks' main database."""

    def __init__(self, db: JournaledDB, key: bytes) -> None:
        self._merchants = Documents(db, "upi_merchants", key="merchant_id")
        self._callbacks = Documents(db, "upi_callbacks", key="id")
        self._aead = AESGCM(key)
        self._unacked: dict[str, list[str]] = {}
        for cb in self._callbacks:
            if not cb["acked"]:
                self._unacked.setdefault(cb["merchant_id"], []).append(cb["id"])

    # -- merchants ------------------------------------------------------------------------
    def board(self, merchant: UpiMerchant) -> UpiMerchant:
        """Enrol or update a merchant; the first boarding needs a callback secret."""
        vpa = check_vpa(merchant.vpa)
        if not merchant.name.strip() or len(merchant.name) > 99:
            raise InputError("a merchant name has 1 to 99 characters")
        if not (len(merchant.mcc) == 4 and merchant.mcc.isascii() and merchant.mcc.isdigit()):
            raise InputError("a merchant category code (mcc) has 4 digits")
        holder = self.by_vpa(vpa)
        if holder is not None and holder["merchant_id"] != merchant.merchant_id:
            raise InputError(f"{vpa} belongs to another merchant")
        stored = self._merchants.get(merchant.merchant_id)
        doc: Record = {"merchant_id": merchant.merchant_id, "vpa": vpa, "name": merchant.name}
        doc["mcc"] = merchant.mcc
        if merchant.callback_secret is not None:
            doc["secret"] = self._seal(merchant.merchant_id, merchant.callback_secret)
        elif stored is None:
            raise InputError("boarding needs a callback_secret (hex, 16 bytes or more)")
        self._merchants.put({**(stored or {}), **doc})
        return self.view(merchant.merchant_id)

    def view(self, merchant_id: str) -> UpiMerchant:
        """A boarded merchant as answered (no secret)."""
        doc = self.merchant(merchant_id)
        return UpiMerchant(
            merchant_id=merchant_id, vpa=doc["vpa"], name=doc["name"], mcc=doc["mcc"]
        )

    def merchant(self, merchant_id: str) -> Record:
        """A boarded merchant; `UpiNotFound` otherwise."""
        doc = self._merchants.get(merchant_id)
        if doc is None:
            raise UpiNotFound(f"merchant {merchant_id} is not boarded for UPI")
        return doc

    def by_vpa(self, vpa: str) -> Record | None:
        """The merchant whose payee VPA is `vpa`."""
        return self._merchants.find(vpa=vpa)

    def _seal(self, merchant_id: str, secret: str) -> dict[str, str]:
        try:
            raw = bytes.fromhex(secret)
        except ValueError:
            raw = b""
        if len(raw) < MIN_SECRET_BYTES:
            raise InputError("callback_secret: hex, 16 bytes or more")
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, raw, merchant_id.encode())
        return {"nonce": nonce.hex(), "ciphertext": base64.b64encode(sealed).decode()}

    def _secret(self, doc: Record) -> str:
        sealed = doc["secret"]
        nonce, data = bytes.fromhex(sealed["nonce"]), base64.b64decode(sealed["ciphertext"])
        return self._aead.decrypt(nonce, data, doc["merchant_id"].encode()).hex()

    # -- callbacks ------------------------------------------------------------------------
    def queue(self, txn: Record, now: datetime) -> None:
        """Push a transaction's outcome to its merchant, signed."""
        callback = UpiCallback(
            id="cb_" + secrets.token_hex(12),
            merchant_id=txn["merchant_id"],
            txn_id=txn["txn_id"],
            reference=txn["reference"],
            status=txn["status"],
            response_code=txn.get("response_code"),
            rrn=txn.get("rrn"),
            payer_vpa=txn.get("payer_vpa"),
            amount=txn["amount"],
            sent_at=now,
        )
        signed = sign_callback(callback, self._secret(self.merchant(txn["merchant_id"])))
        self._callbacks.add({**signed.model_dump(mode="json"), "acked": False})
        self._unacked.setdefault(callback.merchant_id, []).append(callback.id)

    def pending(self, merchant_id: str) -> list[UpiCallback]:
        """The merchant's callbacks not acknowledged yet, oldest first."""
        self.merchant(merchant_id)
        docs = (self._callbacks.get(cb_id) for cb_id in self._unacked.get(merchant_id, []))
        fields = UpiCallback.model_fields
        return [UpiCallback(**{k: v for k, v in d.items() if k in fields}) for d in docs if d]

    def ack(self, merchant_id: str, ids: list[str]) -> int:
        """Mark the merchant's callbacks `ids` stored; how many were newly acknowledged."""
        self.merchant(merchant_id)
        waiting = self._unacked.get(merchant_id, [])
        done = set(waiting).intersection(ids)
        for cb_id in done:
            self._callbacks.update(cb_id, {"acked": True})
        self._unacked[merchant_id] = [cb_id for cb_id in waiting if cb_id not in done]
        return len(done)
