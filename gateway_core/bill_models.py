"""A split bill: one bill paid by several tenders (cash, card, UPI, net banking, in
any order). Each part is an ordinary payment of its method carrying the bill's id; the
bill is paid when its succeeded parts add up to it exactly.

Amounts are minor units of the bill's currency.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from gateway_core.errors import InputError

BillStatus = Literal["open", "paid", "canceling", "canceled"]
"""open: a balance is due (parts may be declined and tried again); paid: the succeeded
parts add up to the bill; canceling: the cashier gave up and what was taken is being
voided or refunded (a crash here is finished by repair); canceled: nothing is kept."""


class BillError(InputError):
    """A part that does not fit the bill (more than the balance, another currency), or
    a bill no longer open."""


class BillPart(BaseModel):
    """One tender of a bill: its payment and how it stands."""

    payment_id: str
    method: str
    amount: int
    status: str  # the payment's status
    label: str  # what the receipt shows: "Cash", "Visa •••• 4242", "UPI ra•••@okaxis"
    change: int = 0  # cash: the change given
    refunded: int = 0  # given back (a canceled bill's parts)


class Bill(BaseModel):
    """A bill and its parts, as the bill service keeps it."""

    id: str  # bill_YYYYMMDD_xxxxxxxxxx
    merchant_id: str
    terminal_id: str
    operator: str
    amount: int
    currency: str
    status: BillStatus
    parts: list[BillPart] = []
    created_at: datetime
    updated_at: datetime
    canceled_by: str | None = None
    approved_by: str | None = None  # the manager who approved refunds when canceling
    idempotency_key: str | None = None

    @property
    def paid(self) -> int:
        """What the succeeded parts took and kept (refunds taken off)."""
        return sum(p.amount - p.refunded for p in self.parts if p.status == "succeeded")

    @property
    def balance(self) -> int:
        """What is still due."""
        return self.amount - self.paid
