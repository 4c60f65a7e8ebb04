"""The card tender: a keyed card through the acquirer (the `Processor` port).

authorize: the card is tokenized in the vault; a sale goes to the acquirer as one 0200
(authorized and captured in one message, one step here), a pre-authorization as an
0100; an issuer that steps up leaves the payment `requires_action` until the OTP is
confirmed. An authorization that never left (the bank refused the
connection, its name did not resolve) is declined 91 at once: the bank did nothing, so
there is nothing to reverse. One that may have reached it (no answer in time,
connection dropped, HTTP 5xx) never leaves money held: the tender reverses at once and
declines 91; if the reversal fails too the payment stays `unknown` and `status` (run
by the gateway's repair) settles it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from gateway_core.acquirer_api import AuthorizationRequest, AuthorizationResponse
from gateway_core.cards import CheckedCard, check_card
from gateway_core.errors import BankNotReached, BankUnavailable, InputError
from gateway_core.payments import (
    CardDetail,
    ChargeRequest,
    NotAllowed,
    Payment,
    WrongOtp,
    reason_for,
)
from gateway_core.ports import Opened, Processor, Refunded, RiskKey, TenderHost
from gateway_core.tenders.base import moved, settle_held
from gateway_core.vault import Vault


def _checked(checked: object) -> CheckedCard:
    if not isinstance(checked, CheckedCard):
        raise TypeError("the card tender is given a checked card")
    return checked


class CardTender:
    """Cards: vault, acquirer, OTP step-up, reversal after a lost answer. `processor`
    is asked for the acquirer client on every call (a terminal may wrap it to watch a
    sale's route)."""

    method = "card"

    def __init__(self, vault: Vault, processor: Callable[[], Processor]) -> None:
        self._vault = vault
        self._processor = processor

    @property
    def bank(self) -> Processor:
        """The acquirer client now."""
        return self._processor()

    # -- the new payment ---------------------------------------------------------------
    def check(self, req: ChargeRequest, today: date) -> CheckedCard:
        """The card checked (Luhn, brand, length, expiry, CVV)."""
        if req.card is None:
            raise InputError("a card payment needs a card")
        return check_card(req.card, today)

    def digest(self, checked: object) -> tuple[str, ...]:
        """The card as its vault token (if known), its expiry and CVV: compared as a
        keyed digest, never kept."""
        card = _checked(checked)
        token = self._vault.find(card.pan)
        return (token.token if token else "", str(card.expiry), card.cvv.get_secret_value())

    def open(self, checked: object) -> Opened:
        """Tokenize the card: the payment keeps its `CardDetail`, the audit its mask."""
        token = self._vault.tokenize(_checked(checked).without_cvv())
        detail = CardDetail(
            brand=token.brand,
            bin6=token.bin6,
            last4=token.last4,
            masked=token.masked,
            token=token.token,
            fingerprint=token.fingerprint,
            expiry=token.expiry,
        )
        return Opened(
            detail={"card": detail},
            shown={"card": token.masked},
            risk=RiskKey(fingerprint=token.fingerprint, bin6=token.bin6),
        )

    async def authorize(
        self, host: TenderHost, payment: Payment, checked: object, *, step_up: bool
    ) -> Payment:
        """0200 for a sale, 0100 for a pre-authorization; the issuer may step up
        (`requires_action`)."""
        card = _checked(checked)
        sale = payment.capture_method == "automatic"
        auth = AuthorizationRequest(
            payment_id=payment.id,
            merchant_id=payment.merchant_id,
            terminal_id=payment.terminal_id,
            pan=card.pan,
            expiry=str(card.expiry),
            cvv=card.cvv,
            amount=payment.amount,
            currency=payment.currency,
            capture=sale,
            day=host.today(payment.merchant_id) if sale else None,
            challenge_requested=step_up,
        )
        return await self._authorize(host, payment, auth)

    async def _authorize(
        self, host: TenderHost, payment: Payment, auth: AuthorizationRequest
    ) -> Payment:
        try:
            answer = await self.bank.authorize(auth)
        except BankNotReached as exc:
            return self._decline_unsent(host, payment, str(exc))
        except BankUnavailable as exc:
            return await self._reverse_after_failure(host, payment, str(exc))
        return await self._settle_answer(host, payment, answer)

    def _decline_unsent(self, host: TenderHost, payment: Payment, why: str) -> Payment:
        """The authorization never left: the bank holds nothing, so a plain decline 91."""
        reason = reason_for("91")
        update = {
            "status": "declined",
            "response_code": "91",
            "decline_code": reason.decline_code,
            "message": reason.text,
        }
        return moved(
            host, payment, update, "gateway", "payment.declined", response_code="91", reason=why
        )

    async def _settle_answer(
        self, host: TenderHost, payment: Payment, answer: AuthorizationResponse
    ) -> Payment:
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
        if answer.captured:  # a sale's 0210: authorized and captured in one message
            update.update(status="succeeded", amount_captured=answer.captured, message="Approved")
        elif answer.approved:
            update["status"] = "requires_capture"
        elif answer.response_code == "1A" and answer.challenge:
            update["status"] = "requires_action"
            update["message"] = f"Enter the OTP sent to {answer.challenge.phone}"
        else:
            update["status"] = "declined"
        with host.step(payment.id):
            payment = host.save(payment.model_copy(update=update))
            captured = {"amount": answer.captured, "released": 0} if answer.captured else {}
            host.record(
                payment.operator,
                "payment.captured" if answer.captured else f"payment.{payment.status}",
                payment.id,
                response_code=answer.response_code,
                rrn=answer.rrn,
                auth_code=answer.auth_code,
                **captured,
            )
            if payment.status != "requires_action":
                host.learn(payment)
        if payment.status == "requires_capture" and payment.capture_method == "automatic":
            return await self.capture(host, payment, payment.amount, payment.operator)
        return payment

    async def _reverse_after_failure(self, host: TenderHost, payment: Payment, why: str) -> Payment:
        """The answer is lost: reverse, so that nothing stays held."""
        host.record("gateway", "payment.bank_failed", payment.id, reason=why)
        try:
            result = await self.bank.reverse(payment.id, "timeout")
        except BankUnavailable as exc:
            payment = host.save(
                payment.model_copy(
                    update={
                        "status": "unknown",
                        "message": "Bank did not answer; the result is being checked",
                        "reversal": f"pending: {exc}",
                    }
                )
            )
            host.record("gateway", "payment.unknown", payment.id, reason=str(exc))
            return payment
        reason = reason_for("91")
        payment = host.save(
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
        host.record("gateway", "payment.reversed", payment.id, reason=why, released=result.released)
        return payment

    # -- OTP -----------------------------------------------------------------------------
    async def confirm(
        self, host: TenderHost, payment: Payment, answer: str, operator: str
    ) -> Payment:
        """Check the cardholder's OTP; on success the authorization goes on."""
        challenge, card = payment.challenge, payment.card
        if challenge is None or card is None:
            raise NotAllowed(f"payment {payment.id} is not waiting for an OTP")
        verdict = await self.bank.verify_otp(challenge.id, answer)
        host.record(operator, f"otp.{verdict.status}", payment.id, tries_left=verdict.tries_left)
        if verdict.status == "wrong_code":
            challenge = challenge.model_copy(update={"tries_left": verdict.tries_left})
            host.save(payment.model_copy(update={"challenge": challenge}))
            tries = "1 try" if verdict.tries_left == 1 else f"{verdict.tries_left} tries"
            raise WrongOtp(f"wrong code: {tries} left")
        if verdict.status in ("failed", "expired"):
            why = "too many wrong codes" if verdict.status == "failed" else "the code expired"
            payment = self._cancel(host, payment, f"OTP failed: {why}", operator)
            host.learn(payment)
            return payment
        token = self._vault.get(card.token)
        auth = AuthorizationRequest(
            payment_id=payment.id,
            merchant_id=payment.merchant_id,
            terminal_id=payment.terminal_id,
            pan=self._vault.reveal(token.token),
            expiry=token.expiry,
            amount=payment.amount,
            currency=payment.currency,
            capture=payment.capture_method == "automatic",
            day=host.today(payment.merchant_id),
            authentication=verdict.authentication,
        )
        return await self._authorize(host, payment, auth)

    async def resend(self, host: TenderHost, payment: Payment, operator: str) -> Payment:
        """Ask the issuer to send a new code (cooldown and limit are the issuer's)."""
        if payment.challenge is None:
            raise NotAllowed(f"payment {payment.id} is not waiting for an OTP")
        challenge = await self.bank.resend_otp(payment.challenge.id)
        host.record(operator, "otp.resent", payment.id)
        return host.save(payment.model_copy(update={"challenge": challenge}))

    @staticmethod
    def _cancel(host: TenderHost, payment: Payment, why: str, operator: str) -> Payment:
        payment = host.save(payment.model_copy(update={"status": "canceled", "message": why}))
        host.record(operator, "payment.canceled", payment.id, reason=why)
        return payment

    # -- after authorization ---------------------------------------------------------------
    async def capture(
        self, host: TenderHost, payment: Payment, amount: int, operator: str
    ) -> Payment:
        """Completion of `amount`; a sale whose capture fails stays authorized and is
        captured by repair, a manual capture that fails is told to try again."""
        try:
            result = await self.bank.capture(payment.id, amount, host.today(payment.merchant_id))
        except BankUnavailable as exc:
            host.record("gateway", "payment.capture_failed", payment.id, reason=str(exc))
            if payment.capture_method == "manual":
                raise BankUnavailable(f"the capture did not go through: {exc}; try again") from None
            return host.save(
                payment.model_copy(update={"message": "Authorized; capture will be retried"})
            )
        if result.response_code != "00":
            raise NotAllowed(
                f"the bank refused the capture: {reason_for(result.response_code).text}"
            )
        with host.step(payment.id):
            payment = host.save(
                payment.model_copy(
                    update={"status": "succeeded", "amount_captured": amount, "message": "Approved"}
                )
            )
            host.record(
                operator, "payment.captured", payment.id, amount=amount, released=result.released
            )
        return payment

    async def void(
        self, host: TenderHost, payment: Payment, operator: str, approver: str | None
    ) -> Payment:
        """Release the hold (a payment still waiting for its OTP holds nothing)."""
        if payment.status == "requires_action":
            return self._cancel(host, payment, "Canceled before the OTP", approver or operator)
        result = await self.bank.reverse(payment.id, "void")
        if result.response_code == "12":  # the capture reached the bank, its answer did not
            raise NotAllowed(f"payment {payment.id} is already captured: refund it instead")
        payment = host.save(
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
        host.record(  # the manager who approved acts; the operator asked
            approver or operator,
            "payment.voided",
            payment.id,
            released=result.released,
            approver=approver,
            requested_by=operator,
        )
        return payment

    async def refund(
        self, host: TenderHost, payment: Payment, refund_id: str, amount: int, day: date
    ) -> Refunded:
        """Credit the card (clearing on `day`)."""
        result = await self.bank.refund(payment.id, refund_id, amount, day)
        if result.response_code != "00":
            raise NotAllowed(
                f"the bank refused the refund: {reason_for(result.response_code).text}"
            )
        return Refunded(amount=result.amount, reference=result.rrn)

    async def status(self, host: TenderHost, payment: Payment, now: datetime) -> str | None:
        """Settle what was left open: a lost answer is reversed, a stale OTP canceled,
        a sale's failed capture retried, a pre-authorization older than 7 days voided."""
        if payment.status == "unknown":
            fixed = await self._reverse_after_failure(host, payment, "no answer was recorded")
            return None if fixed.status == "unknown" else "reversed, declined 91"
        if (
            payment.status == "requires_action"
            and payment.challenge
            and (payment.challenge.expires_at <= now)
        ):
            self._cancel(host, payment, "OTP expired", "repair")
            return "OTP expired, canceled"
        if payment.status == "requires_capture":
            return await settle_held(self, host, payment, now)
        return None
