"""The routed tender: a method's payments sent where the routing rules say, with
failover only when it cannot charge twice.

authorize asks `routing.route` for the processors, then tries them in order.
"simulated" is the method's own tender (the built-in acquirer: OTP step-up and all); its
answer is final. A real processor gets a `ConnectorCharge` whose idempotency key is the
payment's attempt there (`attempt_key`), and every attempt is audited
(`payment.attempt`: processor, outcome, reason; never card data):

- `BankNotReached` / `ProcessorDown` (nothing was processed) → the next processor;
- a decline, or the processor refusing the request itself (`InputError`: a bad key,
  a request it does not take) → final: no failover;
- `BankUnavailable` (sent, answer lost) → `status(idempotency_key=...)`: found → that
  is the answer (no second charge); None (known not to exist) → the next processor;
  still unknown → the payment stays `unknown` at that processor, for repair.

Every later step (OTP, capture, void, refund, status) goes to the payment's own
processor: the built-in one when `payment.processor` is None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Literal

from gateway_core.cards import CheckedCard
from gateway_core.errors import BankNotReached, BankUnavailable, InputError
from gateway_core.payments import ChargeRequest, NotAllowed, Payment, reason_for
from gateway_core.ports import Opened, Polled, Refunded, Returning, Tender, TenderHost
from gateway_core.ports.connectors import (
    ConnectorCard,
    ConnectorCharge,
    ConnectorResult,
    ProcessorDown,
)
from gateway_core.routing import BUILT_IN, SIMULATED, route
from gateway_core.settings import RouteRule
from gateway_core.tenders.netbanking import CheckedNb
from gateway_core.tenders.processed import OUTCOMES, AtProcessor, attempted
from gateway_core.tenders.processors import Processors, attempt_key
from gateway_core.tenders.upi import CheckedUpi

NOT_AT = {"processor": None}  # an attempt that failed over: the payment is not there


def charge_for(payment: Payment, checked: object, key: str) -> ConnectorCharge:
    """What a processor is asked for `payment` (a card's number in memory only)."""
    card, vpa, bank = None, None, None
    if isinstance(checked, CheckedCard):
        card = ConnectorCard(
            pan=checked.pan,
            exp_month=checked.expiry.month,
            exp_year=checked.expiry.year,
            cvv=checked.cvv,
        )
    elif isinstance(checked, CheckedUpi):
        vpa = checked.vpa
    elif isinstance(checked, CheckedNb):
        bank = checked.bank
    method: Literal["card", "upi", "netbanking"] = "card"
    if payment.method in ("upi", "netbanking"):
        method = "upi" if payment.method == "upi" else "netbanking"
    return ConnectorCharge(
        payment_id=payment.id,
        idempotency_key=key,
        merchant_id=payment.merchant_id,
        amount=payment.amount,
        currency=payment.currency,
        capture=payment.capture_method == "automatic",
        method=method,
        card=card,
        vpa=vpa,
        bank=bank,
        description=f"paygate {payment.id}",
    )


class RoutedTender:
    """`inner` (the method's built-in tender) behind the routing rules."""

    def __init__(self, inner: Tender, rules: Sequence[RouteRule], processors: Processors) -> None:
        self.inner = inner
        self.method = inner.method
        self._rules = rules
        self.processors = processors
        self._at = AtProcessor(processors)

    # -- the new payment: the method's own checks -----------------------------------------
    def check(self, req: ChargeRequest, today: date) -> object:
        return self.inner.check(req, today)

    def digest(self, checked: object) -> tuple[str, ...]:
        return self.inner.digest(checked)

    def open(self, checked: object) -> Opened:
        return self.inner.open(checked)

    async def authorize(
        self, host: TenderHost, payment: Payment, checked: object, *, step_up: bool
    ) -> Payment:
        """Try the routed processors in order (see the module's docstring)."""
        brand = payment.card.brand if payment.card else None
        names = route(
            self._rules,
            payment.method,
            payment.currency,
            payment.amount,
            brand,
            payment.merchant_id,
        )
        if names == BUILT_IN:
            return await self.inner.authorize(host, payment, checked, step_up=step_up)
        for name in names:
            if name == SIMULATED:
                payment = await self.inner.authorize(host, payment, checked, step_up=step_up)
                outcome = OUTCOMES.get(payment.status, payment.status)
                return attempted(host, payment, SIMULATED, outcome)
            payment, final = await self._try(host, payment, checked, name)
            if final:
                return payment
        reason = reason_for("91")
        update = {
            "status": "declined",
            "response_code": "91",
            "decline_code": reason.decline_code,
            "message": "No processor could take the payment",
        }
        with host.step(payment.id):
            payment = host.save(payment.model_copy(update=update))
            host.record("gateway", "payment.declined", payment.id, response_code="91")
        return payment

    async def _try(
        self, host: TenderHost, payment: Payment, checked: object, name: str
    ) -> tuple[Payment, bool]:
        """One attempt at processor `name`: the payment as stored, and whether it ends
        there (False: the next processor may be tried)."""
        connector = self.processors.get(name)
        if payment.method not in connector.methods:
            why = f"takes no {payment.method}"
            return attempted(host, payment, name, "skipped", why, failover=True), False
        key = attempt_key(payment.id, name)
        at = {"processor": name, "processor_reference": None}
        payment = host.save(payment.model_copy(update=at))  # repair asks it if the answer is lost
        try:
            result = await connector.authorize(charge_for(payment, checked, key))
        except (BankNotReached, ProcessorDown) as exc:
            down = attempted(host, payment, name, "down", str(exc), failover=True, update=NOT_AT)
            return down, False
        except BankUnavailable as exc:
            return await self._lost(host, payment, name, key, str(exc))
        except InputError as exc:  # the processor refused the request itself: final
            update = {
                "status": "declined",
                "response_code": "96",
                "decline_code": "processing_error",
                "message": f"{name} refused the payment: {exc}",
            }
            return attempted(host, payment, name, "refused", str(exc), update=update), True
        return await self._settled(host, payment, result), True

    async def _lost(
        self, host: TenderHost, payment: Payment, name: str, key: str, why: str
    ) -> tuple[Payment, bool]:
        """Sent, answer lost: asked by its key, found is the answer, known not to exist
        lets the next processor try, still unknown leaves the payment for repair."""
        try:
            result = await self.processors.get(name).status(idempotency_key=key)
        except BankUnavailable as exc:
            update = {
                "status": "unknown",
                "message": f"{name} did not answer; the result is being checked",
            }
            return attempted(host, payment, name, "unknown", str(exc), update=update), True
        if result is None:
            why = f"{why}; not processed there"
            gone = attempted(
                host, payment, name, "not_processed", why, failover=True, update=NOT_AT
            )
            return gone, False
        return await self._settled(host, payment, result), True

    async def _settled(
        self, host: TenderHost, payment: Payment, result: ConnectorResult
    ) -> Payment:
        """The processor's answer stored; a sale it only authorized is captured."""
        payment = self._at.settle(host, payment, result, payment.operator)
        if payment.status == "requires_capture" and payment.capture_method == "automatic":
            return await self._at.capture(host, payment, payment.amount, payment.operator)
        return payment

    # -- after authorization: at the payment's own processor --------------------------------
    async def confirm(
        self, host: TenderHost, payment: Payment, answer: str, operator: str
    ) -> Payment:
        if payment.processor is not None:
            raise NotAllowed(
                f"payment {payment.id} is authenticated at {payment.processor}, not by an OTP here"
            )
        return await self.inner.confirm(host, payment, answer, operator)

    async def resend(self, host: TenderHost, payment: Payment, operator: str) -> Payment:
        if payment.processor is not None:
            raise NotAllowed(f"payment {payment.id} has no OTP here: it is at {payment.processor}")
        return await self.inner.resend(host, payment, operator)

    async def capture(
        self, host: TenderHost, payment: Payment, amount: int, operator: str
    ) -> Payment:
        if payment.processor is None:
            return await self.inner.capture(host, payment, amount, operator)
        return await self._at.capture(host, payment, amount, operator)

    async def void(
        self, host: TenderHost, payment: Payment, operator: str, approver: str | None
    ) -> Payment:
        if payment.processor is None:
            return await self.inner.void(host, payment, operator, approver)
        return await self._at.void(host, payment, operator, approver)

    async def refund(
        self, host: TenderHost, payment: Payment, refund_id: str, amount: int, day: date
    ) -> Refunded:
        if payment.processor is None:
            return await self.inner.refund(host, payment, refund_id, amount, day)
        return await self._at.refund(payment, refund_id, amount)

    async def status(self, host: TenderHost, payment: Payment, now: datetime) -> str | None:
        if payment.processor is None:
            return await self.inner.status(host, payment, now)
        return await self._at.status(host, payment, now)


class RoutedPolled(RoutedTender):
    """A routed method whose built-in payments resolve by themselves (UPI)."""

    async def due(
        self,
        host: TenderHost,
        open_ids: Iterable[str],
        get: Callable[[str], Payment],
        now: datetime,
    ) -> list[str]:
        assert isinstance(self.inner, Polled)  # built so by `routed`
        return await self.inner.due(host, open_ids, get, now)


class RoutedReturning(RoutedPolled):
    """A routed method whose customer also comes back by a redirect (net banking)."""

    async def returned(self, host: TenderHost, payment: Payment, answer: object) -> Payment:
        assert isinstance(self.inner, Returning)  # built so by `routed`
        return await self.inner.returned(host, payment, answer)


def routed(inner: Tender, rules: Sequence[RouteRule], processors: Processors) -> RoutedTender:
    """`inner` behind the rules, as polled and returning as it is."""
    if isinstance(inner, Returning) and isinstance(inner, Polled):
        return RoutedReturning(inner, rules, processors)
    if isinstance(inner, Polled):
        return RoutedPolled(inner, rules, processors)
    return RoutedTender(inner, rules, processors)
