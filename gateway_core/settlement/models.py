"""The report's models: lines per method and brand, fee lines, the day's activity, payouts,
the X/Z report itself and `day_figures`, the one reading of it that every view shows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from gateway_core.errors import InputError

Record = dict[str, Any]  # a stored document (payment, refund, clearing row) as read
CARD = "card"  # the method of a stored payment that names none
ALL = "all"  # the method of a total line: every method of its currency
UPI, NETBANKING, CASH = "upi", "netbanking", "cash"
LINK = "link"  # a payment link moves no money (its attempts do): reports skip it
ROUNDING = "rounding"  # the brand of the cash line of roundings (due − amount)
METHOD_ORDER = (CARD, UPI, NETBANKING, CASH)  # then any other, by name


def method_of(record: Record) -> str:
    """The payment method of a stored payment or refund ("card" when it names none)."""
    method = record.get("method")
    return method if isinstance(method, str) and method else CARD


def method_rank(method: str) -> tuple[int, str]:
    """Sort key of a method: card, UPI, net banking, cash, then the others by name."""
    known = METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER)
    return (known, method)


class DayNotReady(InputError):
    """The day cannot be closed yet (payments still open, or nothing happened)."""


class Line(BaseModel):
    """One card brand, one bank of net banking, one other method, a method's subtotal or
    a currency's `total`, in one currency; amounts in minor units. A method without
    brands (UPI, cash...) has a single line whose `brand` is the method; cash has a
    second, `rounding` (Σ due − amount of its sales, signed: in gross, no sales);
    subtotals and totals have brand "total".

    Per line: gross − refunds − fees − GST = payout + kept. Cash is kept in the drawer
    (`kept`, no payout); every other method's money is paid out (`kept` 0)."""

    brand: str
    currency: str
    method: str = CARD  # a line stored before methods existed was a card's
    count: int = 0  # captured sales
    gross: int = 0  # Σ captured amount of those sales, tips included
    tips: int = 0  # the tip part of captured sales (included in gross)
    voids_count: int = 0
    voids: int = 0  # authorizations voided (never sales: not in gross)
    refunds_count: int = 0
    refunds: int = 0
    net_sales: int = 0  # gross − refunds
    fees: int = 0  # Σ MDR of each capture
    gst: int = 0  # Σ GST on each fee
    payout: int = 0  # net_sales − fees − gst (cash: 0, it is in the drawer)
    kept: int = 0  # cash: net_sales − fees − gst, kept in the drawer (no payout)

    def add(self, other: Line) -> None:
        """Add another line's figures to this one (for totals)."""
        for name in SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))


SUMMED = (
    "count",
    "gross",
    "tips",
    "voids_count",
    "voids",
    "refunds_count",
    "refunds",
    "net_sales",
    "fees",
    "gst",
    "payout",
    "kept",
)


class FeeLine(BaseModel):
    """The captures of one method, brand and funding at one rate: what the acquirer (or
    the method's provider) keeps. A method without brands has its name as the brand and
    no funding (""); net banking a line per bank (its code as the brand)."""

    brand: str
    funding: str
    currency: str
    rate_bps: int
    method: str = CARD
    flat: int = 0  # a flat fee per payment (net banking: by bank), besides the rate
    count: int = 0
    amount: int = 0  # captured
    fees: int = 0
    gst: int = 0


class Activity(BaseModel):
    """The payments *taken* on the day (attempts), whatever day their money moved."""

    payments: int = 0
    approved: int = 0  # the issuer approved: captured, voided, or authorized and open
    declined: int = 0
    failed_otp: int = 0  # canceled at the OTP step (wrong codes, expired, abandoned)
    open: int = 0  # unknown, waiting for an OTP, or authorized and not captured
    open_amount: dict[str, int] = {}  # currency → authorized amount still open
    moved_later: int = 0  # captured or voided on a later day (counted there)
    declines: dict[str, int] = {}  # response code (or "risk") → count
    unpaid: int = 0  # UPI: expired, or canceled by the cashier (nobody paid; not decided)
    unpaid_netbanking: int = 0  # net banking: expired or canceled (nobody paid)

    @property
    def approval_permille(self) -> int | None:
        """Approved per thousand decided attempts (None when nothing was decided)."""
        decided = self.approved + self.declined + self.failed_otp
        return None if decided == 0 else (self.approved * 1000 * 2 + decided) // (2 * decided)


class Payout(BaseModel):
    """What the acquirer (for cards; a method's provider for the others, each bank for
    net banking) pays, or when negative debits, for the day's payments of one method
    (and bank), and when. Cash has none: it is in the drawer."""

    currency: str
    amount: int
    date: date
    reference: str
    method: str = CARD
    bank: str | None = None  # net banking: the bank that pays


class DayReport(BaseModel):
    """An X report (a snapshot) or a Z report (the day closed)."""

    kind: Literal["X", "Z"]
    number: int | None = None  # Z reports: 1, 2, 3... in closing order
    closed_as: int | None = None  # X report of a closed day: the number of its Z
    day: date
    merchant_id: str
    merchant_name: str
    generated_at: datetime
    brands: list[Line]  # by currency, then method, then (cards) brand
    totals: list[Line]  # one per currency, every method
    fees: list[FeeLine]
    activity: Activity
    payouts: list[Payout]  # one per currency and method (net banking: and bank; no cash)
    methods: list[Line] = []  # one per currency and method: the method's subtotal
    closed_at: datetime | None = None
    closed_by: str | None = None
    audit_head: dict[str, Any] | None = None  # seq, mac and day of the newest event
    digest: str | None = None  # sha256 of the Z report's JSON without this field

    def total(self, currency: str | None = None) -> Line:
        """The total line of a currency (the only one, when there is one)."""
        for line in self.totals:
            if currency is None or line.currency == currency:
                return line
        return Line(brand="total", method=ALL, currency=currency or "")

    @property
    def subtotals(self) -> list[Line]:
        """One line per currency and method (a Z taken before methods: its totals, read
        as cards since their lines name no method)."""
        return self.methods or self.totals

    def paid_by(self, payout: Payout) -> Line:
        """The line a payout pays: a net banking bank's line, else its method's subtotal."""
        if payout.bank is not None:
            lines = self.brands
            key: tuple[str, str, str] = (payout.currency, payout.method, payout.bank)
        else:
            lines, key = self.subtotals, (payout.currency, payout.method, "")
        for line in lines:
            if (line.currency, line.method, line.brand if payout.bank else "") == key:
                return line
        return Line(brand="total", currency=payout.currency, method=payout.method)

    @property
    def empty(self) -> bool:
        """Nothing was taken and no money moved."""
        return self.activity.payments == 0 and not self.brands


class DayFigures(BaseModel):
    """A business day's figures in one currency, as every view shows them: the console's
    dashboard and Settlement tab, `paygate report x|z` and the API's report.

    Money counts on the day it moved, attempts on the day they were taken:

    - sales: captures made on the day (a sale refunded later, in part or whole, still
      counts; a pre-authorization counts once captured, on the day of its capture);
    - gross: Σ captured amount of those sales, tips included. An authorization voided
      before capture was never a sale: it is in `voids`, not in gross;
    - refunds: refunds made on the day, whatever day their sale; net = gross − refunds;
    - payments: the attempts taken on the day; approved: those the issuer approved
      (captured, voided after approval, or authorized and still open); declined; failed
      OTP; open (no answer yet, an OTP pending, or authorized and not captured);
    - approval rate: approved ÷ (approved + declined + failed OTP), per thousand.
    """

    currency: str
    sales: int = 0
    gross: int = 0
    tips: int = 0
    voids_count: int = 0
    voids: int = 0
    refunds_count: int = 0
    refunds: int = 0
    net: int = 0
    payments: int = 0
    approved: int = 0
    declined: int = 0
    failed_otp: int = 0
    open: int = 0
    approval_permille: int | None = None
    unpaid: int = 0
    unpaid_netbanking: int = 0
    kept: int = 0  # cash kept in the drawer (no payout)

    @property
    def average(self) -> int:
        """The average sale (0 with none)."""
        return self.gross // self.sales if self.sales else 0

    @property
    def rate(self) -> str:
        """The approval rate as people read it ("83.3%"; "-" when nothing was decided)."""
        rate = self.approval_permille
        return "-" if rate is None else f"{rate // 10}.{rate % 10}%"

    @property
    def attempts(self) -> str:
        """The day's attempts in one line, the same words on every view."""
        return (
            (
                f"payments {self.payments:,}: approved {self.approved:,}, declined "
                f"{self.declined:,}, failed OTP {self.failed_otp:,}, open {self.open:,}"
            )
            + (f", unpaid UPI {self.unpaid:,}" if self.unpaid else "")
            + (f", unpaid net banking {self.unpaid_netbanking:,}" if self.unpaid_netbanking else "")
        )

    @property
    def approval(self) -> str:
        """The approval rate and what it is a rate of."""
        decided = self.approved + self.declined + self.failed_otp
        return f"approval rate {self.rate} ({self.approved:,} approved of {decided:,} decided)"


def day_figures(report: DayReport, currency: str | None = None) -> DayFigures:
    """The figures of a report in `currency` (its only currency when None): the one
    function every view of a day's figures reads them from."""
    total, act = report.total(currency), report.activity
    return DayFigures(
        currency=total.currency or currency or "",
        sales=total.count,
        gross=total.gross,
        tips=total.tips,
        voids_count=total.voids_count,
        voids=total.voids,
        refunds_count=total.refunds_count,
        refunds=total.refunds,
        net=total.net_sales,
        payments=act.payments,
        approved=act.approved,
        declined=act.declined,
        failed_otp=act.failed_otp,
        open=act.open,
        approval_permille=act.approval_permille,
        unpaid=act.unpaid,
        unpaid_netbanking=act.unpaid_netbanking,
        kept=total.kept,
    )
