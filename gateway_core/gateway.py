"""The gateway: a payment from keyed card to stored result, and everything after it.

charge: validate → vault → record (`unknown`, durable) → authorize at the acquirer →
OTP if the issuer steps up → capture (sale) → record the result → return it. The
result is stored before it is returned, and every step writes an audit event.

An authorization that never left (the bank refused the connection, its name did not
resolve) is declined 91 at once: the bank did nothing, so there is nothing to reverse.
One that may have reached it (no answer in time, connection dropped, HTTP 5xx) never
leaves money held: the gateway reverses at once and declines 91; if the reversal fails
too the payment stays `unknown` and `repair()` (run at start and by `paygate repair`)
settles it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel
from tinydb import Query

from gateway_core.access import Access, Approval, NotPermitted
from gateway_core.acquirer_api import AuthorizationRequest, AuthorizationResponse
from gateway_core.audit import AuditLog, mask_card_numbers
from gateway_core.cards import CardInput, CheckedCard, check_card
from gateway_core.clock import Clock, SystemClock, business_day
from gateway_core.errors import BankNotReached, BankUnavailable, InputError
from gateway_core.money import Money, parse_amount
from gateway_core.payments import (
    OPEN_STATUSES,
    CardSummary,
    Payment,
    RefundRecord,
    payment_day,
    reason_for,
)
from gateway_core.presentation import format_money
from gateway_core.risk import Context as RiskContext
from gateway_core.risk import CountryOf, RiskEngine, unknown_country
from gateway_core.settings import Settings
from gateway_core.store import DataStore
from gateway_core.store.repos import (
    TinyClosingRepository,
    TinyPaymentRepository,
    TinyRefundRepository,
)
from gateway_core.store.state import TinyRiskRepository
from gateway_core.vault import TokenRecord, Vault

if TYPE_CHECKING:  # httpx is 0.15 s of imports a terminal's first screen does without
    from gateway_core.bank_client import BankClient

IDEMPOTENCY_DAYS = 7
PREAUTH_DAYS = 7


class UnknownPayment(InputError):
    """No payment with that id."""


class NotAllowed(InputError):
    """The payment is not in a state that allows this."""


class DayClosed(NotAllowed):
    """The business day was closed (Z report): its payments can no longer change."""


class IdempotencyConflict(InputError):
    """An idempotency key reused with other parameters."""


class WrongOtp(InputError):
    """The OTP did not match; the payment still waits for the right one."""


class ChargeRequest(BaseModel):
    """What a cashier (or a program) asks the gateway to do."""

    amount: int  # the total to authorize, tip included
    currency: str
    card: CardInput
    tip: int = 0  # the part of `amount` that is a tip (reports show it apart)
    capture: Literal["automatic", "manual"] = "automatic"
    terminal_id: str | None = None
    merchant_id: str | None = None  # None: the settings' merchant (the service passes its key's)
    idempotency_key: str | None = None
    operator: str = "cli"


def _one_at_a_time(method):
    """Run a payment's operations one after another (capture, void, refund, OTP)."""

    @functools.wraps(method)
    async def locked(self: Gateway, payment_id: str, *args: Any, **kwargs: Any) -> Payment:
        async with self._locks[payment_id]:
            return await method(self, payment_id, *args, **kwargs)

    return locked


def open_payment_ids(store: DataStore) -> list[str]:
    """The payments the open index names: what `Gateway.repair` would look at now."""
    return [doc["id"] for doc in store.main.table("open_payments")]


class Gateway:
    """Payments over a store, a vault, an audit log and a bank client."""

    def __init__(
        self,
        store: DataStore,
        vault: Vault,
        audit: AuditLog,
        bank: BankClient,
        settings: Settings,
        *,
        clock: Clock | None = None,
        new_id: Callable[[str], str] | None = None,
        access: Access | None = None,
        country_of: CountryOf = unknown_country,
    ) -> None:
        self._store = store
        self._vault = vault
        self._audit = audit
        self.bank = bank
        self._settings = settings
        self._clock = clock or SystemClock()
        self._new_id = new_id or (lambda prefix: f"{prefix}_{secrets.token_hex(5)}")
        self._access = access
        self.risk = RiskEngine(
            TinyRiskRepository(store, home=settings.merchant_id),
            settings.risk,
            self._clock,
            settings.tz,
            home=settings.merchant_id,
            country_of=country_of,
        )
        self._payments = TinyPaymentRepository(store)
        self._refunds = TinyRefundRepository(store)
        self._closings = TinyClosingRepository(store, home=settings.merchant_id)
        self._idempotency = store.main.table("idempotency")
        self._open = store.main.table("open_payments")
        self._in_flight: dict[str, asyncio.Future[None]] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    # -- reading -------------------------------------------------------------------------
    def _today(self, merchant_id: str | None = None) -> date:
        """A merchant's business day now (the home merchant's by default): the next one
        once today's Z report of that merchant is taken."""
        closings = self._closings_of(merchant_id)
        return business_day(self._clock, self._settings.tz, closings.closed_at)

    def _closings_of(self, merchant_id: str | None) -> TinyClosingRepository:
        if merchant_id in (None, self._settings.merchant_id):
            return self._closings
        return TinyClosingRepository(self._store, merchant_id, home=self._settings.merchant_id)

    def get(self, payment_id: str) -> Payment:
        """A payment by id, with its refunds (whatever day they happened on)."""
        return load_payment(self._payments, payment_id, self._refunds)

    def list_day(self, day: date | None = None) -> list[Payment]:
        """The payments created on a business day (today by default), oldest first."""
        day = day or self._today()
        if day not in self._store.days():
            return []
        return [_with_refunds(r, self._refunds) for r in self._payments.for_day(day)]

    def _refuse_closed(self, payment_id: str | None = None, merchant_id: str | None = None) -> None:
        """Nothing may change a closed business day: not today's once its Z is taken,
        nor the day a payment was taken on (a refund is filed today, so only today counts
        for it). A Z closes the day of its merchant only: the payment's, else
        `merchant_id`, else the home merchant's. Raises `DayClosed` before any bank is
        contacted."""
        if payment_id and merchant_id is None:
            merchant_id = self.get(payment_id).merchant_id
        closings = self._closings_of(merchant_id)
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
    def _one_write(self, payment_id: str) -> Iterator[None]:
        """The writes of one step of a sale (its record, its audit event, the audit
        head, the open index, risk statistics) as one durable entry per database: the
        payment's day first, then today's if another, the main database last. So the
        head never names an event not stored, and the index lets go of a payment only
        once it is closed. Two fdatasyncs a step instead of four or five. (No await
        happens inside: no other sale's writes can join the block.) When the block fails,
        nothing of it is stored, and what remembers writes in memory forgets them too."""
        try:
            with contextlib.ExitStack() as stack:
                stack.enter_context(self._store.main.journal.atomic())
                for day in sorted({self._today(), payment_day(payment_id)}, reverse=True):
                    stack.enter_context(self._store.day(day).journal.atomic())
                yield
        except BaseException:
            self._payments.forget_indexes()
            self._audit.resync()
            self.risk.resync()
            raise

    def _save(self, payment: Payment) -> Payment:
        """Store a payment durably; once it is no longer open, drop it from the index of
        open payments (`_charge` indexes each one before it is first stored)."""
        payment = payment.model_copy(update={"updated_at": self._clock.now()})
        record = payment.model_dump(mode="json", exclude={"refunds", "amount_refunded"})
        self._payments.save(payment_day(payment.id), record)
        closed = payment.status not in OPEN_STATUSES
        if closed and self._open.contains(Query().id == payment.id):
            self._open.remove(Query().id == payment.id)
        return payment

    # -- charge ----------------------------------------------------------------------------
    async def charge(self, req: ChargeRequest) -> Payment:
        """Take a card payment: a sale, or a pre-authorization with manual capture."""
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
        card = check_card(req.card, self._today())
        self._refuse_closed(merchant_id=req.merchant_id)
        req = req.model_copy(update={"currency": money.currency})  # "inr" → "INR"
        key = req.idempotency_key
        if key is None:
            return await self._charge(req, card)
        while (in_flight := self._in_flight.get(key)) is not None:
            await asyncio.shield(in_flight)
        known = self._replay(key, req, card)
        if known is not None:
            return known
        done = asyncio.get_running_loop().create_future()
        self._in_flight[key] = done
        try:
            return await self._charge(req, card)
        finally:
            del self._in_flight[key]
            done.set_result(None)

    def _params_digests(self, req: ChargeRequest, card: CheckedCard) -> list[str]:
        """Everything asked for, keyed (HMAC, newest key first): a CVV is compared later,
        never kept. The card is its vault token, so no PAN goes into the digest either."""
        token = self._vault.find(card.pan)
        asked = (
            "idempotency",
            req.amount,
            req.tip,
            req.currency,
            req.capture,
            req.terminal_id or self._settings.terminal_id,
            req.merchant_id or self._settings.merchant_id,
            req.operator,
            token.token if token else "",
            card.expiry,
            card.cvv.get_secret_value(),
        )
        return self._vault.keyed_digests("|".join(map(str, asked)))

    def _replay(self, key: str, req: ChargeRequest, card: CheckedCard) -> Payment | None:
        doc = self._idempotency.get(Query().key == _key_hash(key))
        if doc is None:
            return None
        if doc["params"] not in self._params_digests(req, card):
            raise IdempotencyConflict(f"idempotency key {key} was used for a different payment")
        return self.get(doc["payment_id"])

    async def _charge(self, req: ChargeRequest, card: CheckedCard) -> Payment:
        token = self._vault.tokenize(card.without_cvv())
        params = self._params_digests(req, card)[0] if req.idempotency_key else None
        now = self._clock.now()
        payment_id = self._new_id(f"pay_{self._today(req.merchant_id):%Y%m%d}")
        terminal_id = req.terminal_id or self._settings.terminal_id
        risk = self.risk.assess(
            RiskContext(
                fingerprint=token.fingerprint,
                bin6=token.bin6,
                terminal_id=terminal_id,
                amount=req.amount,
                currency=req.currency,
                at=now,
                merchant_id=req.merchant_id or self._settings.merchant_id,
            )
        )
        self._open.insert({"id": payment_id})  # alone and first: every open one is in it
        with self._one_write(payment_id):
            payment = self._save(
                Payment(
                    id=payment_id,
                    status="unknown",
                    amount=req.amount,
                    tip=req.tip,
                    currency=req.currency,
                    capture_method=req.capture,
                    card=_summary(token),
                    merchant_id=req.merchant_id or self._settings.merchant_id,
                    terminal_id=terminal_id,
                    operator=req.operator,
                    idempotency_key=mask_card_numbers(req.idempotency_key),
                    risk=risk,
                    created_at=now,
                    updated_at=now,
                )
            )
            if req.idempotency_key:  # after the payment: a key never names a missing one
                self._idempotency.insert(
                    {
                        "key": _key_hash(req.idempotency_key),
                        "params": params,
                        "payment_id": payment_id,
                        "created_at": now.isoformat(),
                    }
                )
            self._audit.record(
                req.operator,
                "payment.created",
                payment_id,
                amount=req.amount,
                currency=req.currency,
                card=token.masked,
                capture=req.capture,
                risk_score=risk.score,
                risk_action=risk.action,
            )
        if risk.action == "block":
            return self._block(payment)
        auth = AuthorizationRequest(
            payment_id=payment_id,
            merchant_id=payment.merchant_id,
            terminal_id=payment.terminal_id,
            pan=card.pan,
            expiry=str(card.expiry),
            cvv=card.cvv,
            amount=req.amount,
            currency=req.currency,
            capture=req.capture == "automatic",
            challenge_requested=risk.action == "otp",
        )
        return await self._authorize(payment, auth)

    def _block(self, payment: Payment) -> Payment:
        """Declined by a risk rule, without contacting the bank."""
        reason = payment.risk.reason
        with self._one_write(payment.id):
            payment = self._save(
                payment.model_copy(
                    update={
                        "status": "declined",
                        "decline_code": "blocked_by_risk",
                        "message": f"Blocked by risk rule {payment.risk.rule}: {reason}",
                    }
                )
            )
            self._audit.record(
                "risk", "payment.blocked", payment.id, rule=payment.risk.rule, reason=reason
            )
            self.risk.record(_risk_context(payment), "blocked")
        return payment

    def _learn(self, payment: Payment) -> None:
        """Tell the risk rules how an attempt ended (issuer declines only, not outages)."""
        if payment.status in ("succeeded", "requires_capture"):
            self.risk.record(_risk_context(payment), "approved")
        elif payment.status in ("declined", "canceled") and payment.response_code not in (
            "91",
            "96",
        ):
            self.risk.record(_risk_context(payment), "declined")

    async def _authorize(self, payment: Payment, auth: AuthorizationRequest) -> Payment:
        try:
            answer = await self.bank.authorize(auth)
        except BankNotReached as exc:
            return self._decline_unsent(payment, str(exc))
        except BankUnavailable as exc:
            return await self._reverse_after_failure(payment, str(exc))
        return await self._settle_answer(payment, answer)

    def _decline_unsent(self, payment: Payment, why: str) -> Payment:
        """The authorization never left: the bank holds nothing, so a plain decline 91."""
        reason = reason_for("91")
        update = {
            "status": "declined",
            "response_code": "91",
            "decline_code": reason.decline_code,
            "message": reason.text,
        }
        with self._one_write(payment.id):
            payment = self._save(payment.model_copy(update=update))
            self._audit.record(
                "gateway", "payment.declined", payment.id, response_code="91", reason=why
            )
        return payment

    async def _settle_answer(self, payment: Payment, answer: AuthorizationResponse) -> Payment:
        reason = reason_for(answer.response_code)
        update: dict[str, Any] = {
            "response_code": answer.response_code,
            "decline_code": reason.decline_code,
            "message": reason.text,
            "auth_code": answer.auth_code,
            "rrn": answer.rrn,
            "stan": answer.stan,
            "network": answer.network,
            "issuer": answer.issuer,
            "funding": answer.funding,
            "country": answer.country,
            "challenge": answer.challenge,
        }
        if answer.approved:
            update["status"] = "requires_capture"
        elif answer.response_code == "1A" and answer.challenge:
            update["status"] = "requires_action"
            update["message"] = f"Enter the OTP sent to {answer.challenge.phone}"
        else:
            update["status"] = "declined"
        with self._one_write(payment.id):
            payment = self._save(payment.model_copy(update=update))
            self._audit.record(
                payment.operator,
                f"payment.{payment.status}",
                payment.id,
                response_code=answer.response_code,
                rrn=answer.rrn,
                auth_code=answer.auth_code,
            )
            if payment.status != "requires_action":
                self._learn(payment)
        if payment.status == "requires_capture" and payment.capture_method == "automatic":
            return await self._capture(payment, payment.amount, payment.operator)
        return payment

    async def _reverse_after_failure(self, payment: Payment, why: str) -> Payment:
        """The answer is lost: reverse, so that nothing stays held."""
        self._audit.record("gateway", "payment.bank_failed", payment.id, reason=why)
        try:
            result = await self.bank.reverse(payment.id, "timeout")
        except BankUnavailable as exc:
            payment = self._save(
                payment.model_copy(
                    update={
                        "status": "unknown",
                        "message": "Bank did not answer; the result is being checked",
                        "reversal": f"pending: {exc}",
                    }
                )
            )
            self._audit.record("gateway", "payment.unknown", payment.id, reason=str(exc))
            return payment
        reason = reason_for("91")
        payment = self._save(
            payment.model_copy(
                update={
                    "status": "declined",
                    "response_code": "91",
                    "decline_code": reason.decline_code,
                    "message": reason.text,
                    "reversal": f"reversed after: {why} (released {result.released})",
                }
            )
        )
        self._audit.record(
            "gateway", "payment.reversed", payment.id, reason=why, released=result.released
        )
        return payment

    # -- OTP ---------------------------------------------------------------------------
    @_one_at_a_time
    async def confirm_otp(self, payment_id: str, otp: str, *, operator: str = "cli") -> Payment:
        """Check the cardholder's OTP; on success the authorization goes on."""
        self._refuse_closed(payment_id)
        payment = self._expect(payment_id, "requires_action", "is not waiting for an OTP")
        verdict = await self.bank.verify_otp(payment.challenge.id, otp)
        self._audit.record(
            operator, f"otp.{verdict.status}", payment.id, tries_left=verdict.tries_left
        )
        if verdict.status == "wrong_code":
            challenge = payment.challenge.model_copy(update={"tries_left": verdict.tries_left})
            self._save(payment.model_copy(update={"challenge": challenge}))
            tries = "1 try" if verdict.tries_left == 1 else f"{verdict.tries_left} tries"
            raise WrongOtp(f"wrong code: {tries} left")
        if verdict.status in ("failed", "expired"):
            why = "too many wrong codes" if verdict.status == "failed" else "the code expired"
            payment = self._cancel(payment, f"OTP failed: {why}", operator)
            self._learn(payment)
            return payment
        token = self._vault.get(payment.card.token)
        auth = AuthorizationRequest(
            payment_id=payment.id,
            merchant_id=payment.merchant_id,
            terminal_id=payment.terminal_id,
            pan=self._vault.reveal(token.token),
            expiry=token.expiry,
            amount=payment.amount,
            currency=payment.currency,
            capture=payment.capture_method == "automatic",
            authentication=verdict.authentication,
        )
        return await self._authorize(payment, auth)

    @_one_at_a_time
    async def resend_otp(self, payment_id: str, *, operator: str = "cli") -> Payment:
        """Ask the issuer to send a new code (cooldown and limit are the issuer's)."""
        self._refuse_closed(payment_id)
        payment = self._expect(payment_id, "requires_action", "is not waiting for an OTP")
        challenge = await self.bank.resend_otp(payment.challenge.id)
        self._audit.record(operator, "otp.resent", payment.id)
        return self._save(payment.model_copy(update={"challenge": challenge}))

    def _cancel(self, payment: Payment, why: str, operator: str) -> Payment:
        payment = self._save(payment.model_copy(update={"status": "canceled", "message": why}))
        self._audit.record(operator, "payment.canceled", payment.id, reason=why)
        return payment

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
        return await self._capture(payment, amount, operator)

    async def _capture(self, payment: Payment, amount: int, operator: str) -> Payment:
        try:
            result = await self.bank.capture(payment.id, amount, self._today(payment.merchant_id))
        except BankUnavailable as exc:
            self._audit.record("gateway", "payment.capture_failed", payment.id, reason=str(exc))
            if payment.capture_method == "manual":
                raise BankUnavailable(f"the capture did not go through: {exc}; try again") from None
            return self._save(
                payment.model_copy(update={"message": "Authorized; capture will be retried"})
            )
        if result.response_code != "00":
            raise NotAllowed(
                f"the bank refused the capture: {reason_for(result.response_code).text}"
            )
        with self._one_write(payment.id):
            payment = self._save(
                payment.model_copy(
                    update={"status": "succeeded", "amount_captured": amount, "message": "Approved"}
                )
            )
            self._audit.record(
                operator, "payment.captured", payment.id, amount=amount, released=result.released
            )
        return payment

    def _approve(
        self, action: str, payment: Payment, operator: str, approval: Approval | None
    ) -> str | None:
        """A manager's approval, checked and audited; None when no access control."""
        if self._access is None:
            return None
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
        self._check_voidable(payment)
        approver = self._approve("void", payment, operator, approval)
        return await self._void(payment, operator, approver)

    @staticmethod
    def _check_voidable(payment: Payment) -> None:
        if payment.status == "succeeded":
            raise NotAllowed(f"payment {payment.id} is already captured: refund it instead")
        if payment.status not in ("requires_capture", "requires_action"):
            raise NotAllowed(f"payment {payment.id} cannot be voided (it is {payment.status_word})")

    async def _void(self, payment: Payment, operator: str, approver: str | None = None) -> Payment:
        payment_id = payment.id
        if payment.status == "succeeded":
            raise NotAllowed(f"payment {payment_id} is already captured: refund it instead")
        self._check_voidable(payment)
        if payment.status == "requires_action":
            return self._cancel(payment, "Canceled before the OTP", approver or operator)
        result = await self.bank.reverse(payment.id, "void")
        if result.response_code == "12":  # the capture reached the bank, its answer did not
            raise NotAllowed(f"payment {payment_id} is already captured: refund it instead")
        payment = self._save(
            payment.model_copy(
                update={
                    "status": "canceled",
                    "message": "Voided",
                    "reversal": f"void (released {result.released})",
                    "voided_by": operator,
                    "approved_by": approver,
                }
            )
        )
        self._audit.record(  # the manager who approved acts; the operator asked
            approver or operator,
            "payment.voided",
            payment.id,
            released=result.released,
            approver=approver,
            requested_by=operator,
        )
        return payment

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
        if payment.refundable == 0:
            raise NotAllowed(f"payment {payment_id} is already fully refunded")
        amount = payment.refundable if amount is None else amount
        if not 0 < amount <= payment.refundable:
            left = format_money(Money(payment.refundable, payment.currency))
            raise InputError(f"refund at most {left} (what is left of the capture)")
        approver = self._approve("refund", payment, operator, approval)
        # The n-th refund of a payment has one id, so a retry after a lost answer is the
        # same refund to the bank, answered again instead of paid twice.
        refund_id = f"re_{payment.id.removeprefix('pay_')}_{len(payment.refunds) + 1}"
        day = self._today(payment.merchant_id)
        result = await self.bank.refund(payment.id, refund_id, amount, day)
        if result.response_code != "00":
            raise NotAllowed(
                f"the bank refused the refund: {reason_for(result.response_code).text}"
            )
        payment = self.get(payment.id)  # as stored now: the same refund may have landed
        if any(r.id == refund_id for r in payment.refunds):
            return payment
        refund = RefundRecord(
            id=refund_id,
            payment_id=payment.id,
            amount=result.amount,  # a refund answered again keeps its first amount
            currency=payment.currency,
            brand=payment.card.brand,
            created_at=self._clock.now(),
            rrn=result.rrn,
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
        """Settle what was left open: lost answers, failed captures, stale OTPs and
        pre-authorizations older than 7 days. Returns one line per payment touched.
        `only`: just these payments (those `open_payment_ids` named before this process
        took any: a terminal repairing at start must not touch a sale in progress)."""
        notes = []
        now = self._clock.now()
        only = None if only is None else set(only)
        for doc in list(self._open):
            if only is not None and doc["id"] not in only:
                continue
            try:
                payment = self.get(doc["id"])
            except UnknownPayment:  # a crash between indexing and storing it: never sent
                self._open.remove(Query().id == doc["id"])
                notes.append(f"{doc['id']}: never stored (the process stopped), dropped")
                continue
            async with self._locks[payment.id]:
                note = await self._repair_one(self.get(payment.id), now)
            if note:
                notes.append(f"{payment.id}: {note}")
        cutoff = (now - timedelta(days=IDEMPOTENCY_DAYS)).isoformat()
        self._idempotency.remove(Query().created_at < cutoff)
        return notes

    async def _repair_one(self, payment: Payment, now: datetime) -> str | None:
        try:
            self._refuse_closed(payment.id)
            if payment.status == "unknown":
                fixed = await self._reverse_after_failure(payment, "no answer was recorded")
                return None if fixed.status == "unknown" else "reversed, declined 91"
            if (
                payment.status == "requires_action"
                and payment.challenge
                and (payment.challenge.expires_at <= now)
            ):
                self._cancel(payment, "OTP expired", "repair")
                return "OTP expired, canceled"
            if payment.status == "requires_capture":
                if payment.capture_method == "automatic":
                    fixed = await self._capture(payment, payment.amount, "repair")
                    return "captured" if fixed.status == "succeeded" else None
                if now - payment.created_at > timedelta(days=PREAUTH_DAYS):
                    await self._void(payment, "repair")
                    return f"pre-authorization older than {PREAUTH_DAYS} days, voided"
        except (BankUnavailable, DayClosed):  # tried again later (a closed day: tomorrow)
            return None
        except InputError as exc:  # refused by the bank: a person must look, the rest go on
            return f"left open: {exc}"
        return None


def _risk_context(payment: Payment) -> RiskContext:
    return RiskContext(
        fingerprint=payment.card.fingerprint,
        bin6=payment.card.bin6,
        terminal_id=payment.terminal_id,
        amount=payment.amount,
        currency=payment.currency,
        at=payment.updated_at,
        merchant_id=payment.merchant_id,
    )


def _summary(token: TokenRecord) -> CardSummary:
    return CardSummary(
        brand=token.brand,
        bin6=token.bin6,
        last4=token.last4,
        masked=token.masked,
        token=token.token,
        fingerprint=token.fingerprint,
        expiry=token.expiry,
    )


def load_payment(
    payments: TinyPaymentRepository, payment_id: str, refunds: TinyRefundRepository
) -> Payment:
    """A payment by id from the repositories (no bank needed: read-only commands use it)."""
    day = payment_day(payment_id)
    record = payments.get(day, payment_id) if day else None
    if record is None:
        raise UnknownPayment(f"no payment {payment_id}")
    return _with_refunds(record, refunds)


def _with_refunds(record: dict, refunds: TinyRefundRepository) -> Payment:
    """A stored payment with its refunds, which live in the days they happened on."""
    found = sorted(refunds.for_payment(record["id"]), key=lambda r: r["created_at"])
    return Payment(**record, refunds=found, amount_refunded=sum(r["amount"] for r in found))


def _key_hash(key: str) -> str:
    """Idempotency keys are stored hashed: a caller may put anything in them."""
    return hashlib.sha256(key.encode()).hexdigest()


def parse_money(text: str, currency: str, settings: Settings) -> Money:
    """An amount as typed, checked against the terminal's maximum."""
    return parse_amount(text, currency, max_minor=settings.max_minor(currency))
