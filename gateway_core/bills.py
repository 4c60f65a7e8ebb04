"""Split bills: one bill paid by several tenders, over the gateway (`ports.BillsAPI`).

A bill (`bill_models.Bill`) is stored on its own; each part is an ordinary
`Gateway.charge` carrying the bill's id, of at most the balance still due (parts still
waiting: pending, an OTP, an unknown answer, count as taken until they end). How a part
stands is read from its payment: a declined one stays listed, and the balance is due
again. The bill is `paid` exactly when its succeeded parts add up to it.

Cancel: `canceling` is stored first (with the manager who approved giving back what was
taken), then each part is unwound (a pending one canceled, an authorization voided, a
capture refunded), then `canceled`. `repair()` finishes a canceling bill (under the
approval it stored), marks paid an open bill whose parts add up, and adopts a part whose
payment was stored but not listed (the process stopped in between): every start runs it
(the CLI's commands, the terminal, `paygate serve`) before anything else.

Audit: bill.opened, bill.part (a part added, or its payment moved), bill.paid,
bill.canceling, bill.canceled.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from gateway_core.access import Access, NotPermitted
from gateway_core.audit import AuditLog, mask_card_numbers
from gateway_core.bill_models import Bill, BillError, BillPart
from gateway_core.errors import InputError, PaygateError
from gateway_core.money import Money
from gateway_core.payments import (
    OPEN_STATUSES,
    ChargeRequest,
    IdempotencyConflict,
    Payment,
    UnknownPayment,
)
from gateway_core.ports import Approval, BillRepository, GatewayAPI, PaymentRepository, Records
from gateway_core.presentation import brand_name, format_money, method_name
from gateway_core.settings import Settings
from gateway_core.upi_link import mask_vpa

NOTHING_KEPT = frozenset({"declined", "canceled", "expired"})  # a part that took nothing


class UnknownBill(BillError):
    """No bill with that id (or another merchant's)."""


class BillNotOpen(BillError):
    """The bill is paid, canceling or canceled: it takes no more parts."""


class Preapproved(Approval):
    """A manager's approval checked once for a whole bill's cancel: the gateway takes it
    for each refund and void of that bill without the PIN again (a repair finishes a
    cancel under it). Only `Bills` makes one, never from a request."""

    __slots__ = ()


class BillsHost(Protocol):
    """What the gateway lends its bills: its audit log, business day and clock."""

    @property
    def audit(self) -> AuditLog: ...

    def today(self, merchant_id: str) -> date: ...
    def now(self) -> datetime: ...


def part_label(payment: Payment) -> str:
    """What a receipt shows of a tender: "Visa •••• 4242", "UPI ra****@okaxis", "Cash"."""
    if payment.card is not None:
        return f"{brand_name(payment.card.brand)} •••• {payment.card.last4}"
    if payment.upi is not None:
        payer = payment.upi.payer_vpa
        return f"UPI {mask_vpa(payer)}" if payer else "UPI QR"
    if payment.netbanking is not None:
        return f"Net banking {payment.netbanking.bank_name}"
    return method_name(payment.method)


def _part(payment: Payment) -> BillPart:
    return BillPart(
        payment_id=payment.id,
        method=payment.method,
        amount=payment.amount,
        status=payment.status,
        label=part_label(payment),
        change=payment.cash.change if payment.cash is not None else 0,
        refunded=payment.amount_refunded,
    )


def holds_money(part: BillPart) -> bool:
    """A part not yet given back: still waiting, or taken and not all refunded."""
    return part.status not in NOTHING_KEPT and not (
        part.status == "succeeded" and part.refunded >= part.amount
    )


def bill_day(bill_id: str) -> date:
    """The business day in a bill's id (bill_YYYYMMDD_x); `UnknownBill` for another id."""
    parts = bill_id.split("_")
    try:
        if len(parts) != 3 or parts[0] != "bill" or len(parts[1]) != 8:
            raise ValueError
        return date(int(parts[1][:4]), int(parts[1][4:6]), int(parts[1][6:]))
    except ValueError:
        raise UnknownBill(f"no bill {bill_id}") from None


def taken(bill: Bill) -> int:
    """What the parts took or may still take: succeeded (less refunds) and waiting."""
    waiting = sum(p.amount for p in bill.parts if p.status in OPEN_STATUSES)
    return bill.paid + waiting


class Bills:
    """The bills of a gateway (`Gateway.bills`): `BillsAPI`, plus `repair`."""

    def __init__(
        self,
        gateway: GatewayAPI,
        host: BillsHost,
        records: Records,
        settings: Settings,
        access: Access | None,
        new_id: Callable[[str], str],
    ) -> None:
        self._gateway = gateway
        self._host = host
        self._settings = settings
        self._access = access
        self._new_id = new_id
        self._records = records
        self._repo: BillRepository = records.bills
        self._payments: PaymentRepository = records.payments  # strays' scan
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    # -- storing -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _step(self, bill: Bill) -> Iterator[None]:
        """One durable write: the bill, its index and its audit events, or none."""
        try:
            with self._records.unit(bill_day(bill.id), self._host.today(bill.merchant_id)):
                yield
        except BaseException:
            self._host.audit.resync()
            raise

    def _record(self, actor: str, action: str, bill: Bill, **details: Any) -> None:
        self._host.audit.record(actor, action, bill.id, **details)

    def _load(self, bill_id: str) -> Bill:
        record = self._repo.get(bill_day(bill_id), bill_id)
        if record is None:
            raise UnknownBill(f"no bill {bill_id}")
        return Bill.model_validate(record)

    def _save(self, before: Bill, bill: Bill, actor: str) -> Bill:
        """Store `bill` if it differs from `before`, auditing each part added or moved,
        and marking it paid once its parts add up (all in one durable step)."""
        if bill.status == "open" and bill.paid == bill.amount:
            bill = bill.model_copy(update={"status": "paid"})
        if bill == before:
            return bill
        bill = bill.model_copy(update={"updated_at": self._host.now()})
        was = {p.payment_id: p.status for p in before.parts}
        with self._step(bill):
            self._repo.save(bill_day(bill.id), bill.model_dump(mode="json"))
            for part in bill.parts:
                if was.get(part.payment_id) != part.status:
                    self._record(
                        actor,
                        "bill.part",
                        bill,
                        payment=part.payment_id,
                        method=part.method,
                        amount=part.amount,
                        status=part.status,
                    )
            if bill.status != before.status and bill.status in ("paid", "canceled"):
                self._record(actor, f"bill.{bill.status}", bill, amount=bill.amount)
        return bill

    def _settled(self, bill_id: str, actor: str, *found: Payment) -> Bill:
        """The stored bill with its parts as their payments stand (and `found` added),
        stored when that changed it (no await: nothing else writes in between)."""
        bill = self._load(bill_id)
        parts = [_part(self._gateway.get(p.payment_id)) for p in bill.parts]
        listed = {p.payment_id for p in parts}
        parts += [_part(self._gateway.get(p.id)) for p in found if p.id not in listed]
        return self._save(bill, bill.model_copy(update={"parts": parts}), actor)

    def _strays(self, *bills: Bill) -> dict[str, list[Payment]]:
        """Payments made for these bills but not listed on them (the process stopped
        between the two), by bill: one pass over the payment records of the days from the
        oldest bill's to today (a payment is built only for a record that names one)."""
        found: dict[str, list[Payment]] = {b.id: [] for b in bills}
        listed = {p.payment_id for b in bills for p in b.parts}
        day = min((bill_day(b.id) for b in bills), default=date.max)
        today = max((self._host.today(b.merchant_id) for b in bills), default=date.min)
        days = set(self._records.days())
        while day <= today:
            if day in days:
                for record in self._payments.each(day):
                    if record.get("bill_id") in found and record["id"] not in listed:
                        found[record["bill_id"]].append(self._gateway.get(record["id"]))
            day += timedelta(days=1)
        return found

    # -- BillsAPI ------------------------------------------------------------------------
    async def open_bill(
        self,
        *,
        amount: int,
        currency: str,
        operator: str,
        terminal_id: str | None = None,
        idempotency_key: str | None = None,
        merchant_id: str | None = None,
    ) -> Bill:
        """Start a bill with its total due; the same `idempotency_key` again answers the
        bill it opened (`IdempotencyConflict` for another amount or currency)."""
        money = Money(amount, currency)
        if money.minor <= 0:
            raise InputError("the amount must be more than zero")
        if money.minor > (limit := self._settings.max_minor(money.currency)):
            maximum = format_money(Money(limit, money.currency))
            raise InputError(f"the amount is above the terminal's maximum of {maximum}")
        if terminal_id is not None and not 1 <= len(terminal_id) <= 8:
            raise InputError("a terminal id has 1 to 8 characters")
        if idempotency_key is not None and (known := self._repo.by_key(idempotency_key)):
            bill = self.get_bill(known)
            if (bill.amount, bill.currency) != (money.minor, money.currency):
                raise IdempotencyConflict(
                    f"this idempotency key opened bill {bill.id} of "
                    f"{format_money(Money(bill.amount, bill.currency))}"
                    " (another amount or currency)"
                )
            return bill
        merchant_id = merchant_id or self._settings.merchant_id
        now, day = self._host.now(), self._host.today(merchant_id)
        bill = Bill(
            id=self._new_id(f"bill_{day:%Y%m%d}"),
            merchant_id=merchant_id,
            terminal_id=terminal_id or self._settings.terminal_id,
            operator=operator,
            amount=money.minor,
            currency=money.currency,
            status="open",
            created_at=now,
            updated_at=now,
            idempotency_key=mask_card_numbers(idempotency_key) if idempotency_key else None,
        )
        with self._step(bill):
            self._repo.save(day, bill.model_dump(mode="json"))
            if idempotency_key is not None:
                self._repo.add_key(idempotency_key, bill.id)
            self._record(operator, "bill.opened", bill, amount=bill.amount, currency=bill.currency)
        return bill

    async def pay_bill(self, bill_id: str, /, req: ChargeRequest) -> Bill:
        """Pay part of the balance with one tender: `Gateway.charge` with the bill's id
        (a declined part stays listed; the balance is due again)."""
        async with self._locks[bill_id]:
            bill = self._settled(bill_id, req.operator)
            if req.merchant_id not in (None, bill.merchant_id):
                raise UnknownBill(f"no bill {bill_id}")
            key = req.idempotency_key
            if key is not None and any(
                self._gateway.get(p.payment_id).idempotency_key == mask_card_numbers(key)
                for p in bill.parts
            ):
                return bill  # this part was paid already: a retry
            self._check_part(bill, req)
            part = req.model_copy(
                update={
                    "bill_id": bill.id,
                    "currency": bill.currency,
                    "merchant_id": bill.merchant_id,
                    "terminal_id": req.terminal_id or bill.terminal_id,
                }
            )
            payment = await self._gateway.charge(part)
            if payment.bill_id != bill.id:  # the key's earlier payment: not of this bill
                raise IdempotencyConflict(
                    f"this idempotency key paid {payment.id}, not a part of bill {bill.id}"
                )
            return self._settled(bill_id, req.operator, payment)

    def _check_part(self, bill: Bill, req: ChargeRequest) -> None:
        """A part that fits the bill, or `BillError` (one line) before anything is stored."""
        if bill.status != "open":
            raise BillNotOpen(f"bill {bill.id} is {bill.status}: it takes no more payments")
        if Money(req.amount, req.currency).currency != bill.currency:
            raise BillError(f"bill {bill.id} is in {bill.currency}, not {req.currency.upper()}")
        if req.method == "link":
            raise BillError("a part of a bill is paid at the counter, not by a payment link")
        if req.capture != "automatic" or req.tip:
            raise BillError("a part of a bill is a sale: no tip, captured at once")
        if req.bill_id not in (None, bill.id):
            raise BillError(f"this payment is for bill {req.bill_id}, not {bill.id}")
        left = bill.amount - taken(bill)
        if req.amount > left:
            shown = format_money(Money(max(left, 0), bill.currency))
            waiting = taken(bill) - bill.paid
            note = f" ({format_money(Money(waiting, bill.currency))} waiting)" if waiting else ""
            raise BillError(
                f"{format_money(Money(req.amount, bill.currency))} is more than the "
                f"{shown} still due on bill {bill.id}{note}"
            )

    async def cancel_bill(
        self, bill_id: str, /, *, operator: str, approval: Approval | None = None
    ) -> Bill:
        """Give up the bill: `canceling` stored, then each part unwound, then `canceled`
        (left `canceling` while a part's outcome is unknown: repair finishes it)."""
        async with self._locks[bill_id]:
            bill = self._load(bill_id)
            bill = self._settled(bill_id, operator, *self._strays(bill)[bill_id])
            if bill.status == "canceled":
                return bill
            if bill.status == "paid":
                raise BillNotOpen(f"bill {bill.id} is paid: refund its payments instead")
            approver = bill.approved_by or self._approve(bill, operator, approval)
            if bill.status == "open" or approver != bill.approved_by:
                bill = bill.model_copy(
                    update={"status": "canceling", "canceled_by": operator, "approved_by": approver}
                )
                with self._step(bill):
                    self._repo.save(bill_day(bill.id), bill.model_dump(mode="json"))
                    self._record(
                        approver or operator,
                        "bill.canceling",
                        bill,
                        approver=approver,
                        requested_by=operator,
                        taken=bill.paid,
                    )
            return await self._unwind(bill, operator)

    def _approve(self, bill: Bill, operator: str, approval: Approval | None) -> str | None:
        """The manager who approves giving back what the bill's parts took (None when
        nothing needs it, or no access control)."""
        needs = any(p.status != "pending" and holds_money(p) for p in bill.parts)
        if self._access is None or not needs:
            return None
        if approval is None:
            raise NotPermitted(
                f"canceling bill {bill.id} gives back what was taken: a manager must approve "
                "(ID and PIN)"
            )
        access = self._access.of(bill.merchant_id)
        return access.approve(
            approval.user_id, approval.pin, action="bill cancel", subject=bill.id, operator=operator
        ).id

    async def _unwind(self, bill: Bill, operator: str) -> Bill:
        """Give back each part of a canceling bill; `canceled` once none holds money."""
        approval = Preapproved(bill.approved_by, "") if bill.approved_by else None
        gw = self._gateway
        for part in bill.parts:
            payment = gw.get(part.payment_id)
            if payment.status == "unknown":
                payment = await gw.refresh(payment.id)
            if payment.status == "pending":
                await gw.cancel(payment.id, operator=operator)
            elif payment.status in ("requires_capture", "requires_action"):
                await gw.void(payment.id, operator=operator, approval=approval)
            elif payment.status == "succeeded" and payment.refundable > 0:
                await gw.refund(payment.id, operator=operator, approval=approval)
        bill = self._settled(bill.id, operator)
        if bill.status == "canceling" and not any(holds_money(p) for p in bill.parts):
            before, bill = bill, bill.model_copy(update={"status": "canceled"})
            bill = self._save(before, bill, operator)
        return bill

    def get_bill(self, bill_id: str, /) -> Bill:
        """A bill with its parts as their payments stand now (a part that ended since is
        stored so, and the bill marked paid when its parts add up)."""
        return self._settled(bill_id, "system")

    def bills(self, day: date | None = None) -> list[Bill]:
        """The bills opened on a business day (today by default), oldest first."""
        day = day or self._host.today(self._settings.merchant_id)
        return [self._settled(r["id"], "system") for r in self._repo.for_day(day)]

    # -- repair --------------------------------------------------------------------------
    async def repair(self) -> list[str]:
        """Finish what a stop left: parts not listed adopted, open bills whose parts add
        up marked paid, canceling bills unwound. One line per bill touched."""
        bills = [self._load(bill_id) for bill_id in self._repo.open_ids()]
        strays = self._strays(*bills)
        notes = []
        for bill in bills:
            async with self._locks[bill.id]:
                try:
                    notes += await self._repair_one(bill.id, strays[bill.id])
                except (UnknownPayment, UnknownBill) as exc:
                    notes.append(f"{bill.id}: left as it is: {exc}")
        return notes

    async def _repair_one(self, bill_id: str, strays: list[Payment]) -> list[str]:
        before = self._load(bill_id)  # as it is now: a part may have been listed meanwhile
        listed = {p.payment_id for p in before.parts}
        strays = [p for p in strays if p.id not in listed]
        bill = self._settled(bill_id, "repair", *strays)
        notes = [f"{bill_id}: part {p.id} listed (stored before a stop)" for p in strays]
        if bill.status == "canceling":
            try:
                bill = await self._unwind(bill, "repair")
            except PaygateError as exc:  # a bank away, a drawer short: a person must look
                return [*notes, f"{bill_id}: left canceling: {exc}"]
        if bill.status != before.status:
            notes.append(f"{bill_id}: {bill.status}")
        return notes
