"""The acquirer's JSON API: what the gateway sends over httpx and what comes back.

Every route lives under `/acquirer/v1` (the gateway's side) or `/banks/v1` (the
simulator's own views: phone outbox, accounts, ledger check). The gateway's payment id
is the acquirer's key for every later message about that payment, so a retry of the
same authorization never holds twice and a reversal can find an authorization whose
answer was lost.

Response codes are ISO 8583 DE39: "00" approved, "1A" additional authentication
required (a challenge is attached), "25" original not found, others as in DESIGN.md.

Frames come back masked (`mask_fields`); `describe_frame` names their data elements
for the terminal's inspector.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from gateway_core.currencies import CURRENCY_NUMERIC
from gateway_core.money import WIRE_MAX_MINOR

Hop = Literal["gateway", "acquirer", "network", "issuer"]
ReversalReason = Literal["void", "timeout", "expired", "otp_failed"]
MAX_AMOUNT = WIRE_MAX_MINOR


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class AuthorizationRequest(_Model):
    """0100: hold `amount` on the card for `payment_id`; for a sale (`capture`) 0200:
    authorize and capture in one message."""

    payment_id: str = Field(min_length=1, max_length=64)
    merchant_id: str = Field(min_length=1, max_length=15)  # DE42
    terminal_id: str = Field(min_length=1, max_length=8)  # DE41
    pan: SecretStr
    expiry: str = Field(pattern=r"^(0[1-9]|1[0-2])/[0-9]{2}$")  # MM/YY
    cvv: SecretStr | None = None  # None on the re-authorization after a challenge
    amount: int = Field(gt=0, le=MAX_AMOUNT)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    capture: bool = True  # sale (0200: captured at once) or pre-authorization (0100)
    day: date | None = None  # DE15 of a sale: the merchant's business day it clears on
    authentication: str | None = None  # from a passed challenge: skip the step-up
    challenge_requested: bool = False  # the gateway's risk rules ask for an OTP

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, code: str) -> str:
        if code not in CURRENCY_NUMERIC:
            raise ValueError(f"currency {code} is not carried by this network")
        return code

    def wire(self) -> dict[str, Any]:
        """The JSON body, secrets revealed: only for the link to the acquirer."""
        body = self.model_dump(mode="json")
        body["pan"] = self.pan.get_secret_value()
        body["cvv"] = self.cvv.get_secret_value() if self.cvv else None
        return body


class HopTime(_Model):
    """How long one hop took, for the processing screen."""

    hop: Hop
    ms: float


class Frame(_Model):
    """One ISO 8583 message as it crossed a hop, fields decoded, PAN masked, no CVV."""

    source: Hop
    target: Hop
    mti: str
    fields: dict[str, str]  # "2": "424242******4242", "4": "000000125050", ...
    at: datetime


class Challenge(_Model):
    """An OTP challenge from the issuer's access control server."""

    id: str
    phone: str  # masked: "+91 98•• ••00 01"
    expires_at: datetime
    tries_left: int
    resends_left: int
    resend_available_at: datetime


class AuthorizationResponse(_Model):
    """0110: the issuer's answer, with what the terminal shows of the route."""

    payment_id: str
    response_code: str  # DE39
    approved: bool
    auth_code: str | None = None  # DE38, 6 chars, when approved
    rrn: str | None = None  # DE37, 12 chars
    stan: str | None = None  # DE11, 6 digits
    network: str | None = None
    issuer: str | None = None
    funding: Literal["debit", "credit"] | None = None
    country: str | None = None  # the issuer's country (ISO 3166 alpha-2)
    challenge: Challenge | None = None  # when response_code == "1A"
    captured: int = 0  # a sale's 0210: the amount captured with the authorization
    hops: list[HopTime] = []
    frames: list[Frame] = []


class ReversalRequest(_Model):
    """0400: release the hold of `payment_id` (void, timeout, expiry)."""

    payment_id: str
    reason: ReversalReason


class CaptureRequest(_Model):
    """Completion: take `amount` (≤ held) from the hold; the rest is released."""

    payment_id: str
    amount: int = Field(gt=0, le=MAX_AMOUNT)
    day: date | None = None  # DE15: the merchant's business day it clears on (None: today)


class RefundRequest(_Model):
    """Credit `amount` back to the card; refunds of a payment never exceed its capture."""

    payment_id: str
    refund_id: str
    amount: int = Field(gt=0, le=MAX_AMOUNT)
    day: date | None = None  # DE15: the merchant's business day it clears on (None: today)


class OperationResponse(_Model):
    """Answer to a reversal, capture or refund."""

    payment_id: str
    response_code: str  # "00", or "25" original not found, "13" bad amount, "12" bad state
    amount: int = 0  # released, captured or refunded
    released: int = 0  # what went back to the cardholder's available funds
    rrn: str | None = None
    frames: list[Frame] = []


class OtpVerifyRequest(_Model):
    otp: str


class OtpVerifyResponse(_Model):
    """The ACS's verdict; `authentication` goes into the re-authorization."""

    status: Literal["authenticated", "wrong_code", "failed", "expired"]
    tries_left: int
    authentication: str | None = None


class Boarding(_Model):
    """A merchant enrolled at the acquirer with its terminals (DE42, DE41 ids)."""

    merchant_id: str = Field(pattern=r"^[A-Za-z0-9]{1,15}$")
    terminal_ids: list[str] = Field(max_length=10_000)

    @field_validator("terminal_ids")
    @classmethod
    def _terminal_ids(cls, ids: list[str]) -> list[str]:
        if not all(t.isascii() and t.isalnum() and 1 <= len(t) <= 8 for t in ids):
            raise ValueError("a terminal id is 1 to 8 letters or digits")
        return ids


class Sms(_Model):
    """A text message on a cardholder's simulated phone."""

    phone: str
    text: str
    at: datetime


class Account(_Model):
    """A cardholder account as the simulator shows it (masked card)."""

    card: str  # masked
    issuer: str
    funding: Literal["debit", "credit"]
    status: str
    currency: str
    available: int
    held: int


class LedgerCheck(_Model):
    """Whether the banks' books balance; the first discrepancy when not."""

    ok: bool
    opening_total: int
    current_total: int
    problem: str | None = None


class BankError(_Model):
    """Body of every 4xx/5xx from the banks: one readable line."""

    error: str


# ---------------------------------------------------------------------- frame display
FIELD_NAMES: Final[dict[str, str]] = {
    "t": "Message type indicator",
    "2": "Primary account number",
    "3": "Processing code",
    "4": "Amount, transaction",
    "7": "Transmission date and time",
    "11": "System trace audit number",
    "12": "Time, local transaction",
    "13": "Date, local transaction",
    "14": "Date, expiration",
    "22": "POS entry mode",
    "25": "POS condition code",
    "32": "Acquiring institution ID",
    "33": "Forwarding institution ID",
    "35": "Track 2 data",
    "36": "Track 3 data",
    "37": "Retrieval reference number",
    "38": "Authorization code",
    "39": "Response code",
    "41": "Terminal ID",
    "42": "Merchant ID",
    "45": "Track 1 data",
    "48": "Additional data, private",
    "49": "Currency code, transaction",
    "52": "PIN data",
    "55": "ICC data",
    "90": "Original data elements",
}
"""Display names of the ISO 8583 fields the banks use ("t": the MTI)."""

_REMOVED = frozenset({"35", "36", "45", "52"})  # track data and PIN block: never shown
_SECRET_KEYS = frozenset({"CVV", "CVV2", "CVC", "CVC2", "CID", "PIN", "OTP"})
_SHORTENED_KEYS = frozenset({"AUTH", "CAVV"})
PRIVATE_ITEM_KEY = re.compile(r"[A-Z][A-Z0-9_]*")


def private_items(text: str) -> dict[str, str] | None:
    """Field 48's `KEY=value` items joined by ";" (None when it is not that)."""
    items: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        if not sep or not PRIVATE_ITEM_KEY.fullmatch(key) or key in items:
            return None
        items[key] = value
    return items


_SPECIAL_ORDER = {"h": -3, "t": -2, "p": -1}


def field_order(key: str) -> tuple[int, str]:
    """Message order: header, MTI, bitmap, then fields by number."""
    if key in _SPECIAL_ORDER:
        return (_SPECIAL_ORDER[key], "")
    return (int(key), "") if key.isdigit() else (1000, key)


def _mask_pan(pan: str) -> str:
    """BIN-6 + '*' + last-4, hiding at least 5 middle digits (fewer leading on short PANs)."""
    if len(pan) < 10:
        return "*" * len(pan)
    lead = max(0, min(6, len(pan) - 9))
    return pan[:lead] + "*" * (len(pan) - lead - 4) + pan[-4:]


def _mask_private(text: str) -> str:
    items = private_items(text)
    if items is None:
        return "***"
    for key, value in items.items():
        if key in _SECRET_KEYS:
            items[key] = "***"
        elif key in _SHORTENED_KEYS:
            items[key] = value[: min(4, len(value) // 3)] + "…"
    return ";".join(f"{k}={v}" for k, v in items.items())


def mask_fields(fields: Mapping[str, str]) -> dict[str, str]:
    """A copy of a message safe to store, log and show: no PAN, expiry, CVV, track or
    PIN data. Field 2 → "424242******4242" (BIN-6 and last-4 at most), 14 → "****", 48
    items CVV (and other secrets) → "***" and AUTH → first characters + "…", 35/36/45/52
    removed. Keys come back in message order: "t" first, then fields numerically."""
    safe: dict[str, str] = {}
    for key, raw in fields.items():
        value = raw if isinstance(raw, str) else str(raw)
        if key in _REMOVED:
            continue
        if key == "2":
            value = _mask_pan(value)
        elif key == "14":
            value = "****"
        elif key == "48":
            value = _mask_private(value)
        safe[key] = value
    return {k: safe[k] for k in sorted(safe, key=field_order)}


def describe_fields(fields: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(field id, name, masked value) rows of a message in message order, MTI first."""
    return [
        (key, FIELD_NAMES.get(key, f"Field {key}"), value)
        for key, value in mask_fields(fields).items()
    ]


def describe_frame(frame: Frame) -> list[tuple[str, str, str]]:
    """(field id, name, masked value) rows of a frame's data elements (the MTI is
    `frame.mti`), in message order: what the terminal's frame inspector shows."""
    return describe_fields(frame.fields)
