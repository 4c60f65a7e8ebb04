"""The gateway: a payment from a request to a stored result, and everything after it.

charge: validate → the method's tender checks its input → record (`unknown`, written)
→ the tender authorizes (a card: acquirer, OTP step-up, capture for a sale) → the result
is stored before it is returned; every step writes an audit event. Here is what every
method shares: amounts, idempotency, risk, approvals, the business day, states, the
durable store, one operation at a time per payment, repair. The tenders
(`gateway_core.tenders`, one per method) hold what differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Concatenate, Literal, ParamSpec

from gateway_core.access import Access, NotPermitted
from gateway_core.audit import AuditLog, mask_card_numbers
from gateway_core.bills import Bills, Preapproved
from gateway_core.clock import Clock, SystemClock, business_day
from gateway_core.errors import BankUnavailable, InputError
from gateway_core.idempotency import IdempotencyKeys
from gateway_core.money import Money
from gateway_core.observe.hooks import observed_charge, payment_saved, trace_id
from gateway_core.payment_records import load_payment, with_refunds
from gateway_core.payments import OPEN_STATUSES, Payment, RefundRecord, day_of, payment_day
from gateway_core.payments import ChargeRequest as ChargeRequest
from gateway_core.payments import DayClosed as DayClosed
from gateway_core.payments import IdempotencyConflict as IdempotencyConflict
from gateway_core.payments import NotAllowed as NotAllowed
from gateway_core.payments import UnknownPayment as UnknownPayment
from gateway_core.payments import WrongOtp as WrongOtp
from gateway_core.ports import (
    Approval,
    NetbankingBanks,
    Opened,
    Polled,
    Records,
    Returning,
    Tender,
    UpiPsp,
)
from gateway_core.presentation import format_money
from gateway_core.risk import CountryOf, RiskEngine, unknown_country
from gateway_core.risk_models import Assessment
from gateway_core.risk_models import Context as RiskContext
from gateway_core.settings import Settings
from gateway_core.shifts import Shifts
from gateway_core.states import IllegalTransition
from gateway_core.tenders.defaults import default_tenders
from gateway_core.tenders.host import Host
from gateway_core.tenders.link import link_refusal
from gateway_core.tenders.upi import payer_fingerprint
from gateway_core.vault import Vault

if TYPE_CHECKING:  # httpx is 0.15 s of imports a terminal's first screen does without
    from gateway_core.bank_client import BankClient

OUTAGES = ("91", "96", "BT", "UT", "RB")  # the bank's silence: not the payer's decline
# A power loss before the sale's sync loses its intent too: nothing was acknowledged, and
# money the banks took for it shows in reconcile as missing at the gateway.
_SALE: contextvars.ContextVar[bool] = contextvars.ContextVar("paygate_sale", default=False)
P = ParamSpec("P")
Outcome = Literal["approved", "declined", "blocked"]  # what the risk rules learn


def _one_at_a_time(
    method: Callable[Concatenate[Gateway, str, P], Awaitable[Payment]],
) -> Callable[Concatenate[Gateway, str, P], Awaitable[Payment]]:
    """Run a payment's operations one after another (capture, void, refund, OTP)."""

    async def locked(
        self: Gateway, payment_id: str, /, *args: P.args, **kwargs: P.kwargs
    ) -> Payment:
        async with self._locks[payment_id]:
            return await method(self, payment_id, *args, **kwargs)

    return functools.update_wrapper(locked, method)


class Gateway:
    """Payments over a store, a vault, an audit log, a bank client and the tenders by
    method (default: `tenders.defaults`, on the clients `bank`, the acquirer, `upi`, the
    payee PSP, and `netbanking`, the banks; each asked for on every call)."""

    def __init__(
        self,
        records: Records,
        vault: Vault,
        audit: AuditLog,
        bank: BankClient,
        settings: Settings,
        *,
        clock: Clock | None = None,
        new_id: Callable[[str], str] | None = None,
        access: Access | None = None,
        country_of: CountryOf = unknown_country,
        tenders: Mapping[str, Tender] | None = None,
        upi: UpiPsp | None = None,
        netbanking: NetbankingBanks | None = None,
    ) -> None:
        self._records = records
        self._vault = vault
        self._audit = audit
        self.bank = bank
        self.upi, self.netbanking = upi, netbanking
        self._settings = settings
        self._clock = clock or SystemClock()
        self._new_id = new_id or (lambda prefix: f"{prefix}_{secrets.token_hex(5)}")
        self._access = access
        self.risk = RiskEngine(
            records.risk,
            settings.risk,
            self._clock,
            settings.tz,
            home=settings.merchant_id,
            country_of=country_of,
        )
        self._payments, self._refunds = records.payments, records.refunds
        self._keys = IdempotencyKeys(records.idempotency, vault, settings)
        self._open = records.open_payments
        self._in_flight: dict[str, asyncio.Future[None]] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.shifts = Shifts(
            records.shifts,
            settings,
            audit,
            self._clock,
            access,
            self._today,
            self.get,
            self._new_id,
        )
        tenders = tenders or default_tenders(self, vault, settings, self._clock)
        self.tenders: dict[str, Tender] = dict(tenders)
        self._host = Host(
            self._save,
            self._one_write,
            audit,
            self._learn,
            self._today,
            self._clock.now,
            self._amend,
        )
        self.bills = Bills(self, self._host, records, settings, access, self._new_id)

    def _tender(self, method: str) -> Tender:
        if method not in self.tenders:
            raise InputError(f"this gateway takes no {method} payments")
        return self.tenders[method]

    # -- reading -------------------------------------------------------------------------
    def _today(self, merchant_id: str | None = None) -> date:
        """A merchant's business day now (the home merchant's by default): the next one
        once today's Z report of that merchant is taken."""
        closings = self._records.closings(merchant_id)
        return business_day(self._clock, self._settings.tz, closings.closed_at)

    def get(self, payment_id: str) -> Payment:
        """A payment by id, with its refunds (whatever day they happened on)."""
        return load_payment(self._payments, payment_id, self._refunds)

    def list_day(self, day: date | None = None) -> list[Payment]:
        """The payments created on a business day (today by default), oldest first."""
        day = day or self._today()
        if day not in self._records.days():
            return []
        return [with_refunds(r, self._refunds) for r in self._payments.for_day(day)]

    def _refuse_closed(self, payment_id: str | None = None, merchant_id: str | None = None) -> None:
        """Nothing may change a closed business day: not today's once its Z is taken,
        nor the day a payment was taken on (a refund is filed today, so only today counts
        for it). A Z closes the day of its merchant only: the payment's, else
        `merchant_id`, else the home merchant's. Raises `DayClosed` before any bank is
        contacted."""
        if payment_id and merchant_id is None:
            merchant_id = self.get(payment_id).merchant_id
        closings = self._records.closings(merchant_id)
        today = self._today(merchant_id)
        for day in (today, payment_day(payment_id) if payment_id else None):
            closing = closings.get(day) if day else None
            if closing is not None:
                if payment_id:
                    self.get(payment_id)  # an unknown id is told so, whatever its day
                what = f"payment {payment_id} can no longer change"
                if day == today:
                    what = "no more payments, captures, voids or refunds today"
                raise DayClosed(
                    f"business day {day} is closed (Z report {closing['number']}): {what}"
                )

    @contextlib.contextmanager
    def _one_write(self, payment_id: str, durable: bool | None = None) -> Iterator[None]:
        """The writes of one step of a payment (its record, its audit event, the audit
        head, the open index, risk statistics) as one unit: one entry, all or nothing,
        durable when the block ends unless `durable` is False or, by default, a sale's
        authorization is under way (`charge` then awaits it durable once, at its end).
        When the block fails, nothing of it is stored, and what remembers writes in
        memory forgets them too."""
        try:
            durable = not _SALE.get() if durable is None else durable
            with self._records.unit(self._today(), day_of(payment_id), durable=durable):
                yield
        except BaseException:
            self._audit.resync()
            self.risk.resync()
            raise

    def _amend(self, payment: Payment) -> Payment:
        """Store what changed of a payment whose state stays (an ended UPI payment's
        late credit refunded): never a move, so the state machine has nothing to check."""
        if self.get(payment.id).status != payment.status:
            raise IllegalTransition(f"payment {payment.id} cannot change state by an amendment")
        record = payment.model_dump(mode="json", exclude={"refunds", "amount_refunded"})
        self._payments.save(day_of(payment.id), record)
        return self.get(payment.id)

    def _save(self, payment: Payment) -> Payment:
        """Store a payment durably, its move checked by the state machine; once it is no
        longer open, drop it from the index of open payments (`_charge` indexes each one
        before it is first stored)."""
        payment_saved(payment)  # counted once decided (approved, declined, ...)
        payment = payment.model_copy(update={"updated_at": self._clock.now()}).saving()
        record = payment.model_dump(mode="json", exclude={"refunds", "amount_refunded"})
        self._payments.save(day_of(payment.id), record)
        closed = payment.status not in OPEN_STATUSES
        if closed:
            self._open.discard(payment.id)
        return payment

    # -- charge ----------------------------------------------------------------------------
    async def charge(self, req: ChargeRequest) -> Payment:
        """Take a payment (a card by default): a sale, or a pre-authorization."""
        money = Money(req.amount, req.currency)
        if money.minor <= 0:
            raise InputError("the amount must be more than zero")
        if money.minor > (limit := self._settings.max_minor(money.currency)):
            maximum = format_money(Money(limit, money.currency))
            raise InputError(f"the amount is above the terminal's maximum of {maximum}")
        if not 0 <= req.tip < req.amount:
            raise InputError("the tip must be less than the total")
        if req.terminal_id is not None and not 1 <= len(req.terminal_id) <= 8:
            raise InputError("a terminal id has 1 to 8 characters")
        tender = self._tender(req.method)
        checked = tender.check(req, self._today())
        self._refuse_closed(merchant_id=req.merchant_id)
        req = req.model_copy(update={"currency": money.currency})  # "inr" → "INR"
        key = req.idempotency_key
        if key is None:
            return await self._charge(req, tender, checked)
        while (in_flight := self._in_flight.get(key)) is not None:
            await asyncio.shield(in_flight)
        known = self._keys.made(key, req, tender, checked)
        if known is not None:
            return self.get(known)
        done = asyncio.get_running_loop().create_future()
        self._in_flight[key] = done
        try:
            return await self._charge(req, tender, checked)
        finally:
            del self._in_flight[key]
            done.set_result(None)

    @observed_charge
    async def _charge(self, req: ChargeRequest, tender: Tender, checked: object) -> Payment:
        opened = tender.open(checked)
        params = self._keys.params(req, tender, checked)[0] if req.idempotency_key else None
        now = self._clock.now()
        payment_id = self._new_id(f"pay_{self._today(req.merchant_id):%Y%m%d}")
        terminal_id = req.terminal_id or self._settings.terminal_id
        merchant_id = req.merchant_id or self._settings.merchant_id
        risk = self._assess(opened, req, terminal_id, merchant_id, now)
        with self._one_write(payment_id, durable=False):  # written before the bank is asked
            self._open.add(payment_id)  # every open one is in it
            payment = self._save(
                Payment(
                    id=payment_id,
                    status="unknown",
                    method=req.method,
                    amount=req.amount,
                    tip=req.tip,
                    currency=req.currency,
                    capture_method=req.capture,
                    **opened.detail,
                    bill_id=req.bill_id,
                    link_id=req.link_id,
                    merchant_id=merchant_id,
                    terminal_id=terminal_id,
                    operator=req.operator,
                    idempotency_key=mask_card_numbers(req.idempotency_key),
                    risk=risk,
                    trace_id=trace_id(),
                    created_at=now,
                    updated_at=now,
                )
            )
            if req.idempotency_key:  # after the payment: a key never names a missing one
                self._keys.remember(req.idempotency_key, params, payment_id, now)
            verdict = {} if risk is None else {"risk_score": risk.score, "risk_action": risk.action}
            self._audit.record(
                req.operator,
                "payment.created",
                payment_id,
                amount=req.amount,
                currency=req.currency,
                **opened.shown,
                capture=req.capture,
                **verdict,
            )
        if risk is not None and risk.action == "block":
            return self._block(payment)
        step_up = risk is not None and risk.action == "otp"
        sale = _SALE.set(True)  # the tender's steps: written, made durable below, at once
        try:
            payment = await tender.authorize(self._host, payment, checked, step_up=step_up)
        finally:
            _SALE.reset(sale)
        await self._records.synced()  # acknowledged only once durable, the intent with it
        return payment

    def _assess(
        self, opened: Opened, req: ChargeRequest, terminal_id: str, merchant_id: str, at: datetime
    ) -> Assessment | None:
        """The risk rules' verdict, for a method they apply to (who pays is known)."""
        if opened.risk is None:
            return None
        return self.risk.assess(
            RiskContext(
                fingerprint=opened.risk.fingerprint,
                bin6=opened.risk.bin6,
                terminal_id=terminal_id,
                amount=req.amount,
                currency=req.currency,
                at=at,
                merchant_id=merchant_id,
                payer="UPI ID" if req.method == "upi" else "card",
            )
        )

    def _block(self, payment: Payment) -> Payment:
        """Declined by a risk rule, without contacting the bank."""
        risk = payment.risk
        assert risk is not None  # blocked by it
        reason = risk.reason
        with self._one_write(payment.id):
            payment = self._save(
                payment.model_copy(
                    update={
                        "status": "declined",
                        "decline_code": "blocked_by_risk",
                        "message": f"Blocked by risk rule {risk.rule}: {reason}",
                    }
                )
            )
            self._audit.record("risk", "payment.blocked", payment.id, rule=risk.rule, reason=reason)
            self._learn(payment, "blocked")
        return payment

    def _learn(self, payment: Payment, outcome: Outcome | None = None) -> None:
        """Tell the risk rules how an attempt ended (the payer's declines only, not
        outages): a card's, or a UPI payer's once known (a QR no one paid: the terminal's)."""
        if outcome is None and payment.status in ("succeeded", "requires_capture"):
            outcome = "approved"
        elif outcome is None and payment.status in ("declined", "canceled"):
            outcome = None if payment.response_code in OUTAGES else "declined"
        card, upi = payment.card, payment.upi
        if outcome is None or (card is None and upi is None):
            return
        vpa = upi.payer_vpa if upi else None  # a QR's payer, once one paid or tried
        payer = payer_fingerprint(self._vault, vpa) if vpa else ""
        context = RiskContext(
            fingerprint=card.fingerprint if card else payer,
            bin6=card.bin6 if card else "",
            terminal_id=payment.terminal_id,
            amount=payment.amount,
            currency=payment.currency,
            at=payment.updated_at,
            merchant_id=payment.merchant_id,
            payer="card" if card else "UPI ID",
        )
        self.risk.record(context, outcome)

    # -- the customer's step ------------------------------------------------------------
    @_one_at_a_time
    async def confirm_otp(self, payment_id: str, otp: str, *, operator: str = "cli") -> Payment:
        """Check the cardholder's OTP; on success the authorization goes on."""
        self._refuse_closed(payment_id)
        payment = self._expect(payment_id, "requires_action", "is not waiting for an OTP")
        return await self._tender(payment.method).confirm(self._host, payment, otp, operator)

    @_one_at_a_time
    async def resend_otp(self, payment_id: str, *, operator: str = "cli") -> Payment:
        """Ask the issuer to send a new code (cooldown and limit are the issuer's)."""
        self._refuse_closed(payment_id)
        payment = self._expect(payment_id, "requires_action", "is not waiting for an OTP")
        return await self._tender(payment.method).resend(self._host, payment, operator)

    @_one_at_a_time
    async def refresh(self, payment_id: str) -> Payment:
        """Ask the payment's tender where an open payment stands (a pending answer)."""
        self._refuse_closed(payment_id)
        payment = self.get(payment_id)
        if payment.status in OPEN_STATUSES or payment.method in ("upi", "netbanking"):  # late
            await self._tender(payment.method).status(self._host, payment, self._clock.now())
        return self.get(payment_id)

    @_one_at_a_time
    async def cancel(self, payment_id: str, *, operator: str = "cli") -> Payment:
        """Give up on a payment still waiting for the customer (`pending`): its tender
        tells the processor. No approval: nothing was taken."""
        self._refuse_closed(payment_id)
        payment = self._expect(payment_id, "pending", "is not waiting for the customer")
        return await self._tender(payment.method).void(self._host, payment, operator, None)

    @_one_at_a_time
    async def returned(self, payment_id: str, answer: object) -> Payment:
        """The customer came back from the processor's pages with a signed answer (a net
        banking bank's redirect): the tender checks it and confirms with the processor."""
        self._refuse_closed(payment_id)
        payment = self.get(payment_id)
        tender = self._tender(payment.method)
        if not isinstance(tender, Returning):
            raise NotAllowed(f"a {payment.method} payment takes no answer from a redirect")
        return await tender.returned(self._host, payment, answer)

    # -- after authorization --------------------------------------------------------------
    def _expect(self, payment_id: str, status: str, refusal: str) -> Payment:
        payment = self.get(payment_id)
        if payment.status != status:
            raise NotAllowed(f"payment {payment_id} {refusal} (it is {payment.status_word})")
        return payment

    @_one_at_a_time
    async def capture(
        self, payment_id: str, amount: int | None = None, *, operator: str = "cli"
    ) -> Payment:
        """Capture an authorization, fully or partly (once); the rest is released."""
        self._refuse_closed(payment_id)
        payment = self._expect(payment_id, "requires_capture", "cannot be captured")
        amount = payment.amount if amount is None else amount
        if not 0 < amount <= payment.amount:
            raise InputError(f"capture between 0 and {format_money(payment.money)}, not more")
        return await self._tender(payment.method).capture(self._host, payment, amount, operator)

    def _approve(
        self, action: str, payment: Payment, operator: str, approval: Approval | None
    ) -> str | None:
        """A manager's approval, checked and audited; None when no access control."""
        if self._access is None:
            return None
        if isinstance(approval, Preapproved):  # checked once for a whole bill's cancel
            return approval.user_id
        if approval is None:
            raise NotPermitted(f"a {action} needs a manager's approval (ID and PIN)")
        access = self._access.of(payment.merchant_id)  # the payment's merchant's managers
        return access.approve(
            approval.user_id, approval.pin, action=action, subject=payment.id, operator=operator
        ).id

    @_one_at_a_time
    async def void(
        self, payment_id: str, *, operator: str = "cli", approval: Approval | None = None
    ) -> Payment:
        """Cancel before capture (a manager approves): the hold goes back."""
        payment = self.get(payment_id)
        self._refuse_closed(payment_id)
        if payment.status == "succeeded":
            raise NotAllowed(f"payment {payment.id} is already captured: refund it instead")
        if payment.status not in ("requires_capture", "requires_action", "pending"):
            raise NotAllowed(f"payment {payment.id} cannot be voided (it is {payment.status_word})")
        approver = self._approve("void", payment, operator, approval)
        tender = self._tender(payment.method)
        return await tender.void(self._host, payment, operator, approver)

    @_one_at_a_time
    async def refund(
        self,
        payment_id: str,
        amount: int | None = None,
        *,
        operator: str = "cli",
        approval: Approval | None = None,
    ) -> Payment:
        """Refund part or all of what was captured (a manager approves); refunds never
        exceed the capture."""
        # a refund is filed today, even for an earlier day's sale
        self._refuse_closed(merchant_id=self.get(payment_id).merchant_id)
        payment = self._expect(payment_id, "succeeded", "cannot be refunded")
        if payment.link is not None:  # the money is in the attempt that paid it
            raise NotAllowed(link_refusal(payment))
        if payment.refundable == 0:
            raise NotAllowed(f"payment {payment_id} is already fully refunded")
        amount = payment.refundable if amount is None else amount
        if not 0 < amount <= payment.refundable:
            left = format_money(Money(payment.refundable, payment.currency))
            raise InputError(f"refund at most {left} (what is left of the capture)")
        approver = self._approve("refund", payment, operator, approval)
        # The n-th refund of a payment has one id, so a retry after a lost answer is the
        # same refund to the processor, answered again instead of paid twice.
        refund_id = f"re_{payment.id.removeprefix('pay_')}_{len(payment.refunds) + 1}"
        day = self._today(payment.merchant_id)
        tender = self._tender(payment.method)
        result = await tender.refund(self._host, payment, refund_id, amount, day)
        payment = self.get(payment.id)  # as stored now: the same refund may have landed
        if any(r.id == refund_id for r in payment.refunds):
            return payment
        refund = RefundRecord(
            id=refund_id,
            payment_id=payment.id,
            amount=result.amount,  # a refund answered again keeps its first amount
            currency=payment.currency,
            brand=payment.brand,
            created_at=self._clock.now(),
            rrn=result.reference,
            operator=operator,
            approver=approver,
        )
        self._refunds.add(day, refund.model_dump(mode="json"))
        payment = self.get(payment.id)
        self._audit.record(  # the manager who approved acts; the operator asked
            approver or operator,
            "payment.refunded",
            payment.id,
            refund=refund_id,
            amount=refund.amount,
            approver=approver,
            requested_by=operator,
        )
        return payment

    # -- repair -------------------------------------------------------------------------------
    async def repair(self, only: Collection[str] | None = None) -> list[str]:
        """Settle what was left open, each payment by its tender (`Tender.status`: for a
        card lost answers, failed captures, stale OTPs and pre-authorizations older than
        7 days). Returns one line per payment touched. `only`: just these payments (those
        the open index named before this process took any: a terminal repairing at start
        must not touch a sale in progress). A whole repair first takes over what dead
        processes left open (several processes on one database)."""
        notes = []
        now = self._clock.now()
        if only is None:
            self._open.take_over()
        only = None if only is None else set(only)
        for open_id in self._open.ids():
            if only is not None and open_id not in only:
                continue
            try:
                payment = self.get(open_id)
            except UnknownPayment:  # a crash between indexing and storing it: never sent
                self._open.discard(open_id)
                notes.append(f"{open_id}: never stored (the process stopped), dropped")
                continue
            async with self._locks[payment.id]:
                note = await self._repair_one(self.get(payment.id), now)
            if note:
                notes.append(f"{payment.id}: {note}")
        self._keys.prune(now)
        return notes

    async def poll(self) -> list[str]:
        """Resolve the pending payments whose answers came or whose status check is due,
        each method's (`Polled` tenders: UPI, net banking) as it says (the service calls
        it every few seconds): one line per payment that changed. Nothing else is touched
        (a card sale in progress never)."""
        now, notes = self._clock.now(), []
        for tender in self.tenders.values():
            if not isinstance(tender, Polled):
                continue
            for payment_id in await tender.due(self._host, self._open.ids(), self.get, now):
                async with self._locks[payment_id]:
                    note = await self._repair_one(self.get(payment_id), now)
                notes += [f"{payment_id}: {note}"] if note else []
        return notes

    async def _repair_one(self, payment: Payment, now: datetime) -> str | None:
        try:
            self._refuse_closed(payment.id)
            return await self._tender(payment.method).status(self._host, payment, now)
        except (BankUnavailable, DayClosed):  # tried again later (a closed day: tomorrow)
            return None
        except InputError as exc:  # refused by the bank: a person must look, the rest go on
            return f"left open: {exc}"
