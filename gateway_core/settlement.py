"""Settlement: X and Z reports, fees and payout, reconciliation with the acquirer, export.

A business day's money is what *moved* on it (docs/SETTLEMENT.md has the formulas):

- a capture counts on the day it was captured, a void on the day it was voided (both
  are the payment's last change, `updated_at`); a refund on the day it was made (it is
  filed there). Nearly always that is the day the payment was taken; a pre-authorization
  captured after midnight counts on the day of its capture, like the acquirer's
  clearing file, so the report and the clearing file always describe the same money;
- per brand and currency: gross = captured (a voided authorization was never a sale; its
  amount is shown apart as `voids`); net sales = gross − refunds; fees = Σ MDR of each
  capture; GST = Σ GST on each fee; payout = net sales − fees − GST. Every total is the
  sum of its brand lines. `day_figures` is the one reading of a report that every view
  shows (dashboard, X and Z reports, `paygate report`).

The *X report* can be printed any time and changes nothing. The *Z report* closes the
day: it is numbered in closing order, stored once (never updated), carries the audit
chain's head and a digest that the audit log signs, and closing the same day again gives
back the stored report. After it, the gateway refuses anything that would change the day
(`gateway.DayClosed`); a later refund of its sales is filed, and counted, on its own day.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Literal

import orjson
from pydantic import BaseModel

from gateway_core.audit import AuditLog
from gateway_core.cards import Brand
from gateway_core.clock import Clock, ClosedAt, SystemClock, business_day, business_day_at
from gateway_core.errors import InputError
from gateway_core.fees import FeeSchedule, fee_of
from gateway_core.money import currency_exponent
from gateway_core.payments import OPEN_STATUSES, payment_day, reason_for
from gateway_core.settings import Settings
from gateway_core.store import DataStore
from gateway_core.store.repos import (
    TinyClosingRepository,
    TinyPaymentRepository,
    TinyRefundRepository,
)

if TYPE_CHECKING:
    from gateway_core.bank_client import BankClient

Record = dict[str, Any]

# A payment can move money only while it is open; pre-authorizations are voided after 7
# days. Earlier days are searched this far back for money that moved on a later day.
LOOKBACK_DAYS = 31
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
BRAND_ORDER = [b.value for b in Brand]


class DayNotReady(InputError):
    """The day cannot be closed yet (payments still open, or nothing happened)."""


# ---------------------------------------------------------------------------- the model
class Line(BaseModel):
    """One card brand (or `total`) in one currency; amounts in minor units."""

    brand: str
    currency: str
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
    payout: int = 0  # net_sales − fees − gst

    def add(self, other: Line) -> None:
        """Add another line's figures to this one (for totals)."""
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))


_SUMMED = (
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
)


class FeeLine(BaseModel):
    """The captures of one brand and funding at one rate: what the acquirer keeps."""

    brand: str
    funding: str
    currency: str
    rate_bps: int
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

    @property
    def approval_permille(self) -> int | None:
        """Approved per thousand decided attempts (None when nothing was decided)."""
        decided = self.approved + self.declined + self.failed_otp
        return None if decided == 0 else (self.approved * 1000 * 2 + decided) // (2 * decided)


class Payout(BaseModel):
    """What the acquirer pays (or, when negative, debits) for the day, and when."""

    currency: str
    amount: int
    date: date
    reference: str


class DayReport(BaseModel):
    """An X report (a snapshot) or a Z report (the day closed)."""

    kind: Literal["X", "Z"]
    number: int | None = None  # Z reports: 1, 2, 3... in closing order
    closed_as: int | None = None  # X report of a closed day: the number of its Z
    day: date
    merchant_id: str
    merchant_name: str
    generated_at: datetime
    brands: list[Line]
    totals: list[Line]  # one per currency
    fees: list[FeeLine]
    activity: Activity
    payouts: list[Payout]
    closed_at: datetime | None = None
    closed_by: str | None = None
    audit_head: dict[str, Any] | None = None  # seq, mac and day of the newest event
    digest: str | None = None  # sha256 of the Z report's JSON without this field

    def total(self, currency: str | None = None) -> Line:
        """The total line of a currency (the only one, when there is one)."""
        for line in self.totals:
            if currency is None or line.currency == currency:
                return line
        return Line(brand="total", currency=currency or "")

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
            f"payments {self.payments:,}: approved {self.approved:,}, declined "
            f"{self.declined:,}, failed OTP {self.failed_otp:,}, open {self.open:,}"
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
    )


class Entry(BaseModel):
    """One capture or refund, as the gateway or the acquirer has it."""

    kind: Literal["capture", "refund"]
    ref: str  # the payment id for a capture, the refund id for a refund
    payment_id: str
    amount: int
    currency: str
    brand: str | None = None
    rrn: str | None = None


class Mismatch(BaseModel):
    """The same capture or refund with different amounts (or currencies) on each side."""

    gateway: Entry
    acquirer: Entry

    @property
    def difference(self) -> int | None:
        """Gateway minus acquirer, in minor units (None across currencies)."""
        if self.gateway.currency != self.acquirer.currency:
            return None
        return self.gateway.amount - self.acquirer.amount


class Reconciliation(BaseModel):
    """The day at the gateway against the acquirer's clearing file."""

    day: date
    matched: list[Entry] = []
    missing_at_acquirer: list[Entry] = []  # the gateway has it, the clearing file not
    missing_at_gateway: list[Entry] = []  # the clearing file has it (or has it twice)
    amount_mismatch: list[Mismatch] = []

    @property
    def breaks(self) -> int:
        """How many entries do not reconcile."""
        return (
            len(self.missing_at_acquirer) + len(self.missing_at_gateway) + len(self.amount_mismatch)
        )

    @property
    def ok(self) -> bool:
        return self.breaks == 0

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per category: count, and amount per currency (acquirer's for missing at the
        gateway, gateway's otherwise; a mismatch also its difference)."""
        out: dict[str, dict[str, Any]] = {}
        for name in ("matched", "missing_at_acquirer", "missing_at_gateway"):
            entries: list[Entry] = getattr(self, name)
            out[name] = {"count": len(entries), "amount": _by_currency(entries)}
        diff: dict[str, int] = {}
        for m in self.amount_mismatch:
            if m.difference is not None:
                diff[m.gateway.currency] = diff.get(m.gateway.currency, 0) + m.difference
        out["amount_mismatch"] = {
            "count": len(self.amount_mismatch),
            "amount": _by_currency(m.gateway for m in self.amount_mismatch),
            "acquirer_amount": _by_currency(m.acquirer for m in self.amount_mismatch),
            "difference": diff,
        }
        return out

    def document(self) -> dict[str, Any]:
        """The JSON form: every list with amounts, the summary, and `ok`."""
        doc = self.model_dump(mode="json")
        for item, mismatch in zip(doc["amount_mismatch"], self.amount_mismatch, strict=True):
            item["difference"] = mismatch.difference
        return {**doc, "ok": self.ok, "breaks": self.breaks, "summary": self.summary()}


def _by_currency(entries: Iterable[Entry]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in entries:
        out[e.currency] = out.get(e.currency, 0) + e.amount
    return out


# ---------------------------------------------------------------------------- pure parts
def moved_on(record: Record, tz: tzinfo | None, closed_at: ClosedAt | None = None) -> date:
    """The business day of a payment's last change (its capture, void or decline): the
    next one when it came after the Z report of its date (`business_day_at`)."""
    return business_day_at(datetime.fromisoformat(record["updated_at"]), tz, closed_at)


class _DayOf:
    """`moved_on` for many records: the business day of an ISO time depends only on its
    minute and UTC offset (but in the minute a Z report was taken), so each (minute,
    offset) is converted once."""

    def __init__(self, tz: tzinfo | None, closed_at: ClosedAt | None = None) -> None:
        self._tz = tz
        self._closed_at = closed_at
        self._seen: dict[str, date] = {}

    def __call__(self, stamp: str) -> date:
        key = stamp[:16] + stamp[-6:]  # "YYYY-MM-DDTHH:MM" + "+05:30" (or "…Z")
        found = self._seen.get(key)
        if found is None:
            at = datetime.fromisoformat(stamp)
            start = at.replace(second=0, microsecond=0)
            found = business_day_at(start, self._tz, self._closed_at)
            end = start + timedelta(minutes=1, microseconds=-1)
            if business_day_at(end, self._tz, self._closed_at) != found:  # a Z in the minute
                return business_day_at(at, self._tz, self._closed_at)
            self._seen[key] = found
        return found


def is_void(record: Record) -> bool:
    """A voided authorization (not an OTP failure or an expired challenge)."""
    return record["status"] == "canceled" and bool(record.get("voided_by"))


class _Sums:
    """Running sums of one line (plain attributes: a 100k-payment day adds up fast)."""

    __slots__ = _SUMMED

    def __init__(self) -> None:
        for name in _SUMMED:
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
    )

    def __init__(self) -> None:
        self.payments = self.approved = self.declined = self.failed_otp = 0
        self.open = self.moved_later = 0
        self.open_amount: dict[str, int] = {}
        self.declines: dict[str, int] = {}


def tally(
    day: date,
    payments: Iterable[Record],
    refunds: Iterable[Record],
    schedule: FeeSchedule,
    tz: tzinfo | None,
    closed_at: ClosedAt | None = None,
) -> tuple[list[Line], list[Line], list[FeeLine], Activity]:
    """The arithmetic of a day: brand lines, totals, fee lines and the day's activity.

    `payments` are the stored payment records that may concern the day (the day's own
    and earlier ones whose money may have moved on it); `refunds` the refunds filed on
    the day. One pass, linear in the number of records.
    """
    lines: dict[tuple[str, str], _Sums] = {}
    fee_lines: dict[tuple[str, str, str, int], list[int]] = {}  # → [count, amount, fees, gst]
    act = _Attempts()
    prefix = f"pay_{day:%Y%m%d}_"  # the ids of the payments taken on the day
    gst_bps = schedule.gst_bps
    moved = _DayOf(tz, closed_at)
    slots: dict[tuple[str, str, str | None], tuple[_Sums, int, list[int]]] = {}

    for r in payments:
        status = r["status"]
        taken_today = r["id"].startswith(prefix)
        if taken_today:
            _count_attempt(act, r)
        if status != "succeeded" and not (status == "canceled" and r.get("voided_by")):
            continue
        if moved(r["updated_at"]) != day:
            if taken_today:
                act.moved_later += 1
            continue
        key = (r["currency"], r["card"]["brand"], r.get("funding"))
        slot = slots.get(key)
        if slot is None:  # the brand line, MDR and fee line of a (currency, brand, funding)
            slot = slots[key] = _slot(key, lines, fee_lines, schedule)
        ln, rate, fl = slot
        if status == "succeeded":
            captured = r["amount_captured"]
            fee = fee_of(captured, rate)
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
        else:  # a void: the authorization is released, it never became a sale
            ln.voids += r["amount"]
            ln.voids_count += 1
    for refund in refunds:
        ln = lines.get((refund["currency"], refund["brand"]))
        if ln is None:
            ln = lines[(refund["currency"], refund["brand"])] = _Sums()
        ln.refunds += refund["amount"]
        ln.refunds_count += 1
    brand_lines, totals = [], {}
    for (currency, brand), sums in lines.items():
        sums.net_sales = sums.gross - sums.refunds
        sums.payout = sums.net_sales - sums.fees - sums.gst
        line = Line(brand=brand, currency=currency, **{n: getattr(sums, n) for n in _SUMMED})
        brand_lines.append(line)
        totals.setdefault(currency, Line(brand="total", currency=currency)).add(line)
    brand_lines.sort(key=lambda ln: (ln.currency, _brand_rank(ln.brand)))
    fees = [
        FeeLine(
            brand=brand,
            funding=funding,
            currency=currency,
            rate_bps=rate,
            count=count,
            amount=amount,
            fees=fee,
            gst=gst,
        )
        for (currency, brand, funding, rate), (count, amount, fee, gst) in fee_lines.items()
        if count  # a group of voids only has no fees
    ]
    fees.sort(key=lambda f: (f.currency, _brand_rank(f.brand), f.funding))
    activity = Activity(**{name: getattr(act, name) for name in _Attempts.__slots__})
    return brand_lines, [totals[c] for c in sorted(totals)], fees, activity


def _slot(
    key: tuple[str, str, str | None],
    lines: dict[tuple[str, str], _Sums],
    fee_lines: dict[tuple[str, str, str, int], list[int]],
    schedule: FeeSchedule,
) -> tuple[_Sums, int, list[int]]:
    currency, brand, funding = key
    ln = lines.get((currency, brand))
    if ln is None:
        ln = lines[(currency, brand)] = _Sums()
    rate = schedule.rate(brand, funding)
    fl = fee_lines.setdefault((currency, brand, funding or "unknown", rate), [0, 0, 0, 0])
    return ln, rate, fl


def _count_attempt(act: _Attempts, r: Record) -> None:
    status = r["status"]
    act.payments += 1
    if status in OPEN_STATUSES:
        act.open += 1
        act.open_amount[r["currency"]] = act.open_amount.get(r["currency"], 0) + r["amount"]
        if status == "requires_capture":
            act.approved += 1
    elif status == "declined":
        act.declined += 1
        code = r.get("response_code") or (
            "risk" if r.get("decline_code") == "blocked_by_risk" else "other"
        )
        act.declines[code] = act.declines.get(code, 0) + 1
    elif status == "succeeded" or is_void(r):
        act.approved += 1
    else:
        act.failed_otp += 1


def _brand_rank(brand: str) -> tuple[int, str]:
    return (BRAND_ORDER.index(brand) if brand in BRAND_ORDER else len(BRAND_ORDER), brand)


def decline_text(code: str) -> str:
    """What a decline key of `Activity.declines` means."""
    if code == "risk":
        return "blocked by a risk rule"
    if code == "other":
        return "declined"
    return reason_for(code).text


def payout_reference(merchant_id: str, day: date, currency: str | None = None) -> str:
    """A deterministic payout reference from the merchant and the day (a currency other
    than the merchant's own gets its code appended): PGS + date + 8 hex digits."""
    digest = hashlib.sha256(f"paygate-payout|{merchant_id}|{day.isoformat()}".encode())
    ref = f"PGS{day:%Y%m%d}{digest.hexdigest()[:8].upper()}"
    return f"{ref}-{currency}" if currency else ref


def match(day: date, expected: Iterable[Entry], cleared: Iterable[Entry]) -> Reconciliation:
    """Pair the gateway's captures and refunds with the acquirer's clearing entries by
    (kind, ref). Each acquirer entry pairs at most once: a second one for the same
    capture or refund is missing at the gateway (the acquirer would pay it twice)."""
    rec = Reconciliation(day=day)
    waiting: dict[tuple[str, str], list[Entry]] = {}
    for entry in cleared:
        waiting.setdefault((entry.kind, entry.ref), []).append(entry)
    for ours in expected:
        theirs = waiting.get((ours.kind, ours.ref))
        if not theirs:
            rec.missing_at_acquirer.append(ours)
            continue
        acquirer = theirs.pop(0)
        if acquirer.amount == ours.amount and acquirer.currency == ours.currency:
            rec.matched.append(ours)
        else:
            rec.amount_mismatch.append(Mismatch(gateway=ours, acquirer=acquirer))
    rec.missing_at_gateway = [e for entries in waiting.values() for e in entries]
    return rec


def clearing_entry(row: Record) -> Entry:
    """A row of the acquirer's clearing file as an Entry."""
    return Entry(
        kind=row["type"],
        ref=row["ref"],
        payment_id=row["payment_id"],
        amount=row["amount"],
        currency=row["currency"],
        brand=row.get("brand"),
        rrn=row.get("rrn"),
    )


def digest_of(document: Record) -> str:
    """sha256 of a report's canonical JSON, without its `digest` field."""
    body = {k: v for k, v in document.items() if k != "digest"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def parse_day(text: str) -> date:
    """A business day as typed (`--date`, the API's `date`): YYYY-MM-DD only, from
    FIRST_DAY to LAST_DAY (no payment lies outside, and day arithmetic stays in range);
    anything else is an `InputError` of one line."""
    shown = text[:20]
    if not _DATE.fullmatch(text.strip()):
        raise InputError(f"a date is YYYY-MM-DD, not {shown!r}")
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{shown} is not a date on the calendar") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(f"{day} is out of range: a business day is {FIRST_DAY} to {LAST_DAY}")
    return day


# ---------------------------------------------------------------------------- the service
class Settlement:
    """One merchant's reports, closing, reconciliation and export over a data dir's store
    (the settings' merchant by default): only its payments, their refunds, its own Z
    reports and numbers, and its lines of the acquirer's clearing file.

    X reports, reconciliation and export only read (a read-only store is enough);
    closing a day needs a writer store and the audit log.
    """

    def __init__(
        self,
        store: DataStore,
        settings: Settings,
        *,
        audit: AuditLog | None = None,
        clock: Clock | None = None,
        merchant_id: str | None = None,
    ) -> None:
        home = settings.merchant_id
        self.merchant_id = merchant_id or home
        if self.merchant_id != home:  # the settings' name is the home merchant's
            settings = settings.model_copy(
                update={"merchant_id": self.merchant_id, "merchant_name": self.merchant_id}
            )
        self._store = store
        self._settings = settings
        self._audit = audit
        self._clock = clock or SystemClock()
        self._payments = TinyPaymentRepository(store)
        self._refunds = TinyRefundRepository(store)
        self._closings = TinyClosingRepository(store, self.merchant_id, home=home)

    @property
    def tz(self) -> tzinfo | None:
        return self._settings.tz

    def today(self) -> date:
        """The business day now, in the merchant's timezone (the next once today's Z
        report is taken)."""
        return business_day(self._clock, self.tz, self._closings.closed_at)

    def closed_at(self) -> ClosedAt:
        """When each closed day's Z report was taken, read once (for many records)."""
        times = {
            date.fromisoformat(doc["day"]): datetime.fromisoformat(doc["closed_at"])
            for doc in self._closings.all()
        }
        return times.get

    def check_day(self, day: date) -> date:
        """Refuse a day in the future."""
        today = self.today()
        if day > today:
            raise InputError(f"{day} is in the future (today is {today})")
        return day

    # -- reading -------------------------------------------------------------------------
    def _day_records(self, day: date) -> Iterator[Record]:
        if day not in self._store.days():
            return iter(())
        return (r for r in self._payments.each(day) if r["merchant_id"] == self.merchant_id)

    def _start_of(self, day: date) -> datetime:
        midnight = datetime.combine(day, time.min)
        return midnight.replace(tzinfo=self.tz) if self.tz else midnight.astimezone()

    def candidates(self, day: date) -> Iterator[Record]:
        """Payments that may concern the day: its own, then those of earlier days (up to
        LOOKBACK_DAYS) whose last change fell on it. Days closed before it began are
        skipped: nothing of theirs can have moved since."""
        yield from self._day_records(day)
        began = self._start_of(day)
        closed_at = self.closed_at()
        for earlier in self._store.days():
            if not day - timedelta(days=LOOKBACK_DAYS) <= earlier < day:
                continue
            closing = self._closings.get(earlier)
            if closing and datetime.fromisoformat(closing["closed_at"]) < began:
                continue
            for r in self._day_records(earlier):
                if (
                    r["status"] in ("succeeded", "canceled")
                    and moved_on(r, self.tz, closed_at) == day
                ):
                    yield r

    def refunds(self, day: date) -> list[Record]:
        """The refunds made on the day (whatever day their payments were taken)."""
        return [r for r in self._refunds.for_day(day) if self._owns(r["payment_id"])]

    def _owns(self, payment_id: str) -> bool:
        day = payment_day(payment_id)
        payment = self._payments.get(day, payment_id) if day else None
        return payment is not None and payment["merchant_id"] == self.merchant_id

    def closing(self, day: date) -> DayReport | None:
        """The day's Z report, if it was closed."""
        doc = self._closings.get(day)
        return None if doc is None else DayReport.model_validate(doc)

    def closings(self) -> list[DayReport]:
        """Every Z report, in number order."""
        return [DayReport.model_validate(doc) for doc in self._closings.all()]

    def x_report(self, day: date | None = None) -> DayReport:
        """A snapshot of the day so far (today by default). Changes nothing."""
        day = self.check_day(day or self.today())
        return self.report_of(day, self.candidates(day), self.refunds(day))

    def report_of(self, day: date, payments: Iterable[Record], refunds: list[Record]) -> DayReport:
        """The X report of `day` from its records read already (`candidates`, `refunds`):
        one read of a large day serves the report and the merchant console's dashboard."""
        report = self._report(day, payments, refunds)
        closing = self._closings.get(day)
        return report.model_copy(update={"closed_as": closing["number"] if closing else None})

    def _report(self, day: date, payments: Iterable[Record], refunds: list[Record]) -> DayReport:
        s = self._settings
        brands, totals, fees, activity = tally(
            day, payments, refunds, s.fees, self.tz, self.closed_at()
        )
        payouts = [
            Payout(
                currency=t.currency,
                amount=t.payout,
                date=s.fees.payout_date(day),
                reference=payout_reference(
                    s.merchant_id, day, None if t.currency == s.currency else t.currency
                ),
            )
            for t in totals
        ]
        return DayReport(
            kind="X",
            day=day,
            merchant_id=s.merchant_id,
            merchant_name=s.merchant_name,
            generated_at=self._clock.now(),
            brands=brands,
            totals=totals,
            fees=fees,
            activity=activity,
            payouts=payouts,
        )

    # -- closing -------------------------------------------------------------------------
    def z_preview(self, day: date) -> DayReport:
        """The Z report that closing the day would take now, not stored (the stored one
        when the day is closed). Raises `DayNotReady` when payments of the day are still
        open or nothing happened on it."""
        day = self.check_day(day)
        stored = self.closing(day)
        if stored is not None:
            return stored
        payments = list(self.candidates(day))
        still_open = [r["id"] for r in payments if r["status"] in OPEN_STATUSES]
        if still_open:
            shown = ", ".join(still_open[:3]) + (", ..." if len(still_open) > 3 else "")
            raise DayNotReady(
                f"{len(still_open)} payment(s) of {day} are still open ({shown}): capture or "
                "void them, or run `paygate repair`; the day was not closed"
            )
        report = self._report(day, payments, self.refunds(day))
        if report.empty:
            raise DayNotReady(f"no payments or refunds on {day}: nothing to close")
        numbers = [doc["number"] for doc in self._closings.all()]
        return report.model_copy(update={"kind": "Z", "number": max(numbers, default=0) + 1})

    def close_day(self, day: date, *, closed_by: str = "cli") -> tuple[DayReport, bool]:
        """Take the Z report: returns it and whether the day was closed already (then it
        is the stored report, unchanged). Refuses a day with payments still open or with
        nothing on it (`DayNotReady`); the day stays open then."""
        day = self.check_day(day)
        stored = self.closing(day)
        if stored is not None:
            return stored, True
        if self._audit is None:
            raise RuntimeError("closing a day needs the audit log")
        now = self._clock.now()
        report = self.z_preview(day).model_copy(
            update={
                "generated_at": now,
                "closed_at": now,
                "closed_by": closed_by,
                "audit_head": self._audit.head(),
            }
        )
        document = report.model_dump(mode="json")
        document["digest"] = digest_of(document)
        self._closings.add(day, document)  # stored first: an audit event never names a Z
        self._audit.record(  # that is not there; this event signs the Z's digest
            closed_by,
            "day.closed",
            f"Z{report.number}",
            day=day.isoformat(),
            digest=document["digest"],
            payout={p.currency: p.amount for p in report.payouts},
            anchor_seq=report.audit_head["seq"],
        )
        return DayReport.model_validate(document), False

    def check_closing(self, day: date) -> list[str]:
        """Problems with a closed day: the stored Z edited, the day's payments changed
        since, or the audit chain no longer holding the Z's anchor. Empty when sound."""
        doc = self._closings.get(day)
        if doc is None:
            return []
        problems = []
        z = DayReport.model_validate(doc)
        if doc.get("digest") != digest_of(doc):
            problems.append(f"the stored Z report {z.number} was edited (digest mismatch)")
        now = self._report(day, list(self.candidates(day)), self.refunds(day))
        # net sales, not gross: Z reports taken before gross left voids out carry them in it
        fields = ("count", "net_sales", "tips", "voids_count", "voids", "refunds_count", "refunds")
        before = {(ln.currency, ln.brand): [getattr(ln, f) for f in fields] for ln in z.brands}
        after = {(ln.currency, ln.brand): [getattr(ln, f) for f in fields] for ln in now.brands}
        if before != after:
            changed = sorted(
                {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
            )
            names = ", ".join(f"{brand} {cur}" for cur, brand in changed)
            problems.append(f"the payments of {day} no longer add up to Z {z.number} ({names})")
        problems.extend(self._check_anchor(z, doc.get("digest")))
        return problems

    def _check_anchor(self, z: DayReport, digest: str | None) -> list[str]:
        head, problems = z.audit_head or {}, []
        anchor_day = head.get("day")
        if head.get("seq") and anchor_day:
            found = self._audit_event(date.fromisoformat(anchor_day), head["seq"])
            if found is None or found.get("mac") != head.get("mac"):
                problems.append(
                    f"the audit log no longer holds the chain head Z {z.number} recorded "
                    f"(seq {head['seq']}): events were cut or replaced"
                )
        if z.closed_at is not None:
            closed_on = z.closed_at.astimezone(self.tz).date()
            if not self._closing_signed(closed_on, head.get("seq") or 0, digest):
                problems.append(
                    f"the audit log has no signed record of Z {z.number} with this digest"
                )
        return problems

    def _closing_signed(self, day: date, anchor: int, digest: str | None) -> bool:
        """Whether a `day.closed` event after the anchor `seq` signs this digest (other
        events, e.g. a late reversal, may come between the anchor and the closing)."""
        if day not in self._store.days():
            return False
        return any(
            e["seq"] > anchor
            and e.get("action") == "day.closed"
            and e.get("details", {}).get("digest") == digest
            and e.get("details", {}).get("anchor_seq") == anchor
            for e in self._store.day(day).table("audit")
        )

    def _audit_event(self, day: date, seq: int) -> Record | None:
        """The audit event `seq` among those filed under `day` (None if it is not)."""
        if day not in self._store.days():
            return None
        return next((dict(e) for e in self._store.day(day).table("audit") if e["seq"] == seq), None)

    # -- reconciliation ------------------------------------------------------------------
    def expected_clearing(self, day: date) -> list[Entry]:
        """What the acquirer should have cleared for the day: each capture made on it and
        each refund made on it."""
        closed_at = self.closed_at()
        entries = [
            Entry(
                kind="capture",
                ref=r["id"],
                payment_id=r["id"],
                amount=r["amount_captured"],
                currency=r["currency"],
                brand=r["card"]["brand"],
                rrn=r.get("rrn"),
            )
            for r in self.candidates(day)
            if r["status"] == "succeeded" and moved_on(r, self.tz, closed_at) == day
        ]
        for refund in self.refunds(day):
            entries.append(
                Entry(
                    kind="refund",
                    ref=refund["id"],
                    payment_id=refund["payment_id"],
                    amount=refund["amount"],
                    currency=refund["currency"],
                    brand=refund.get("brand"),
                    rrn=refund.get("rrn"),
                )
            )
        return entries

    async def reconcile(self, day: date, bank: BankClient) -> Reconciliation:
        """The day against the acquirer's clearing file (fetched over the bank client)."""
        day = self.check_day(day)
        return match(day, self.expected_clearing(day), self.cleared(await bank.clearing(day)))

    def cleared(self, rows: Iterable[Record]) -> list[Entry]:
        """This merchant's lines of the acquirer's clearing file (it clears every
        merchant's captures and refunds in one file per day)."""
        return [clearing_entry(r) for r in rows if r["merchant_id"] == self.merchant_id]

    # -- export --------------------------------------------------------------------------
    def transactions(self, day: date) -> list[Record]:
        """The day's rows, oldest first: every payment taken on it, payments of earlier
        days captured or voided on it, and its refunds. Money rows (sale, void, refund)
        carry fee, GST and net; the rest are attempts with no money (net None)."""
        schedule, rows, closed_at = self._settings.fees, [], self.closed_at()
        for r in self.candidates(day):
            rows.append(self._payment_row(day, r, schedule, closed_at))
        for refund in self.refunds(day):
            rows.append(
                {
                    "time": _at(refund["created_at"], self.tz),
                    "type": "refund",
                    "payment_id": refund["payment_id"],
                    "refund_id": refund["id"],
                    "status": "refunded",
                    "brand": refund["brand"],
                    "funding": None,
                    "card": None,
                    "terminal_id": None,
                    "operator": refund.get("operator"),
                    "currency": refund["currency"],
                    "amount": refund["amount"],
                    "tip": 0,
                    "fee_rate_bps": None,
                    "fee": 0,
                    "gst": 0,
                    "net": -refund["amount"],
                    "response_code": None,
                    "reason": f"approved by {refund.get('approver') or 'no one'}",
                    "auth_code": None,
                    "rrn": refund.get("rrn"),
                }
            )
        rows.sort(key=lambda row: (row["time"], row["payment_id"], row["refund_id"] or ""))
        return rows

    def _payment_row(
        self, day: date, r: Record, schedule: FeeSchedule, closed_at: ClosedAt
    ) -> Record:
        status, moved = r["status"], None
        if status == "succeeded" or is_void(r):
            moved = moved_on(r, self.tz, closed_at)
        row_type = {"succeeded": "sale", "declined": "decline"}.get(status, status)
        if is_void(r):
            row_type = "void"
        elif status == "canceled":
            row_type = "canceled"
        elif status in OPEN_STATUSES:
            row_type = "open"
        fee = gst = net = rate = None
        amount, tip = r["amount"], r.get("tip", 0)
        if moved is not None and moved != day:
            row_type = f"{row_type} (on {moved})"  # taken today, money moved on another day
        elif status == "succeeded":
            amount = r["amount_captured"]
            tip = min(tip, amount)
            rate = schedule.rate(r["card"]["brand"], r.get("funding"))
            fee = fee_of(amount, rate)
            gst = fee_of(fee, schedule.gst_bps)
            net = amount - fee - gst
        elif row_type == "void":
            fee = gst = net = 0
        when = r["updated_at"] if moved == day else r["created_at"]
        return {
            "time": _at(when, self.tz),
            "type": row_type,
            "payment_id": r["id"],
            "refund_id": None,
            "status": status,
            "brand": r["card"]["brand"],
            "funding": r.get("funding"),
            "card": r["card"].get("masked"),
            "terminal_id": r.get("terminal_id"),
            "operator": r.get("operator"),
            "currency": r["currency"],
            "amount": amount,
            "tip": tip,
            "fee_rate_bps": rate,
            "fee": fee,
            "gst": gst,
            "net": net,
            "response_code": r.get("response_code"),
            "reason": r.get("message") or "",
            "auth_code": r.get("auth_code"),
            "rrn": r.get("rrn"),
        }

    def export(self, day: date, fmt: Literal["csv", "json"]) -> str:
        """The day as CSV (one row per transaction, amounts as decimals) or JSON (the
        report and the rows, amounts in minor units). Refuses a day with nothing on it."""
        day = self.check_day(day)
        rows = self.transactions(day)
        if not rows:
            raise InputError(f"no payments or refunds on {day}: nothing to export")
        if fmt == "json":
            report = self.closing(day) or self._report(
                day, list(self.candidates(day)), self.refunds(day)
            )
            doc = {
                "day": day.isoformat(),
                "report": report.model_dump(mode="json"),
                "transactions": rows,
            }
            return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n"
        return to_csv(rows)


EXPORT_COLUMNS = (
    "time",
    "type",
    "payment_id",
    "refund_id",
    "status",
    "brand",
    "funding",
    "card",
    "terminal_id",
    "operator",
    "currency",
    "amount",
    "tip",
    "fee_rate_bps",
    "fee",
    "gst",
    "net",
    "response_code",
    "reason",
    "auth_code",
    "rrn",
)
_MONEY_COLUMNS = ("amount", "tip", "fee", "gst", "net")
_TEXT_COLUMNS = ("operator", "terminal_id", "reason")


def to_csv(rows: list[Record]) -> str:
    """Rows as CSV: money as plain decimals of the currency ("1250.50"), empty for
    none; text a spreadsheet could take for a formula is prefixed with '."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    exponents: dict[str, int] = {}
    for row in rows:
        cells = []
        currency = row["currency"]
        if currency not in exponents:
            exponents[currency] = currency_exponent(currency)
        for column in EXPORT_COLUMNS:
            value = row[column]
            if value is None:
                cells.append("")
            elif column in _MONEY_COLUMNS:
                cells.append(plain_amount(value, exponents[currency]))
            elif column in _TEXT_COLUMNS and str(value)[:1] in ("=", "+", "-", "@"):
                cells.append("'" + str(value))
            else:
                cells.append(str(value))
        writer.writerow(cells)
    return out.getvalue()


def plain_amount(minor: int, exponent: int) -> str:
    """`format_plain` without building Money: "1250.50", "-12.50", "1250" (exponent 0)."""
    if exponent == 0:
        return str(minor)
    whole, frac = divmod(abs(minor), 10**exponent)
    return f"{'-' if minor < 0 else ''}{whole}.{frac:0{exponent}d}"


def _at(iso: str, tz: tzinfo | None) -> str:
    return datetime.fromisoformat(iso).astimezone(tz).isoformat(timespec="seconds")
