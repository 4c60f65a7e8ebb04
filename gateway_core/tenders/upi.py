"""The UPI tender: a dynamic QR, an intent link or a collect request through the
merchant's payee PSP (the `UpiPsp` port), resolved by callbacks and status checks.

authorize: the merchant is boarded with its PSP (once per process; its callback secret
is derived from the key file, never stored), the PSP creates the transaction, and the
payment is saved `pending` with its link, txn id, expiry and first check. The outcome
comes as a signed callback (drained by `status`: refresh, repair, poll) or from a status
check: created + first_check_s, then at expiry, then expiry + first_check_s; after the
last one a transaction still pending is reversed (debited) or canceled and the payment
declined with its code. A credit after the payment ended ("late credit") is refunded at
once; the payment keeps its state. The UPI PIN never reaches the gateway.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from gateway_core.clock import Clock
from gateway_core.errors import BankNotReached, BankRefused, BankUnavailable, InputError
from gateway_core.payments import (
    ChargeRequest,
    NotAllowed,
    Payment,
    UpiDetail,
    UpiInput,
)
from gateway_core.ports import Opened, Refunded, RiskKey, TenderHost, UpiPsp
from gateway_core.settings import Settings
from gateway_core.tenders import waiting
from gateway_core.tenders.base import Refusals, moved, not_taken
from gateway_core.tenders.waiting import finder, merchant_name
from gateway_core.upi_api import (
    FINAL_STATES,
    MAX_UPI_AMOUNT,
    UpiCallback,
    UpiFlow,
    UpiMerchant,
    UpiRefundRequest,
    UpiTransaction,
    UpiTransactionRequest,
    callback_is_signed,
    upi_reason,
)
from gateway_core.upi_link import PaymentLink, check_vpa, mask_vpa
from gateway_core.vault import Vault

REFUND_DAYS = 180
PENDING_CODES = ("BT", "UT", "RB")  # the payer's bank is late: not a decline yet
DEBITED_CODES = ("UT", "RB")  # ... and the payer may have been debited


def payer_fingerprint(vault: Vault, vpa: str) -> str:
    """A payer's VPA as the risk rules count it: keyed, never the VPA itself."""
    return vault.keyed_digests(f"upi-vpa|{vpa.lower()}")[0]


def home_payee(settings: Settings, merchant_id: str) -> str:
    """The VPA a merchant is paid at: the settings' for the home merchant, else
    `<merchant id>@pgbank`."""
    if merchant_id == settings.merchant_id:
        return settings.upi.vpa
    return check_vpa(f"{merchant_id.lower()}@pgbank")


def check_due(payment: Payment, checks: int, max_checks: int, first_s: int) -> datetime | None:
    """When a UPI payment's status check number `checks + 1` is due (`waiting.check_due`)."""
    upi = payment.upi
    if upi is None:
        return None
    return waiting.check_due(payment.created_at, upi.expires_at, checks, max_checks, first_s)


@dataclass(frozen=True)
class CheckedUpi:
    """A UPI request as checked: its flow, the collect's payer, the note, the payee."""

    flow: UpiFlow
    vpa: str | None
    note: str
    merchant_id: str
    payee_vpa: str


@dataclass(frozen=True)
class Outcome:
    """Where a transaction stands, from a callback or the switch."""

    status: str
    code: str | None = None
    rrn: str | None = None
    payer_vpa: str | None = None

    @classmethod
    def of(cls, answer: UpiTransaction | UpiCallback) -> Outcome:
        return cls(answer.status, answer.response_code, answer.rrn, answer.payer_vpa)


def _checked(checked: object) -> CheckedUpi:
    if not isinstance(checked, CheckedUpi):
        raise TypeError("the UPI tender is given a checked UPI request")
    return checked


def _upi(payment: Payment) -> UpiDetail:
    if payment.upi is None:
        raise NotAllowed(f"payment {payment.id} is not a UPI payment")
    return payment.upi


class UpiTender(Refusals):
    """UPI through the payee PSP, which is asked for on every call (`psp`)."""

    method = "upi"

    def __init__(
        self, vault: Vault, psp: Callable[[], UpiPsp | None], settings: Settings, clock: Clock
    ) -> None:
        self._vault = vault
        self._psp = psp
        self._settings = settings
        self._clock = clock
        self._boarded: set[str] = set()
        self._inbox: dict[str, dict[str, UpiCallback]] = {}  # reference → id → callback

    @property
    def psp(self) -> UpiPsp:
        """The payee PSP client now."""
        if (psp := self._psp()) is None:
            raise InputError("this gateway has no UPI network to reach")
        return psp

    # -- the new payment ---------------------------------------------------------------
    def check(self, req: ChargeRequest, today: date) -> CheckedUpi:
        """INR, at most ₹1,00,000.00, paid at once; a collect needs a VPA and the
        merchant's consent to collect requests."""
        upi = req.upi or UpiInput()
        if req.currency.upper() != "INR":
            raise InputError("UPI takes rupees only (INR)")
        if req.amount > MAX_UPI_AMOUNT:
            raise InputError("a UPI payment is at most ₹1,00,000.00")
        if req.capture != "automatic":
            raise InputError("a UPI payment is paid at once: it has no manual capture")
        if len(upi.note) > 50:
            raise InputError("a UPI note has at most 50 characters")
        vpa = check_vpa(upi.vpa) if upi.vpa else None
        if upi.flow == "collect":
            if vpa is None:
                raise InputError("a collect request needs the payer's UPI ID (--vpa)")
            if not self._settings.upi.collect_enabled:
                raise InputError("collect requests are off for this merchant")
        merchant_id = req.merchant_id or self._settings.merchant_id
        payee = home_payee(self._settings, merchant_id)
        return CheckedUpi(upi.flow, vpa, upi.note, merchant_id, payee)

    def digest(self, checked: object) -> tuple[str, ...]:
        """The flow, the payer's VPA and the note."""
        upi = _checked(checked)
        return (upi.flow, upi.vpa or "", upi.note)

    def open(self, checked: object) -> Opened:
        """The detail with its deadline; a collect's payer counts for the risk rules (a
        QR's payer is not known yet: only the terminal's rules apply)."""
        upi = _checked(checked)
        collect = upi.flow == "collect"
        s = self._settings.upi
        expiry = timedelta(seconds=s.collect_expiry_s if collect else s.link_expiry_s)
        detail = UpiDetail(
            flow=upi.flow,
            payee_vpa=upi.payee_vpa,
            payer_vpa=upi.vpa if collect else None,
            expires_at=self._clock.now() + expiry,
        )
        shown = {"upi_flow": upi.flow, **({"payer": mask_vpa(upi.vpa)} if upi.vpa else {})}
        payer = payer_fingerprint(self._vault, upi.vpa) if collect and upi.vpa else ""
        return Opened(detail={"upi": detail}, shown=shown, risk=RiskKey(payer, ""))

    async def authorize(
        self, host: TenderHost, payment: Payment, checked: object, *, step_up: bool
    ) -> Payment:
        """Have the PSP create the transaction (no step-up in UPI: the PIN is the
        payer's authentication)."""
        return await self._create(host, payment, _checked(checked).note)

    async def _create(self, host: TenderHost, payment: Payment, note: str) -> Payment:
        upi = _upi(payment)
        req = UpiTransactionRequest(
            merchant_id=payment.merchant_id,
            reference=payment.id,
            amount=payment.amount,
            note=note,
            flow=upi.flow,
            payer_vpa=upi.payer_vpa if upi.flow == "collect" else None,
            expires_at=upi.expires_at,
        )
        try:
            await self._board(payment.merchant_id)
            txn = await self.psp.create(req)
        except BankNotReached as exc:
            return self._fail(host, payment, f"the UPI network cannot be reached: {exc}")
        except BankRefused as exc:
            return self._fail(host, payment, str(exc))
        except BankUnavailable as exc:
            host.record("gateway", "payment.bank_failed", payment.id, reason=str(exc))
            lost = "The UPI network did not answer; the result is being checked"
            return host.save(payment.model_copy(update={"message": lost}))
        link = None
        if upi.flow != "collect":
            name = merchant_name(self._settings, payment.merchant_id)
            mcc = self._settings.upi.mcc
            fields = PaymentLink(
                upi.payee_vpa, name, payment.amount, payment.id, note, mcc, upi.flow
            )
            link = fields.link()
        detail = upi.model_copy(
            update={"link": link, "txn_id": txn.txn_id, "expires_at": txn.expires_at}
        )
        payment = payment.model_copy(update={"upi": detail})
        if txn.status in FINAL_STATES:  # a collect to an unknown VPA: XH at once
            return self._settle(host, payment, Outcome.of(txn), "psp")
        nxt = check_due(payment, 0, self._settings.upi.max_checks, self._settings.upi.first_check_s)
        update: dict[str, Any] = {
            "status": "pending",
            "upi": detail.model_copy(update={"next_check_at": nxt}),
            "response_code": txn.response_code,
            "message": "Waiting for the payer",
        }
        return moved(
            host,
            payment,
            update,
            payment.operator,
            "payment.pending",
            txn_id=txn.txn_id,
            flow=upi.flow,
            expires_at=txn.expires_at.isoformat(),
        )

    def _fail(self, host: TenderHost, payment: Payment, why: str) -> Payment:
        """The PSP never took the payment: declined, nothing to undo."""
        return not_taken(host, payment, why, "The UPI network did not take the payment: try again")

    def _secrets(self, merchant_id: str) -> list[str]:
        """The merchant's callback secrets, newest key first (derived, never stored)."""
        return self._vault.keyed_digests(f"upi-callback|{merchant_id}")

    async def _board(self, merchant_id: str) -> None:
        """Enrol the merchant with its PSP, once per process."""
        if merchant_id in self._boarded:
            return
        merchant = UpiMerchant(
            merchant_id=merchant_id,
            vpa=home_payee(self._settings, merchant_id),
            name=merchant_name(self._settings, merchant_id),
            mcc=self._settings.upi.mcc,
            callback_secret=self._secrets(merchant_id)[0],
        )
        await self.psp.board(merchant)
        self._boarded.add(merchant_id)

    # -- outcomes --------------------------------------------------------------------------
    def _settle(self, host: TenderHost, payment: Payment, out: Outcome, actor: str) -> Payment:
        """Apply a final outcome to an open payment (one write, audited, learnt)."""
        upi = _upi(payment).model_copy(update={"next_check_at": None})
        if out.payer_vpa:
            upi = upi.model_copy(update={"payer_vpa": out.payer_vpa})
        code = out.code
        update: dict[str, Any] = {"upi": upi, "rrn": out.rrn or payment.rrn}
        if out.status == "SUCCESS":
            code = "00"
            update.update(status="succeeded", amount_captured=payment.amount, message="Paid")
        elif out.status == "EXPIRED":
            code = "U69"
            update.update(status="expired", message="Nobody paid in time")
        elif out.status == "CANCELED" and code is None:
            update.update(status="canceled", message="Canceled: the switch was told")
        else:  # FAILURE, REVERSED, or canceled after a bank's silence (BT)
            code = code or "U30"
            reason = upi_reason(code)
            message = reason.text
            if out.status != "FAILURE":  # given up on: reversed, or refunded if it comes late
                message = f"{reason.text}: any debit is reversed"
            update.update(status="declined", decline_code=reason.decline_code, message=message)
        if out.status == "REVERSED":
            update["reversal"] = "debit reversed to the payer"
        update["response_code"] = code
        with host.step(payment.id):
            payment = host.save(payment.model_copy(update=update))
            host.record(
                actor,
                f"payment.{payment.status}",
                payment.id,
                response_code=code,
                rrn=out.rrn,
                **({"payer": mask_vpa(out.payer_vpa)} if out.payer_vpa else {}),
            )
            if payment.status in ("succeeded", "declined"):
                host.learn(payment)
        return payment

    async def _late_credit(self, host: TenderHost, payment: Payment, out: Outcome) -> Payment:
        """A credit for a payment that ended without it: refunded at once, recorded."""
        upi = _upi(payment)
        if upi.late_refund or upi.txn_id is None:
            return payment
        refund_id = f"re_{payment.id.removeprefix('pay_')}_late"
        req = UpiRefundRequest(
            refund_id=refund_id, txn_id=upi.txn_id, amount=payment.amount, note="late credit"
        )
        refund = await self.psp.refund(req)
        with host.step(payment.id):
            detail = upi.model_copy(update={"late_refund": refund_id})
            payment = host.amend(payment.model_copy(update={"upi": detail}))
            host.record(
                "gateway",
                "upi.late_credit_refunded",
                payment.id,
                refund=refund_id,
                amount=payment.amount,
                status=refund.status,
                rrn=out.rrn,
            )
        return payment

    # -- callbacks -----------------------------------------------------------------------
    @property
    def boarded(self) -> frozenset[str]:
        """The merchants this process boarded."""
        return frozenset(self._boarded)

    async def due(
        self,
        host: TenderHost,
        open_ids: Iterable[str],
        get: Callable[[str], Payment],
        now: datetime,
    ) -> list[str]:
        """The UPI payments to settle now (`Gateway.poll`): the pending ones whose check
        is due, and those with callbacks waiting (every merchant's drained first; a
        callback about no UPI payment of this gateway is audited and acknowledged).
        None without a PSP to reach."""
        if self._psp() is None:
            return []
        pending = [p for p in map(finder(get), open_ids) if p and p.upi and p.status == "pending"]
        due = {p.id for p in pending if (at := _upi(p).next_check_at) and at <= now}
        merchants = {self._settings.merchant_id, *self._boarded, *(p.merchant_id for p in pending)}
        for merchant_id in sorted(merchants):
            with contextlib.suppress(BankUnavailable, BankRefused):  # tried at the next poll
                await self.drain(host, merchant_id)
        for reference in list(self._inbox):
            payment = finder(get)(reference)
            if payment is not None and payment.upi is not None:
                due.add(reference)
                continue
            strays = self._inbox.pop(reference)
            for cb in strays.values():
                host.record(
                    "psp",
                    "upi.callback_refused",
                    reference,
                    callback=cb.id,
                    reason="no such payment",
                )
            with contextlib.suppress(BankUnavailable):
                for merchant_id in {cb.merchant_id for cb in strays.values()}:
                    ids = [cb.id for cb in strays.values() if cb.merchant_id == merchant_id]
                    await self.psp.ack(merchant_id, ids)
        return sorted(due)

    async def drain(self, host: TenderHost, merchant_id: str) -> None:
        """Take the merchant's new callbacks into the inbox, where each waits for its
        payment's turn (`status`); a forged one is audited and acknowledged, never
        applied. The merchant is boarded first (once per process)."""
        await self._board(merchant_id)
        refused = []
        secrets = self._secrets(merchant_id)
        for cb in await self.psp.callbacks(merchant_id):
            if any(callback_is_signed(cb, s) for s in secrets):
                self._inbox.setdefault(cb.reference, {})[cb.id] = cb
                continue
            refused.append(cb.id)
            host.record(
                "psp",
                "upi.callback_refused",
                cb.reference,
                callback=cb.id,
                reason="the signature does not match",
            )
        if refused:
            await self.psp.ack(merchant_id, refused)

    async def _apply_callbacks(self, host: TenderHost, payment: Payment) -> Payment:
        """Apply the payment's callbacks waiting in the inbox, oldest first; then
        acknowledge them (a callback applied twice changes nothing more)."""
        waiting = self._inbox.get(payment.id, {})
        done = []
        for cb in sorted(waiting.values(), key=lambda c: c.sent_at):
            payment = await self._on_callback(host, payment, cb)
            done.append(cb.id)
        if done:
            await self.psp.ack(payment.merchant_id, done)
            for cb_id in done:
                waiting.pop(cb_id, None)
            if not waiting:
                self._inbox.pop(payment.id, None)
        return payment

    async def _on_callback(self, host: TenderHost, payment: Payment, cb: UpiCallback) -> Payment:
        out = Outcome.of(cb)
        shown = {"payer": mask_vpa(cb.payer_vpa)} if cb.payer_vpa else {}
        details = {"callback": cb.id, "status": cb.status, "response_code": cb.response_code}
        # its own write: a step stores one audit event at most (the head then lags by one)
        host.record("psp", "upi.callback", payment.id, **details, rrn=cb.rrn, **shown)
        if payment.status in ("pending", "unknown") and cb.status in FINAL_STATES:
            return self._settle(host, payment, out, "psp")
        if cb.status == "SUCCESS" and payment.status != "succeeded":
            return await self._late_credit(host, payment, out)
        return payment

    # -- finding out -------------------------------------------------------------------
    async def status(self, host: TenderHost, payment: Payment, now: datetime) -> str | None:
        """Drain the merchant's callbacks and apply the payment's; then, for a payment
        still open, resume one whose creation was lost, and make the status checks due
        (the last one gives up: reverse or cancel). A note of what changed."""
        before = (payment.status, _upi(payment).late_refund)
        await self.drain(host, payment.merchant_id)
        payment = await self._apply_callbacks(host, payment)
        if payment.status == "unknown":
            payment = await self._create(host, payment, "")
        while payment.status == "pending":
            due = _upi(payment).next_check_at
            if due is None or due > now:
                break
            payment = await self._check(host, payment, now)
        upi = _upi(payment)
        if (payment.status, upi.late_refund) == before:
            return None
        if upi.late_refund and upi.late_refund != before[1]:
            return f"late credit refunded ({upi.late_refund})"
        return payment.status

    async def _check(self, host: TenderHost, payment: Payment, now: datetime) -> Payment:
        """One status check; after the last, give up on a transaction still pending."""
        upi = _upi(payment)
        assert upi.txn_id is not None  # pending: the PSP took it
        s = self._settings.upi
        txn = await self.psp.status(upi.txn_id)  # unanswered: still due, tried at the next poll
        checks = upi.checks + 1
        seen = {"check": checks, "status": txn.status, "response_code": txn.response_code}
        counted = upi.model_copy(update={"checks": checks})
        payment = payment.model_copy(update={"upi": counted})
        if txn.status not in FINAL_STATES and checks < s.max_checks:
            nxt = check_due(payment, checks, s.max_checks, s.first_check_s)
            update = {
                "upi": counted.model_copy(update={"next_check_at": nxt}),
                "response_code": txn.response_code,
                "message": upi_reason(txn.response_code).text,
            }
            with host.step(payment.id):
                host.record("gateway", "upi.status_check", payment.id, **seen)
                return host.save(payment.model_copy(update=update))
        host.record("gateway", "upi.status_check", payment.id, **seen)  # then the outcome
        if txn.status in FINAL_STATES:
            return self._settle(host, payment, Outcome.of(txn), "gateway")
        return await self._give_up(host, payment, txn, now)

    async def _give_up(
        self, host: TenderHost, payment: Payment, txn: UpiTransaction, now: datetime
    ) -> Payment:
        """No final answer after the last check: a debit is reversed, else the
        transaction withdrawn; the payment is declined with the bank's code."""
        debited = txn.status == "DEEMED" or txn.response_code in DEBITED_CODES
        try:
            final = await (self.psp.reverse if debited else self.psp.cancel)(txn.txn_id)
        except BankUnavailable as exc:
            host.record("gateway", "upi.reversal_failed", payment.id, reason=str(exc))
            again = now + timedelta(seconds=self._settings.upi.first_check_s)
            upi = _upi(payment).model_copy(update={"next_check_at": again})
            return host.save(payment.model_copy(update={"upi": upi}))
        out = Outcome.of(final)
        if final.status in ("REVERSED", "CANCELED") and out.code is None:
            out = Outcome(final.status, txn.response_code, final.rrn, final.payer_vpa)
        if out.status == "CANCELED" and out.code is None:  # nobody paid before the end
            out = Outcome("EXPIRED", "U69")
        return self._settle(host, payment, out, "gateway")

    # -- after the payment ---------------------------------------------------------------
    async def void(
        self, host: TenderHost, payment: Payment, operator: str, approver: str | None
    ) -> Payment:
        """The cashier gives up on a pending payment: the switch withdraws it (a debit
        already made is reversed; one the payer's bank is still working on is refunded
        when its credit comes, a late credit). Paid meanwhile: it succeeds instead."""
        upi = _upi(payment)
        if payment.status != "pending" or upi.txn_id is None:
            raise NotAllowed(f"payment {payment.id} is not waiting for the payer")
        txn = await self.psp.cancel(upi.txn_id)
        if txn.status in ("CANCELED", "REVERSED", "PENDING", "DEEMED"):
            message = "Canceled by the cashier" + {
                "REVERSED": ": the debit is reversed",
                "PENDING": ": if the payer's bank still pays, it is refunded",
                "DEEMED": ": if the payer's bank still pays, it is refunded",
            }.get(txn.status, "")
            update: dict[str, Any] = {
                "status": "canceled",
                "message": message,
                "upi": upi.model_copy(update={"next_check_at": None}),
                "approved_by": approver,
            }
            if txn.status == "REVERSED":
                update["reversal"] = "debit reversed to the payer"
            return moved(
                host, payment, update, approver or operator, "payment.canceled", reason="cashier"
            )
        return self._settle(host, payment, Outcome.of(txn), operator)

    async def refund(
        self, host: TenderHost, payment: Payment, refund_id: str, amount: int, day: date
    ) -> Refunded:
        """A new UPI credit to the payer, carrying the payment's txn id (up to 180 days
        after it). A refund the payer's bank has not confirmed yet is filed all the same."""
        upi = _upi(payment)
        if host.now() - payment.created_at > timedelta(days=REFUND_DAYS):
            raise NotAllowed(
                f"payment {payment.id} is more than {REFUND_DAYS} days old: UPI refunds end then"
            )
        if upi.txn_id is None:
            raise NotAllowed(f"payment {payment.id} has no UPI transaction to refund")
        req = UpiRefundRequest(refund_id=refund_id, txn_id=upi.txn_id, amount=amount)
        result = await self.psp.refund(req)
        if result.status == "SUCCESS":
            return Refunded(amount=result.amount, reference=result.rrn)
        if result.status in ("PENDING", "DEEMED"):
            host.record(
                "gateway",
                "upi.refund_pending",
                payment.id,
                refund=refund_id,
                code=result.response_code,
            )
            return Refunded(amount=result.amount, reference=result.rrn)
        raise NotAllowed(
            f"the UPI network refused the refund: {upi_reason(result.response_code).text}"
        )
