"""The issuer's access control server (ACS): OTP step-up for one payment at a time.

A challenge texts a code to the cardholder's simulated phone (the `Outbox`, the only
place it exists in clear) and keeps HMAC-SHA256(secret, salt + challenge id + code).
A code is valid while `now < expires_at`: at exactly `ttl` it has expired (countdown 0:00).
A resend gives a new code a fresh ttl; the old code stops working. Tries count per
challenge, not per code, so a resend never buys more guesses.
Statuses: pending → authenticated → redeemed, or failed / expired / replaced.
Each message is filed under the merchant whose payment it is for: a merchant reads only
its own customers' codes (a message with no merchant id is the home merchant's).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from gateway_core.acquirer_api import Challenge, OtpVerifyResponse, Sms
from gateway_core.clock import Clock
from gateway_core.errors import InputError
from gateway_core.ports import DocumentTable, Record
from gateway_core.presentation import mask_phone


@dataclass(frozen=True)
class OtpPolicy:
    """How long a code lives, how many tries and resends, and the code length."""

    ttl: timedelta = timedelta(minutes=5)
    max_tries: int = 3
    max_resends: int = 3
    resend_cooldown: timedelta = timedelta(seconds=30)
    digits: int = 6


class OtpError(InputError):
    """A challenge operation refused; the message never contains the code."""


class ChallengeNotFound(OtpError):
    """No challenge with that id."""


class ResendTooSoon(OtpError):
    """A resend asked for inside the cooldown; `wait_seconds` says how long to wait."""

    def __init__(self, wait_seconds: int) -> None:
        super().__init__(f"wait {wait_seconds} s before asking for a new code")
        self.wait_seconds = wait_seconds


class ResendsExhausted(OtpError):
    """Every allowed resend has been used."""


class ChallengeClosed(OtpError):
    """The challenge is expired, failed, replaced or already used; `status` says which."""

    _WHY: ClassVar = {"expired": "the code has expired", "failed": "too many wrong codes"}

    def __init__(self, status: str) -> None:
        why = self._WHY.get(status, "a newer code was sent" if status == "replaced" else "")
        super().__init__(f"{why or 'the code was already used'}: this OTP is closed")
        self.status = status


class Outbox:
    """The cardholders' simulated phones: every SMS the issuer sent, in one table; `home`
    is the merchant of the messages stored without a merchant id."""

    def __init__(self, table: DocumentTable, clock: Clock, home: str | None = None) -> None:
        self._table, self._clock, self._home = table, clock, home

    def send(self, phone: str, text: str, merchant_id: str | None = None) -> None:
        """Deliver `text` to `phone` for a payment of `merchant_id` (durable on return)."""
        doc = {"phone": phone, "text": text, "at": self._clock.now().isoformat()}
        mine = merchant_id in (None, self._home)  # the home merchant's: stored as before
        self._table.add(doc if mine else doc | {"merchant_id": merchant_id})

    def messages(
        self, phone: str | None = None, limit: int = 50, merchant_id: str | None = None
    ) -> list[Sms]:
        """The latest `limit` messages, newest first, for one phone or all, of one
        merchant's payments or all."""
        docs = list(self._table) if phone is None else self._table.where(phone=phone)
        if merchant_id is not None:
            docs = [d for d in docs if d.get("merchant_id", self._home) == merchant_id]
        stored = enumerate(docs)  # of two sent at the same time, the later stored is newer
        newest = sorted(stored, key=lambda p: (datetime.fromisoformat(p[1]["at"]), p[0]))[::-1]
        return [Sms(phone=d["phone"], text=d["text"], at=d["at"]) for _, d in newest[:limit]]


class OtpService:
    """Starts, verifies and resends OTP challenges; redeems their authentication once."""

    def __init__(
        self,
        table: DocumentTable,
        outbox: Outbox,
        secret: bytes,
        *,
        clock: Clock,
        policy: OtpPolicy = OtpPolicy(),
        issuer_name: str = "Paygate Demo Bank",
        randbelow: Callable[[int], int] = secrets.randbelow,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the OTP secret must be at least 16 bytes")
        self._table, self._outbox, self._secret = table, outbox, secret
        self._clock, self.policy, self.issuer_name = clock, policy, issuer_name
        self._randbelow, s = randbelow, int(policy.ttl.total_seconds())
        self._valid_text = f"{s // 60} minutes" if s % 60 == 0 and s > 60 else f"{s} seconds"

    def _hash(self, doc: dict[str, Any], value: str, purpose: str = "") -> str:
        message = f"{purpose}{doc['salt']}{doc['id']}{value}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def _get(self, challenge_id: str) -> Record:
        doc = self._table.get(challenge_id) if isinstance(challenge_id, str) else None
        if doc is None:
            raise ChallengeNotFound("no such OTP challenge")
        return doc

    def _save(self, doc: Record, **fields: Any) -> Challenge:
        doc.update(fields)
        self._table.update(doc["id"], fields)
        return self._view(doc)

    def _live(self, doc: Record) -> bool:
        if doc["status"] != "pending":
            raise ChallengeClosed(doc["status"])
        if self._clock.now() < datetime.fromisoformat(doc["expires_at"]):
            return True
        self._save(doc, status="expired")
        return False

    def _send_code(self, doc: dict[str, Any]) -> dict[str, Any]:
        now, digits = self._clock.now(), self.policy.digits
        code = f"{self._randbelow(10**digits):0{digits}d}"
        self._outbox.send(
            doc["phone"],
            f"{self.issuer_name}: {code} is your OTP for {doc['amount_text']} at "
            f"{doc['merchant']}. Valid {self._valid_text}. Never share it.",
            doc.get("merchant_id"),
        )
        expires, resend = now + self.policy.ttl, now + self.policy.resend_cooldown
        fields = dict(code_hash=self._hash(doc, code), last_sent_at=now.isoformat())
        return fields | dict(expires_at=expires.isoformat(), resend_available_at=resend.isoformat())

    def start(
        self,
        payment_id: str,
        phone: str,
        *,
        amount_text: str,
        merchant: str,
        merchant_id: str | None = None,
    ) -> Challenge:
        """Open a challenge for `payment_id` at `merchant` (its name; `merchant_id` files
        the texts) and text the code; replaces an open one."""
        self._table.update_where(
            {"status": "replaced"},
            lambda d: d["payment_id"] == payment_id and d["status"] in ("pending", "authenticated"),
        )
        doc: dict[str, Any] = {"id": "ch_" + secrets.token_hex(12), "salt": secrets.token_hex(16)}
        doc |= dict(payment_id=payment_id, phone=phone, amount_text=amount_text, merchant=merchant)
        doc |= {"merchant_id": merchant_id} if merchant_id else {}
        doc |= dict(tries_left=self.policy.max_tries, resends_left=self.policy.max_resends)
        doc |= dict(status="pending", auth_hash=None, **self._send_code(doc))
        self._table.add(doc)
        return self._view(doc)

    def verify(self, challenge_id: str, code: str) -> OtpVerifyResponse:
        """Check `code`; input that is not `digits` ASCII digits raises, using no try."""
        doc = self._get(challenge_id)
        tries = doc["tries_left"]
        if not self._live(doc):
            return OtpVerifyResponse(status="expired", tries_left=tries)
        code = code.strip() if isinstance(code, str) else ""
        if not (len(code) == self.policy.digits and code.isascii() and code.isdigit()):
            raise OtpError(f"enter the {self.policy.digits}-digit code")
        if hmac.compare_digest(self._hash(doc, code), doc["code_hash"]):
            auth = "aav_" + secrets.token_urlsafe(24)
            self._save(doc, status="authenticated", auth_hash=self._hash(doc, auth, "auth:"))
            return OtpVerifyResponse(status="authenticated", tries_left=tries, authentication=auth)
        tries -= 1
        self._save(doc, tries_left=tries, status="pending" if tries > 0 else "failed")
        return OtpVerifyResponse(status="wrong_code" if tries > 0 else "failed", tries_left=tries)

    def resend(self, challenge_id: str) -> Challenge:
        """Text a new code; refused in the cooldown, past the limit, or when closed/expired."""
        doc = self._get(challenge_id)
        if not self._live(doc):
            raise ChallengeClosed("expired")
        if doc["resends_left"] <= 0:
            raise ResendsExhausted("no more codes can be sent for this payment")
        wait = datetime.fromisoformat(doc["resend_available_at"]) - self._clock.now()
        if wait > timedelta(0):
            raise ResendTooSoon(math.ceil(wait.total_seconds()))
        return self._save(doc, resends_left=doc["resends_left"] - 1, **self._send_code(doc))

    def redeem(self, payment_id: str, authentication: str) -> bool:
        """True once for the authentication value of this payment's passed challenge."""
        for doc in self._table.where(payment_id=payment_id, status="authenticated"):
            if hmac.compare_digest(self._hash(doc, authentication, "auth:"), doc["auth_hash"]):
                self._save(doc, status="redeemed")
                return True
        return False

    def challenge(self, challenge_id: str) -> Challenge:
        """The public view of a challenge, as the terminal shows it."""
        return self._view(self._get(challenge_id))

    @staticmethod
    def _view(doc: dict[str, Any]) -> Challenge:
        keys = ("id", "expires_at", "tries_left", "resends_left", "resend_available_at")
        return Challenge(phone=mask_phone(doc["phone"]), **{k: doc[k] for k in keys})
