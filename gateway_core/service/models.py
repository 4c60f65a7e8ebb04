"""The request and response bodies of the API (pydantic; the OpenAPI document is theirs).

Money is an integer of minor units everywhere (`1250` is ₹12.50): a JSON number with a
fraction, or a string, is refused (422), never rounded.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, computed_field

from gateway_core.errors import InputError
from gateway_core.payments import NextAction, Payment
from gateway_core.service.keys import ApiKey

Minor = Annotated[int, Field(strict=True, gt=0, le=10**15, description="minor units")]
UserId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
MAX_JSON_DEPTH = 32  # a request body nests 3 levels; deeper is refused before parsing
MAX_IDEMPOTENCY_KEY = 255
_IDEMPOTENCY_KEY = re.compile(rf"[\x20-\x7e]{{1,{MAX_IDEMPOTENCY_KEY}}}")
IDEMPOTENCY_KEY_RULE = f"1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"


def check_idempotency_key(key: str) -> str:
    """An idempotency key as given, or `InputError`: printable ASCII only (an HTTP header
    carries no other text faithfully), at most MAX_IDEMPOTENCY_KEY characters."""
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise InputError(f"an idempotency key is {IDEMPOTENCY_KEY_RULE}")
    return key


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Operated(_Body):
    """Who at the terminal does this: a user id (default: the terminal's key)."""

    operator: UserId | None = None


class CardBody(_Body):
    """The card as keyed at the terminal; it lives only until the authorization returns."""

    number: SecretStr = Field(min_length=1, max_length=40, description="as keyed; spaces ok")
    expiry: str = Field(min_length=1, max_length=10, examples=["12/30"], description="MM/YY")
    cvv: SecretStr = Field(min_length=1, max_length=8)


class UpiBody(_Body):
    """A UPI payment's flow: a dynamic QR (default), an intent link for a phone, or a
    collect request pushed to the payer's VPA (when the merchant takes them)."""

    flow: Literal["qr", "intent", "collect"] = "qr"
    vpa: str | None = Field(
        None, min_length=3, max_length=255, description="collect only: the payer's UPI ID"
    )
    note: str = Field("", max_length=50, description="the link's `tn`")


class NetbankingBody(_Body):
    """A net banking payment's bank."""

    bank: str = Field(min_length=2, max_length=8, pattern=r"^[A-Za-z0-9]+$", examples=["DEMOA"])


class CashBody(_Body):
    """A cash payment's part: what the customer handed over (at least the amount due)."""

    tendered: Minor


class PaymentCreate(Operated):
    """A card payment (default): a sale (`capture_method` automatic) or a
    pre-authorization (manual); a UPI or net banking payment (`method` upi or
    netbanking, INR, automatic), which answers `pending` with its `next_action`; cash
    (`method` cash, with `tendered`) into the drawer of the terminal's open shift; or a
    payment link (`method` link: pending, `next_action.url` its checkout page)."""

    method: Literal["card", "upi", "netbanking", "cash", "link"] = "card"
    amount: Minor = Field(description="the total to authorize, tip included, in minor units")
    currency: str | None = Field(
        None, min_length=3, max_length=3, description="ISO 4217 (default: the server's)"
    )
    tip: int = Field(0, strict=True, ge=0, description="the part of `amount` that is a tip")
    capture_method: Literal["automatic", "manual"] = "automatic"
    card: CardBody | None = Field(None, description="a card payment's card")
    upi: UpiBody | None = Field(None, description="a UPI payment's flow (default: a QR)")
    netbanking: NetbankingBody | None = Field(None, description="a net banking payment's bank")
    cash: CashBody | None = Field(None, description="a cash payment's amount tendered")
    return_url: str | None = Field(
        None, max_length=2000, description="a payment link's: where the customer goes after"
    )


class PaymentView(Payment):
    """A payment as the API and `--json` show it: its fields, and what the customer must
    do next (an OTP, pay a UPI QR, intent or collect request, or go to the bank's page)."""

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented stacking
    @property
    def next_action(self) -> NextAction | None:
        return super().next_action

    @classmethod
    def of(cls, payment: Payment) -> PaymentView:
        """`payment` as shown (its fields as they are, not validated again)."""
        return cls.model_construct(payment.model_fields_set, **dict(payment))


class ConfirmBody(Operated):
    """The OTP the cardholder received."""

    otp: str = Field(min_length=1, max_length=12)


class CancelBody(Operated):
    """Who gives up on a payment waiting for the payer."""


class CaptureBody(Operated):
    """Capture all (no amount) or part of an authorization."""

    amount: Minor | None = None


class ApprovalBody(_Body):
    """A manager's approval, checked by the server against the user's argon2 PIN hash."""

    approver_id: UserId
    pin: SecretStr = Field(min_length=1, max_length=16)


class VoidBody(Operated):
    """Cancel before capture."""

    approval: ApprovalBody


class RefundBody(VoidBody):
    """Refund part (amount) or all of what is left of the capture."""

    amount: Minor | None = None


class LoginBody(_Body):
    """A user signing in at a terminal: the server checks the PIN (and its lock)."""

    user_id: UserId
    pin: SecretStr = Field(min_length=1, max_length=16)


class KeyCreate(_Body):
    """A new key for another terminal of the caller's merchant (a merchant admin approves)."""

    terminal_id: str = Field(min_length=1, max_length=8, pattern=r"^[A-Za-z0-9]+$")
    approval: ApprovalBody


class KeyRevoke(_Body):
    """Revoking a key of the caller's merchant (a merchant admin approves)."""

    approval: ApprovalBody


class IssuedKey(BaseModel):
    """A key just issued: `secret` is the only copy there will ever be."""

    key: ApiKey
    secret: str


class PaymentList(BaseModel):
    """Payments of a business day: the whole day oldest first, or with `?limit=` a page
    of it newest first (`has_more`: pass the last id as `?after=` for the next)."""

    object: Literal["list"] = "list"
    data: list[PaymentView]
    has_more: bool = False


class Repaired(BaseModel):
    """What a repair pass settled among the caller's payments, one line each."""

    repaired: list[str]


class Health(BaseModel):
    """The service answers."""

    status: Literal["ok"] = "ok"
