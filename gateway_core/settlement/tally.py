"""The day tally: lines per currency, method and brand (card brand, net banking bank;
cash with its rounding line), fee lines and the day's activity, from the stored payment
and refund records in one linear pass. Payment links are skipped: their attempts, each
a payment of its own method, hold the money."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, tzinfo

from gateway_core.cards import Brand
from gateway_core.clock import ClosedAt
from gateway_core.fees import FeeSchedule, fee_of
from gateway_core.payments import OPEN_STATUSES
from gateway_core.settlement.days import DayOf
from gateway_core.settlement.models import (
    ALL,
    CARD,
    CASH,
    LINK,
    NETBANKING,
    ROUNDING,
    SUMMED,
    UPI,
    Activity,
    FeeLine,
    Line,
    Record,
    method_rank,
)

BRAND_ORDER = [b.value for b in Brand]

LineKey = tuple[str, str, str]  # currency, method, brand
FeeKey = tuple[str, str, str, str, int]  # currency, method, brand, funding, rate


def is_void(record: Record) -> bool:
    """A voided authorization (not an OTP failure or an expired challenge)."""
    return record["status"] == "canceled" and bool(record.get("voided_by"))


def kind_of(record: Record) -> tuple[str, str]:
    """The (method, brand) line of a stored payment or refund: a card's brand, a net
    banking payment's bank (a refund names it as its `brand`), or the method itself for a
    method without brands."""
    method = record.get("method") or CARD
    if method == NETBANKING:
        detail = record.get("netbanking")
        return method, detail["bank"] if detail else record.get("brand") or method
    if method != CARD:
        return method, method
    card = record.get("card")
    return CARD, card["brand"] if card else record["brand"]


class _Sums:
    """Running sums of one line (plain attributes: a 100k-payment day adds up fast)."""

    __slots__ = SUMMED
    count: int
    gross: int
    tips: int
    voids_count: int
    voids: int
    refunds_count: int
    refunds: int
    net_sales: int
    fees: int
    gst: int
    payout: int
    kept: int

    def __init__(self) -> None:
        for name in SUMMED:
            setattr(self, name, 0)


class _Attempts:
    __slots__ = (
        "approved",
        "declined",
        "declines",
        "failed_otp",
        "moved_later",
        "open",
        "open_amount",
        "payments",
        "unpaid",
        "unpaid_netbanking",
    )

    def __init__(self) -> None:
        self.payments = self.approved = self.declined = self.failed_otp = self.unpaid = 0
        self.unpaid_netbanking = 0
        self.open = self.moved_later = 0
        self.open_amount: dict[str, int] = {}
        self.declines: dict[str, int] = {}


Slot = tuple[_Sums, int, int, list[int]]  # the line, the rate, the flat fee, the fee line's


def tally(
    day: date,
    payments: Iterable[Record],
    refunds: Iterable[Record],
    schedule: FeeSchedule,
    tz: tzinfo | None,
    closed_at: ClosedAt | None = None,
) -> tuple[list[Line], list[Line], list[FeeLine], Activity]:
    """The arithmetic of a day: method and brand lines, totals per currency, fee lines and
    the day's activity.

    `payments` are the stored payment records that may concern the day (the day's own
    and earlier ones whose money may have moved on it); `refunds` the refunds filed on
    the day. One pass, linear in the number of records.
    """
    lines: dict[LineKey, _Sums] = {}
    fee_lines: dict[FeeKey, list[int]] = {}  # → [count, amount, fees, gst]
    act = _Attempts()
    prefix = f"pay_{day:%Y%m%d}_"  # the ids of the payments taken on the day
    gst_bps = schedule.gst_bps
    moved = DayOf(tz, closed_at)
    slots: dict[tuple[str, str | None, str, str | None], Slot] = {}

    for r in payments:
        status = r["status"]
        if r.get("method") == LINK:
            continue
        taken_today = r["id"].startswith(prefix)
        if taken_today:
            _count_attempt(act, r)
        if status != "succeeded" and not (status == "canceled" and r.get("voided_by")):
            continue
        if moved(r["updated_at"]) != day:
            if taken_today:
                act.moved_later += 1
            continue
        card, nb = r.get("card"), r.get("netbanking")
        brand = card["brand"] if card else nb["bank"] if nb else ""
        key = (r["currency"], r.get("method"), brand, r.get("funding"))
        slot = slots.get(key)
        if slot is None:  # the line, MDR and fee line of a (currency, method, brand, funding)
            slot = slots[key] = _slot(r, lines, fee_lines, schedule)
        ln, rate, flat, fl = slot
        if status == "succeeded":
            captured = r["amount_captured"]
            fee = fee_of(captured, rate) + flat
            gst = fee_of(fee, gst_bps)
            ln.count += 1
            ln.gross += captured
            ln.tips += min(r.get("tip", 0), captured)
            ln.fees += fee
            ln.gst += gst
            fl[0] += 1
            fl[1] += captured
            fl[2] += fee
            fl[3] += gst
            if (cash := r.get("cash")) and cash.get("rounding"):
                _rounding(lines, r["currency"]).gross += cash["rounding"]
        else:  # a void: the authorization is released, it never became a sale
            ln.voids += r["amount"]
            ln.voids_count += 1
    for refund in refunds:
        method, brand = kind_of(refund)
        sums = lines.get((refund["currency"], method, brand))
        if sums is None:
            sums = lines[(refund["currency"], method, brand)] = _Sums()
        sums.refunds += refund["amount"]
        sums.refunds_count += 1
    return (*_lines(lines), _fee_lines(fee_lines, schedule), _activity(act))


def _lines(lines: dict[LineKey, _Sums]) -> tuple[list[Line], list[Line]]:
    """The method and brand lines in report order, and a total per currency."""
    brand_lines: list[Line] = []
    totals: dict[str, Line] = {}
    for (currency, method, brand), sums in lines.items():
        sums.net_sales = sums.gross - sums.refunds
        if method == CASH:
            sums.kept = sums.net_sales - sums.fees - sums.gst
        else:
            sums.payout = sums.net_sales - sums.fees - sums.gst
        figures = {n: getattr(sums, n) for n in SUMMED}
        line = Line(brand=brand, currency=currency, method=method, **figures)
        brand_lines.append(line)
        totals.setdefault(currency, Line(brand="total", method=ALL, currency=currency)).add(line)
    brand_lines.sort(key=lambda ln: (ln.currency, method_rank(ln.method), brand_rank(ln.brand)))
    return brand_lines, [totals[c] for c in sorted(totals)]


def _fee_lines(fee_lines: dict[FeeKey, list[int]], schedule: FeeSchedule) -> list[FeeLine]:
    fees = [
        FeeLine(
            brand=brand,
            funding=funding,
            currency=currency,
            rate_bps=rate,
            method=method,
            flat=schedule.flat_of(method, brand),
            count=count,
            amount=amount,
            fees=fee,
            gst=gst,
        )
        for (currency, method, brand, funding, rate), (count, amount, fee, gst) in fee_lines.items()
        if count  # a group of voids only has no fees
    ]
    fees.sort(key=lambda f: (f.currency, method_rank(f.method), brand_rank(f.brand), f.funding))
    return fees


def _activity(act: _Attempts) -> Activity:
    return Activity(
        payments=act.payments,
        approved=act.approved,
        declined=act.declined,
        failed_otp=act.failed_otp,
        open=act.open,
        open_amount=act.open_amount,
        moved_later=act.moved_later,
        declines=act.declines,
        unpaid=act.unpaid,
        unpaid_netbanking=act.unpaid_netbanking,
    )


def method_totals(lines: Iterable[Line]) -> list[Line]:
    """A subtotal per currency and method of `lines` (brand "total"), in report order."""
    out: dict[tuple[str, str], Line] = {}
    for line in lines:
        key = (line.currency, line.method)
        if key not in out:
            out[key] = Line(brand="total", currency=line.currency, method=line.method)
        out[key].add(line)
    return [out[k] for k in sorted(out, key=lambda k: (k[0], method_rank(k[1])))]


def _slot(
    r: Record,
    lines: dict[LineKey, _Sums],
    fee_lines: dict[FeeKey, list[int]],
    schedule: FeeSchedule,
) -> Slot:
    currency, funding = r["currency"], r.get("funding")
    method, brand = kind_of(r)
    ln = lines.get((currency, method, brand))
    if ln is None:
        ln = lines[(currency, method, brand)] = _Sums()
    rate = schedule.rate_of(method, brand, funding)
    shown = (funding or "unknown") if method == CARD else ""
    fl = fee_lines.setdefault((currency, method, brand, shown, rate), [0, 0, 0, 0])
    return ln, rate, schedule.flat_of(method, brand), fl


def _rounding(lines: dict[LineKey, _Sums], currency: str) -> _Sums:
    """The cash rounding line of a currency (made on its first rounded sale)."""
    sums = lines.get((currency, CASH, ROUNDING))
    if sums is None:
        sums = lines[(currency, CASH, ROUNDING)] = _Sums()
    return sums


def _count_attempt(act: _Attempts, r: Record) -> None:
    status = r["status"]
    code = decline_key(r) if status == "declined" else ""
    word = "voided" if is_void(r) else status
    attempt(act, word, r.get("method") or CARD, r["currency"], code, 1, r["amount"])


def decline_key(r: Record) -> str:
    """What a declined payment counts under in `Activity.declines`: its response code,
    "risk" when the risk rules blocked it, else "other"."""
    return r.get("response_code") or (
        "risk" if r.get("decline_code") == "blocked_by_risk" else "other"
    )


def attempt(
    act: _Attempts, status: str, method: str, currency: str, code: str, n: int, amount: int
) -> None:
    """Count `n` payments taken on the day, of `amount` in all, in their status
    ("voided": canceled by a void) and method (`code`: a decline's `decline_key`)."""
    act.payments += n
    if status in OPEN_STATUSES:
        act.open += n
        act.open_amount[currency] = act.open_amount.get(currency, 0) + amount
        if status == "requires_capture":
            act.approved += n
    elif status == "declined":
        act.declined += n
        act.declines[code] = act.declines.get(code, 0) + n
    elif status in ("succeeded", "voided"):
        act.approved += n
    elif method == UPI:  # expired, or the cashier gave up: nobody paid
        act.unpaid += n
    elif method == NETBANKING:  # expired, or canceled: nobody paid
        act.unpaid_netbanking += n
    else:
        act.failed_otp += n


def brand_rank(brand: str) -> tuple[int, str]:
    """Sort key of a card brand: the networks' order, then any other by name (a bank
    code, a method's own line), cash rounding last."""
    if brand == ROUNDING:
        return (len(BRAND_ORDER) + 1, brand)
    return (BRAND_ORDER.index(brand) if brand in BRAND_ORDER else len(BRAND_ORDER), brand)
