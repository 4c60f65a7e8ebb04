"""A cashier's shift and its drawer: the counted float it opens with, every cash move
while it is open, and the counted drawer it closes with (over / short).

Amounts are minor units of the shift's currency. A count is pieces per denomination
(minor units → pieces: {50000: 2, 100: 3} is two ₹500 notes and three ₹1 coins).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final, Literal

from pydantic import BaseModel

from gateway_core.errors import InputError

DENOMINATIONS: Final[dict[str, tuple[int, ...]]] = {
    "INR": (50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100),
    "USD": (10000, 5000, 2000, 1000, 500, 100, 25, 10, 5, 1),
    "EUR": (50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1),
    "GBP": (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1),
    "JPY": (10000, 5000, 2000, 1000, 500, 100, 50, 10, 5, 1),
}
"""The notes and coins a drawer is counted in, largest first (a currency not listed is
counted as one total: `{1: amount}`)."""

Count = dict[int, int]  # denomination in minor units → pieces

MoveKind = Literal["float", "sale", "refund", "paid_in", "paid_out"]


class ShiftError(InputError):
    """No open shift where one is needed, one already open, or a count that is wrong."""


def count_total(count: Count) -> int:
    """What a count adds up to, in minor units."""
    return sum(value * pieces for value, pieces in count.items())


class DrawerMove(BaseModel):
    """One movement of cash in or out of a shift's drawer. `amount` is always positive;
    `kind` says which way (sale, paid_in in; refund, paid_out out; float: the opening
    count). A sale's amount includes its rounding (`CashDetail.rounding`)."""

    id: str  # dm_...
    shift_id: str
    kind: MoveKind
    amount: int
    payment_id: str | None = None  # a sale's or refund's payment
    refund_id: str | None = None
    reason: str = ""  # paid in / out: why (at most 80 characters)
    operator: str
    approver: str | None = None  # the manager who approved (paid in / out)
    at: datetime


class Shift(BaseModel):
    """A cashier's shift on a terminal: open from its counted float to its counted
    drawer. At most one open shift per terminal."""

    id: str  # shf_YYYYMMDD_xxxxxxxxxx (the business day it opened on)
    merchant_id: str
    terminal_id: str
    cashier: str  # the user who opened it
    currency: str
    status: Literal["open", "closed"]
    day: date  # the business day it opened on
    opened_at: datetime
    opening: Count  # the float, counted
    float_amount: int
    expected: int  # float + sales + paid in − refunds − paid out, kept as moves happen
    closed_at: datetime | None = None
    closing: Count | None = None  # the drawer, counted
    counted: int | None = None
    over_short: int | None = None  # counted − expected (negative: short)
    closed_by: str | None = None
    approved_by: str | None = None  # the manager who approved a short over the limit


class ShiftReport(BaseModel):
    """A shift's drawer, line by line: what the shift report prints and audits."""

    shift: Shift
    sales_count: int
    sales: int  # cash taken for sales (amount + rounding), change already given back
    rounding: int  # the rounding part of `sales` (signed)
    refunds_count: int
    refunds: int
    paid_in: int
    paid_out: int
    moves: list[DrawerMove]

    @property
    def expected(self) -> int:
        """What the drawer should hold: float + sales + paid in − refunds − paid out."""
        s = self.shift
        return s.float_amount + self.sales + self.paid_in - self.refunds - self.paid_out
