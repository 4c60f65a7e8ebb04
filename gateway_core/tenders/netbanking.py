"""The net banking tender: the customer pays in their bank's own pages (the
`NetbankingBanks` port), comes back through a signed redirect, and the bank confirms
server to server.

authorize: the merchant is boarded at the bank (once per process; the secret returns
are signed with is derived from the key file and kept in memory only), the bank creates
the transaction, and the payment is saved `pending` with the bank's login page, its
expiry and first status check. The customer's return (`returned`) is checked (the
signature in constant time, the payment, bank and amount, a bank reference never taken
before), then the bank is asked for the status, which decides. Status checks at created
+ first_check_s, at expiry, at expiry + first_check_s find what a lost redirect never
said; after the last one a transaction still not paid expires the payment (EX). A debit
found for a payment that ended without it ("late debit") is refunded at once; the
payment keeps its state. The customer's login and password never reach the gateway.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from gateway_core.clock import Clock
from gateway_core.errors import BankNotReached, BankRefused, BankUnavailable, InputError
from gateway_core.money import Money
from gateway_core.netbanking_api import (
    MAX_NB_AMOUNT,
    TEST_BANKS,
    NbMerchant,
    NbRefundRequest,
    NbReturn,
    NbTransaction,
    NbTransactionRequest,
    nb_reason,
    return_is_signed,
)
from gateway_core.payments import (
    OPEN_STATUSES,
    ChargeRequest,
    NetbankingDetail,
    NetbankingInput,
    NotAllowed,
    Payment,
)
from gateway_core.ports import NetbankingBanks, Opened, Refunded, TenderHost
from gateway_core.presentation import format_money
from gateway_core.settings import Settings
from gateway_core.tenders.base import Refusals, moved, not_taken
from gateway_core.tenders.link import public_url
from gateway_core.tenders.waiting import check_due, finder, merchant_name
from gateway_core.vault import Vault

DECIDED = ("SUCCESS", "FAILURE", "CANCELED")  # the bank's word is final (EXPIRED: not yet)


def return_url(settings: Settings) -> str:
    """Where the banks send the customer back: the gateway's public address (`paygate
    serve`'s own, or the sandbox's when none is set) + /v1/netbanking/return."""
    return f"{public_url(settings)}/v1/netbanking/return"


def offered_banks(settings: Settings) -> list[str]:
    """The banks the merchant takes net banking payments at (known ones, in its order)."""
    return [bank for bank in settings.netbanking.banks if bank in TEST_BANKS]


def mask_account(account: str | None) -> str | None:
    """An account number as it may be kept: its last four digits only (XXXX1234)."""
    return None if account is None else f"XXXX{account[-4:]}"


@dataclass(frozen=True)
class CheckedNb:
    """A net banking request as checked: the bank and the merchant paid."""

    bank: str
    bank_name: str
    merchant_id: str


def _checked(checked: object) -> CheckedNb:
    if not isinstance(checked, CheckedNb):
        raise TypeError("the net banking tender is given a checked net banking request")
    return checked


def _nb(payment: Payment) -> NetbankingDetail:
    if payment.netbanking is None:
        raise NotAllowed(f"payment {payment.id} is not a net banking payment")
    return payment.netbanking


def _rupees(paise: int) -> str:
    return format_money(Money(paise, "INR"))


class NetbankingTender(Refusals):
    """Net banking through the banks' pages; the banks are asked for on every call."""

    method = "netbanking"

    def __init__(
        self,
        vault: Vault,
        banks: Callable[[], NetbankingBanks | None],
        settings: Settings,
        clock: Clock,
    ) -> None:
        self._vault = vault
        self._banks = banks
        self._settings = settings
        self._clock = clock
        self._secrets: dict[tuple[str, str], str] = {}  # (merchant, bank) → the bank's

    @property
    def banks(self) -> NetbankingBanks:
        """The banks' client now."""
        if (banks := self._banks()) is None:
            raise InputError("this gateway has no net banking banks to reach")
        return banks

    # -- the new payment ---------------------------------------------------------------
    def check(self, req: ChargeRequest, today: date) -> CheckedNb:
        """INR, at most ₹10,00,000.00, paid at once, at a bank the merchant offers."""
        nb = req.netbanking or NetbankingInput(bank="")
        if req.currency.upper() != "INR":
            raise InputError("net banking takes rupees only (INR)")
        if req.amount > MAX_NB_AMOUNT:
            raise InputError(f"a net banking payment is at most {_rupees(MAX_NB_AMOUNT)}")
        if req.capture != "automatic":
            raise InputError("a net banking payment is paid at once: it has no manual capture")
        bank = nb.bank.strip().upper()
        offered = offered_banks(self._settings)
        if bank not in offered:
            raise InputError(f"no net banking at bank {bank!r}: choose {', '.join(offered)}")
        merchant_id = req.merchant_id or self._settings.merchant_id
        return CheckedNb(bank, TEST_BANKS[bank], merchant_id)

    def digest(self, checked: object) -> tuple[str, ...]:
        """The bank."""
        return (_checked(checked).bank,)

    def open(self, checked: object) -> Opened:
        """The detail with its deadline (the risk rules do not apply: who pays is the
        bank's to know)."""
        nb = _checked(checked)
        expiry = timedelta(seconds=self._settings.netbanking.expiry_s)
        detail = NetbankingDetail(
            bank=nb.bank, bank_name=nb.bank_name, expires_at=self._clock.now() + expiry
        )
        return Opened(detail={"netbanking": detail}, shown={"bank": nb.bank})

    async def authorize(
        self, host: TenderHost, payment: Payment, checked: object, *, step_up: bool
    ) -> Payment:
        """Have the bank create the transaction (the bank authenticates the customer)."""
        return await self._create(host, payment)

    async def _create(self, host: TenderHost, payment: Payment) -> Payment:
        nb = _nb(payment)
        req = NbTransactionRequest(
            bank=nb.bank,
            merchant_id=payment.merchant_id,
            payment_id=payment.id,
            amount=payment.amount,
            return_url=return_url(self._settings),
            expires_at=nb.expires_at,
        )
        try:
            await self._board(payment.merchant_id, nb.bank)
            txn = await self.banks.create(req)
        except BankNotReached as exc:
            return self._fail(host, payment, f"the bank cannot be reached: {exc}")
        except BankRefused as exc:
            return self._fail(host, payment, str(exc))
        except BankUnavailable as exc:
            host.record("gateway", "payment.bank_failed", payment.id, reason=str(exc))
            lost = "The bank did not answer; the result is being checked"
            return host.save(payment.model_copy(update={"message": lost}))
        detail = nb.model_copy(
            update={
                "bank_txn": txn.bank_txn,
                "login_url": txn.login_url,
                "expires_at": txn.expires_at,
            }
        )
        payment = payment.model_copy(update={"netbanking": detail})
        if txn.state in DECIDED:
            return self._settle(host, payment, txn, "bank")
        s = self._settings.netbanking
        nxt = check_due(payment.created_at, txn.expires_at, 0, s.max_checks, s.first_check_s)
        update: dict[str, Any] = {
            "status": "pending",
            "netbanking": detail.model_copy(update={"next_check_at": nxt}),
            "message": f"Waiting for the customer at {nb.bank_name}",
        }
        return moved(
            host,
            payment,
            update,
            payment.operator,
            "payment.pending",
            bank=nb.bank,
            bank_txn=txn.bank_txn,
            expires_at=txn.expires_at.isoformat(),
        )

    def _fail(self, host: TenderHost, payment: Payment, why: str) -> Payment:
        """The bank never took the payment: declined, nothing to undo."""
        return not_taken(
            host,
            payment,
            why,
            "The bank did not take the payment: try again or choose another bank",
        )

    def _derived(self, merchant_id: str, bank: str) -> list[str]:
        """The secret the gateway offers the bank, newest key first (never stored)."""
        return self._vault.keyed_digests(f"nb-return|{merchant_id}|{bank}")

    async def _board(self, merchant_id: str, bank: str) -> None:
        """Enrol the merchant at the bank, once per process, offering the derived secret;
        keep the secret it answers (boarded before a key rotation: the one it has)."""
        if (merchant_id, bank) in self._secrets:
            return
        offered = self._derived(merchant_id, bank)[0]
        merchant = NbMerchant(
            merchant_id=merchant_id,
            name=merchant_name(self._settings, merchant_id),
            secret=offered,
        )
        try:
            answer = await self.banks.board(bank, merchant)
        except BankRefused:  # boarded with another secret: the bank answers its own
            answer = await self.banks.board(bank, merchant.model_copy(update={"secret": None}))
        self._secrets[(merchant_id, bank)] = answer.secret or offered

    # -- outcomes --------------------------------------------------------------------------
    def _settle(
        self, host: TenderHost, payment: Payment, txn: NbTransaction, actor: str
    ) -> Payment:
        """Apply the bank's final word to an open payment (one write, audited)."""
        nb = _nb(payment).model_copy(update={"next_check_at": None})
        code = txn.code
        update: dict[str, Any] = {}
        if txn.state == "SUCCESS":
            code = "00"
            nb = nb.model_copy(
                update={"bank_ref": txn.bank_ref, "account": mask_account(txn.account)}
            )
            update.update(
                status="succeeded", amount_captured=payment.amount, rrn=txn.bank_ref, message="Paid"
            )
        elif txn.state == "CANCELED":
            code = code or "CX"
            update.update(status="canceled", message=nb_reason(code).text)
        elif txn.state == "EXPIRED":
            code = "EX"
            update.update(status="expired", message=nb_reason(code).text)
        else:
            reason = nb_reason(code or "91")
            update.update(status="declined", decline_code=reason.decline_code, message=reason.text)
        update.update(netbanking=nb, response_code=code)
        return moved(
            host,
            payment,
            update,
            actor,
            f"payment.{update['status']}",
            response_code=code,
            bank_ref=txn.bank_ref,
        )

    async def _apply(
        self, host: TenderHost, payment: Payment, txn: NbTransaction, actor: str
    ) -> Payment:
        """The bank's answer: an open payment ends when the bank has decided; a debit for
        a payment that ended without it is refunded."""
        if payment.status in OPEN_STATUSES:
            return self._settle(host, payment, txn, actor) if txn.state in DECIDED else payment
        if txn.state == "SUCCESS" and payment.status != "succeeded":
            return await self._late_debit(host, payment, txn)
        return payment

    async def _late_debit(self, host: TenderHost, payment: Payment, txn: NbTransaction) -> Payment:
        """A debit for a payment that ended without it: refunded at once, recorded."""
        nb = _nb(payment)
        if nb.late_refund or txn.bank_ref is None:
            return payment
        refund_id = f"re_{payment.id.removeprefix('pay_')}_late"
        req = NbRefundRequest(
            bank=nb.bank,
            refund_id=refund_id,
            merchant_id=payment.merchant_id,
            payment_id=payment.id,
            bank_ref=txn.bank_ref,
            amount=txn.amount,
        )
        refund = await self.banks.refund(req)
        with host.step(payment.id):
            detail = nb.model_copy(update={"late_refund": refund_id})
            payment = host.amend(payment.model_copy(update={"netbanking": detail}))
            host.record(
                "gateway",
                "netbanking.late_debit_refunded",
                payment.id,
                refund=refund_id,
                amount=txn.amount,
                state=refund.state,
                bank_ref=txn.bank_ref,
            )
        return payment

    # -- the customer's return ---------------------------------------------------------
    async def returned(self, host: TenderHost, payment: Payment, answer: object) -> Payment:
        """The bank's signed redirect: refused (audited, nothing changes, `InputError`)
        unless it is this payment's, signed, for its amount and bank, with a bank
        reference the bank confirms; then the bank's status decides."""
        if not isinstance(answer, NbReturn):
            raise InputError("a net banking payment takes the bank's signed return only")
        nb = _nb(payment)
        with contextlib.suppress(BankUnavailable):  # the secret offered then still verifies
            await self._board(payment.merchant_id, nb.bank)
        why = self._refusal(payment, answer)
        txn = None
        if why is None:
            with contextlib.suppress(BankUnavailable):  # the status checks will tell
                txn = await self.banks.status(nb.bank, payment.id)
            if txn is not None and answer.status == "SUCCESS" and txn.bank_ref != answer.bank_ref:
                why = f"bank reference {answer.bank_ref} is not this payment's at the bank"
        shown = {"status": answer.status, "code": answer.code, "bank_ref": answer.bank_ref}
        if why is not None:
            host.record("bank", "netbanking.return_refused", payment.id, reason=why, **shown)
            raise InputError(f"the bank's answer is refused: {why}")
        host.record("bank", "netbanking.return", payment.id, **shown)
        return payment if txn is None else await self._apply(host, payment, txn, "bank")

    def _refusal(self, payment: Payment, ret: NbReturn) -> str | None:
        """Why a return cannot be taken (None: it can, once the bank confirms it)."""
        nb = _nb(payment)
        key = (payment.merchant_id, nb.bank)
        secrets = [self._secrets[key]] if key in self._secrets else self._derived(*key)
        if ret.payment_id != payment.id:
            return f"it is about payment {ret.payment_id}"
        if ret.merchant_id != payment.merchant_id:
            return f"it is about merchant {ret.merchant_id}"
        if ret.bank != nb.bank:
            return f"it comes from bank {ret.bank}, not {nb.bank}"
        if not any(return_is_signed(ret, secret) for secret in secrets):
            return "the signature does not match"
        if ret.amount != payment.amount:
            return (
                f"its amount {_rupees(ret.amount)} is not the payment's {_rupees(payment.amount)}"
            )
        if payment.status == "succeeded":
            return f"the payment already has the bank's answer (bank reference {nb.bank_ref})"
        if nb.late_refund:
            return (
                f"the payment already has the bank's answer (its debit refunded: {nb.late_refund})"
            )
        if payment.status not in OPEN_STATUSES and ret.status != "SUCCESS":
            return f"the payment is already {payment.status_word}"
        return None

    # -- finding out -------------------------------------------------------------------
    async def due(
        self,
        host: TenderHost,
        open_ids: Iterable[str],
        get: Callable[[str], Payment],
        now: datetime,
    ) -> list[str]:
        """The pending net banking payments whose status check is due (`Gateway.poll`);
        none without banks to reach."""
        if self._banks() is None:
            return []
        pending = [p for p in map(finder(get), open_ids) if p and p.status == "pending"]
        return sorted(
            p.id
            for p in pending
            if p.netbanking and (at := p.netbanking.next_check_at) is not None and at <= now
        )

    async def status(self, host: TenderHost, payment: Payment, now: datetime) -> str | None:
        """Resume a payment whose creation was lost, make the status checks due (the
        last one expires it), and find a debit for a payment that ended without it.
        A note of what changed."""
        before = (payment.status, _nb(payment).late_refund)
        if payment.status == "unknown":
            payment = await self._create(host, payment)
        elif payment.status not in OPEN_STATUSES and payment.status != "succeeded":
            nb = _nb(payment)
            if nb.late_refund is None and nb.bank_txn is not None:
                txn = await self.banks.status(nb.bank, payment.id)
                payment = await self._apply(host, payment, txn, "gateway")
        while payment.status == "pending":
            due = _nb(payment).next_check_at
            if due is None or due > now:
                break
            payment = await self._check(host, payment)
        late = _nb(payment).late_refund
        if (payment.status, late) == before:
            return None
        return f"late debit refunded ({late})" if late != before[1] else payment.status

    async def _check(self, host: TenderHost, payment: Payment) -> Payment:
        """One status check; after the last, a transaction not paid expires the payment."""
        nb = _nb(payment)
        s = self._settings.netbanking
        txn = await self.banks.status(nb.bank, payment.id)  # unanswered: tried at the next poll
        checks = nb.checks + 1
        seen = {"check": checks, "state": txn.state, "code": txn.code}
        counted = nb.model_copy(update={"checks": checks})
        payment = payment.model_copy(update={"netbanking": counted})
        if txn.state not in DECIDED and checks < s.max_checks:
            nxt = check_due(
                payment.created_at, nb.expires_at, checks, s.max_checks, s.first_check_s
            )
            update = {"netbanking": counted.model_copy(update={"next_check_at": nxt})}
            with host.step(payment.id):
                host.record("gateway", "netbanking.status_check", payment.id, **seen)
                return host.save(payment.model_copy(update=update))
        host.record("gateway", "netbanking.status_check", payment.id, **seen)  # then the outcome
        if txn.state not in DECIDED:
            txn = txn.model_copy(update={"state": "EXPIRED", "code": "EX"})
        return self._settle(host, payment, txn, "gateway")

    # -- after the payment ---------------------------------------------------------------
    async def void(
        self, host: TenderHost, payment: Payment, operator: str, approver: str | None
    ) -> Payment:
        """The cashier gives up on a pending payment: canceled here, the bank's
        transaction left to expire (a debit made later is refunded: a late debit). Paid
        or ended at the bank meanwhile: that outcome instead."""
        nb = _nb(payment)
        if payment.status != "pending":
            raise NotAllowed(f"payment {payment.id} is not waiting for the customer")
        with contextlib.suppress(BankUnavailable):  # not known: canceled all the same
            txn = await self.banks.status(nb.bank, payment.id)
            if txn.state in DECIDED:
                return self._settle(host, payment, txn, "bank")
        update: dict[str, Any] = {
            "status": "canceled",
            "message": "Canceled by the cashier: a debit the bank still makes is refunded",
            "netbanking": nb.model_copy(update={"next_check_at": None}),
            "approved_by": approver,
        }
        return moved(
            host, payment, update, approver or operator, "payment.canceled", reason="cashier"
        )

    async def refund(
        self, host: TenderHost, payment: Payment, refund_id: str, amount: int, day: date
    ) -> Refunded:
        """A new bank transaction crediting the customer, against the debit's reference."""
        nb = _nb(payment)
        if nb.bank_ref is None:
            raise NotAllowed(f"payment {payment.id} has no bank debit to refund")
        req = NbRefundRequest(
            bank=nb.bank,
            refund_id=refund_id,
            merchant_id=payment.merchant_id,
            payment_id=payment.id,
            bank_ref=nb.bank_ref,
            amount=amount,
        )
        result = await self.banks.refund(req)
        if result.state != "SUCCESS":
            raise NotAllowed(f"the bank refused the refund: {nb_reason(result.code).text}")
        return Refunded(amount=result.amount, reference=result.refund_ref)
