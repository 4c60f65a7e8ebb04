"""The settlement service of one merchant: X reports, closing the day (Z), the payout,
reconciliation against the acquirer's clearing file (and the UPI switch's settlement
file) and export."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Literal

import orjson

from gateway_core.audit import AuditLog
from gateway_core.clock import Clock, ClosedAt, SystemClock, business_day, business_day_at
from gateway_core.errors import InputError
from gateway_core.payments import OPEN_STATUSES, payment_day
from gateway_core.ports import Records
from gateway_core.settings import Settings
from gateway_core.settlement.days import LOOKBACK_DAYS, DayOf, moved_on
from gateway_core.settlement.expected import (
    banks_of,
    cash_expected,
    netbanking_expected,
    processors_expected,
)
from gateway_core.settlement.export import to_csv, transaction_rows
from gateway_core.settlement.models import (
    CARD,
    CASH,
    NETBANKING,
    UPI,
    DayNotReady,
    DayReport,
    Line,
    Payout,
    Record,
    method_of,
)
from gateway_core.settlement.reconciliation import (
    Entry,
    Reconciliation,
    clearing_entry,
    drawer_entries,
    match,
    netbanking_entries,
    switch_entries,
)
from gateway_core.settlement.running import Parts, Tallies, day_tallies, fee_basis, report_parts
from gateway_core.settlement.tally import method_totals, tally

if TYPE_CHECKING:
    from gateway_core.bank_client import BankClient
    from gateway_core.ports import UpiPsp
    from gateway_core.ports.netbanking import NetbankingBanks
    from gateway_core.shift_models import ShiftReport


def payout_reference(
    merchant_id: str,
    day: date,
    currency: str | None = None,
    method: str = CARD,
    bank: str | None = None,
) -> str:
    """A deterministic payout reference from the merchant and the day (a currency other
    than the merchant's own gets its code appended, a method other than card its name,
    a net banking payout its bank's code): PGS + date + 8 hex digits."""
    digest = hashlib.sha256(f"paygate-payout|{merchant_id}|{day.isoformat()}".encode())
    ref = f"PGS{day:%Y%m%d}{digest.hexdigest()[:8].upper()}"
    if currency:
        ref += f"-{currency}"
    if method != CARD:
        ref += f"-{method.upper()}"
    return f"{ref}-{bank}" if bank else ref


def digest_of(document: Record) -> str:
    """sha256 of a report's canonical JSON, without its `digest` field."""
    body = {k: v for k, v in document.items() if k != "digest"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


class Settlement:
    """One merchant's reports, closing, reconciliation and export over a data dir's store
    (the settings' merchant by default): only its payments, their refunds, its own Z
    reports and numbers, and its lines of the acquirer's clearing file.

    X reports, reconciliation and export only read (a read-only store is enough);
    closing a day needs a writer store and the audit log.
    """

    def __init__(
        self,
        records: Records,
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
        self._records = records
        self._settings = settings
        self._audit = audit
        self._clock: Clock = clock or SystemClock()
        self._payments, self._refunds = records.payments, records.refunds
        self._closings = records.closings(self.merchant_id)
        self._events = records.audit
        self._tallies = records.tallies

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
        if day not in self._records.days():
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
        closed_at = self.closed_at()
        for earlier in self._earlier(day):
            for r in self._day_records(earlier):
                if (
                    r["status"] in ("succeeded", "canceled")
                    and moved_on(r, self.tz, closed_at) == day
                ):
                    yield r

    def _earlier(self, day: date) -> Iterator[date]:
        """The days before `day` (up to LOOKBACK_DAYS) whose payments' money may have moved
        on it. Days closed before it began are skipped: nothing of theirs can have moved
        since."""
        began = self._start_of(day)
        for earlier in self._records.days():
            if not day - timedelta(days=LOOKBACK_DAYS) <= earlier < day:
                continue
            closing = self._closings.get(earlier)
            if closing and datetime.fromisoformat(closing["closed_at"]) < began:
                continue
            yield earlier

    def refunds(self, day: date) -> list[Record]:
        """The refunds made on the day (whatever day their payments were taken), each
        with its payment's `method` and `processor` (a real processor's: None else)."""
        out = []
        for refund in self._refunds.for_day(day):
            payment = self._payment(refund["payment_id"])
            if payment is None or payment["merchant_id"] != self.merchant_id:
                continue
            method = refund.get("method") or method_of(payment)
            out.append({**refund, "method": method, "processor": payment.get("processor")})
        return out

    def _payment(self, payment_id: str) -> Record | None:
        day = payment_day(payment_id)
        return self._payments.get(day, payment_id) if day else None

    def closing(self, day: date) -> DayReport | None:
        """The day's Z report, if it was closed."""
        doc = self._closings.get(day)
        return None if doc is None else DayReport.model_validate(doc)

    def closings(self) -> list[DayReport]:
        """Every Z report, in number order."""
        return [DayReport.model_validate(doc) for doc in self._closings.all()]

    def x_report(self, day: date | None = None) -> DayReport:
        """A snapshot of the day so far (today by default). Changes nothing."""
        return self.report(self.check_day(day or self.today()))

    def report(self, day: date, totals: Tallies | None = None) -> DayReport:
        """The X report of `day`, from its running totals (`running`; `totals`: the day's,
        read already): the records are added up only when a Z report was taken within a
        minute that money moved in."""
        parts = self._tallied(day, self.totals(day) if totals is None else totals)
        if parts is None:
            return self.report_of(day, self.candidates(day), self.refunds(day))
        return self._closed_as(day, self._assemble(day, parts))

    def totals(self, day: date) -> Tallies:
        """The merchant's running totals of the day, rebuilt from the day's records (and
        kept, by a writer) when they are missing or stale: written around, or under
        another fee schedule."""
        fees = self._settings.fees

        def rebuild() -> Tallies:
            return day_tallies(
                self._payments.each(day), self._refunds.for_day(day), self._payment, fees
            )

        return self._tallies.kept(day, self.merchant_id, fee_basis(fees), rebuild)

    def _tallied(self, day: date, own: Tallies) -> Parts | None:
        earlier = [self.totals(e) for e in self._earlier(day)]
        moved = DayOf(self.tz, self.closed_at())
        return report_parts(day, own, earlier, self._settings.fees, moved)

    def report_of(self, day: date, payments: Iterable[Record], refunds: list[Record]) -> DayReport:
        """The X report of `day` from its records read already (`candidates`, `refunds`):
        one read of a large day serves the report and the merchant console's dashboard."""
        return self._closed_as(day, self._report(day, payments, refunds))

    def _closed_as(self, day: date, report: DayReport) -> DayReport:
        closing = self._closings.get(day)
        return report.model_copy(update={"closed_as": closing["number"] if closing else None})

    def _report(self, day: date, payments: Iterable[Record], refunds: list[Record]) -> DayReport:
        s = self._settings
        return self._assemble(day, tally(day, payments, refunds, s.fees, self.tz, self.closed_at()))

    def _assemble(self, day: date, parts: Parts) -> DayReport:
        s = self._settings
        brands, totals, fees, activity = parts
        methods = method_totals(brands)
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
            payouts=self._payouts(day, methods, brands),
            methods=methods,
        )

    def _payouts(self, day: date, methods: list[Line], brands: list[Line]) -> list[Payout]:
        """A payout per currency and method, per bank for net banking, none for cash."""
        out = []
        for subtotal in methods:
            if subtotal.method == NETBANKING:
                key = (subtotal.currency, NETBANKING)
                out += [self._payout(day, ln) for ln in brands if (ln.currency, ln.method) == key]
            elif subtotal.method != CASH:
                out.append(self._payout(day, subtotal))
        return out

    def _payout(self, day: date, line: Line) -> Payout:
        """What is paid for a method's payments (a bank's, for net banking) in a currency,
        when, and its reference."""
        s = self._settings
        foreign = None if line.currency == s.currency else line.currency
        bank = line.brand if line.method == NETBANKING else None
        return Payout(
            currency=line.currency,
            amount=line.payout,
            date=s.fees.payout_date(day),
            reference=payout_reference(s.merchant_id, day, foreign, line.method, bank),
            method=line.method,
            bank=bank,
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
        # a pending payment link too: after the Z its day could no longer change (expire)
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

    def close_day(
        self,
        day: date,
        *,
        closed_by: str = "cli",
        open_shifts: Callable[[date], list[str]] | None = None,
    ) -> tuple[DayReport, bool]:
        """Take the Z report: returns it and whether the day was closed already (then it
        is the stored report, unchanged). Refuses a day with payments still open or with
        nothing on it, or while `open_shifts(day)` names cashiers' shifts still open
        (`DayNotReady`); the day stays open then."""
        day = self.check_day(day)
        stored = self.closing(day)
        if stored is not None:
            return stored, True
        if open_shifts is not None and (still := open_shifts(day)):
            raise DayNotReady(f"close the open shifts first: {', '.join(still)}")
        if self._audit is None:
            raise RuntimeError("closing a day needs the audit log")
        now = self._clock.now()
        head = self._audit.head()
        report = self.z_preview(day).model_copy(
            update={
                "generated_at": now,
                "closed_at": now,
                "closed_by": closed_by,
                "audit_head": head,
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
            payout=_payout_summary(report),
            anchor_seq=head["seq"],
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
        before, after = _figures(z.brands), _figures(now.brands)
        if before != after:
            changed = sorted(
                {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
            )
            names = ", ".join(f"{brand} {cur}" for cur, _method, brand in changed)
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
        return any(
            e["seq"] > anchor
            and e.get("action") == "day.closed"
            and e.get("details", {}).get("digest") == digest
            and e.get("details", {}).get("anchor_seq") == anchor
            for e in self._events.on(day)
        )

    def _audit_event(self, day: date, seq: int) -> Record | None:
        """The audit event `seq` among those filed under `day` (None if it is not)."""
        return next((e for e in self._events.on(day) if e["seq"] == seq), None)

    # -- reconciliation ------------------------------------------------------------------
    def expected_clearing(self, day: date) -> list[Entry]:
        """What the acquirer should have cleared for the day: each card capture made on
        it and each card refund made on it (other methods are not the card acquirer's)."""
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
            if r["status"] == "succeeded"
            and method_of(r) == CARD
            and not r.get("processor")  # a real processor's: not in the acquirer's file
            and moved_on(r, self.tz, closed_at) == day
        ]
        for refund in self.refunds(day):
            if method_of(refund) != CARD or refund["processor"]:
                continue
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

    def expected_switch(self, day: date) -> list[Entry]:
        """What the UPI switch should have settled for the day: each UPI payment paid on
        it and each UPI refund made on it; for the payments taken on it that did not
        succeed, a late credit with its automatic refund, and a debit reversed after the
        gateway gave up."""
        closed_at, entries = self.closed_at(), []
        for r in self.candidates(day):
            if method_of(r) != UPI or r.get("processor"):
                continue
            late = (r.get("upi") or {}).get("late_refund")
            if r["status"] == "succeeded":
                if moved_on(r, self.tz, closed_at) == day:
                    entries.append(_switch_entry("capture", r["id"], r, r["amount_captured"]))
                continue
            if payment_day(r["id"]) != day:
                continue
            if late:
                entries.append(_switch_entry("capture", r["id"], r, r["amount"]))
                entries.append(_switch_entry("refund", late, r, r["amount"], rrn=None))
            if r.get("reversal"):
                entries.append(_switch_entry("reversal", r["id"], r, r["amount"]))
        for refund in self.refunds(day):
            if method_of(refund) == UPI and not refund["processor"]:
                entry = _switch_entry("refund", refund["id"], refund, refund["amount"])
                entries.append(entry.model_copy(update={"payment_id": refund["payment_id"]}))
        return entries

    async def reconcile(
        self,
        day: date,
        bank: BankClient,
        upi: UpiPsp | None = None,
        netbanking: NetbankingBanks | None = None,
        shifts: Iterable[ShiftReport] | None = None,
    ) -> Reconciliation:
        """The day against each tender's other side: the acquirer's clearing file (cards,
        fetched over the bank client); with `upi` the switch's settlement file; with
        `netbanking` each bank's settlement file; with `shifts` (the day's shift reports)
        the drawers: cash sales and refunds against their moves, and each count."""
        day = self.check_day(day)
        expected = self.expected_clearing(day)
        theirs = self.cleared(await bank.clearing(day))
        found: dict[str, Any] = {}
        if upi is not None:
            ours = self.expected_switch(day)
            lines = [ln for ln in await upi.settlement(day) if ln.merchant_id == self.merchant_id]
            expected, theirs = expected + ours, theirs + switch_entries(lines, ours)
            found["switch"] = True
        payments, refunds = list(self.candidates(day)), self.refunds(day)
        closed_at = self.closed_at()
        moved = DayOf(self.tz, closed_at)
        found["at_processors"] = processors_expected(day, payments, refunds, moved)
        payments = [r for r in payments if not r.get("processor")]
        refunds = [r for r in refunds if not r["processor"]]
        if netbanking is not None:
            ours = netbanking_expected(day, payments, refunds, moved)
            found["banks"] = banks_of(ours, self._settings.netbanking.banks)
            for code in found["banks"]:
                filed = await netbanking.settlement(code, day)
                theirs += netbanking_entries(
                    ln for ln in filed if ln.merchant_id == self.merchant_id
                )
            expected = expected + ours
        if shifts is not None:
            drawer, found["drawers"] = drawer_entries(
                shifts, lambda at: business_day_at(at, self.tz, closed_at) == day
            )
            expected = expected + cash_expected(day, payments, refunds, moved)
            theirs += drawer
        return match(day, expected, theirs).model_copy(update=found)

    def cleared(self, rows: Iterable[Record]) -> list[Entry]:
        """This merchant's lines of the acquirer's clearing file (it clears every
        merchant's captures and refunds in one file per day)."""
        return [clearing_entry(r) for r in rows if r["merchant_id"] == self.merchant_id]

    # -- export --------------------------------------------------------------------------
    def transactions(self, day: date) -> list[Record]:
        """The day's rows, oldest first (`export.transaction_rows`): every payment taken on
        it, payments of earlier days captured or voided on it, and its refunds."""
        return transaction_rows(
            day,
            self.candidates(day),
            self.refunds(day),
            self._settings.fees,
            self.tz,
            self.closed_at(),
        )

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


def _switch_entry(
    kind: Literal["capture", "refund", "reversal"],
    ref: str,
    record: Record,
    amount: int,
    **more: str | None,
) -> Entry:
    """A UPI payment's or refund's entry as the gateway expects the switch to have it."""
    fields = {"payment_id": record["id"], "currency": record["currency"], "rrn": record.get("rrn")}
    return Entry(kind=kind, ref=ref, amount=amount, brand=UPI, method=UPI, **{**fields, **more})


# net sales, not gross: Z reports taken before gross left voids out carry them in it
_CHECKED = ("count", "net_sales", "tips", "voids_count", "voids", "refunds_count", "refunds")


def _figures(lines: list[Line]) -> dict[tuple[str, str, str], list[int]]:
    """The figures a closed day's check compares, per (currency, method, brand) line."""
    return {(ln.currency, ln.method, ln.brand): [getattr(ln, f) for f in _CHECKED] for ln in lines}


def _payout_summary(report: DayReport) -> dict[str, int]:
    """The payouts of a Z for its audit event: per currency (card), per currency and
    method ("INR upi") for the other methods, and bank ("INR netbanking DEMOA")."""
    return {
        " ".join(
            [p.currency, *([] if p.method == CARD else [p.method]), *([p.bank] if p.bank else [])]
        ): p.amount
        for p in report.payouts
    }
