"""Taking a payment and everything after it: /v1/payments, capture, void, refunds.

(No `from __future__ import annotations`: FastAPI reads the handlers' annotations.)
"""

from fastapi import APIRouter

from gateway_core.acquirer_api import Frame
from gateway_core.cards import CardInput
from gateway_core.gateway import ChargeRequest
from gateway_core.payments import Payment
from gateway_core.service.dependencies import (
    Caller,
    Day,
    GatewayDep,
    IdempotencyKey,
    PaymentId,
    approval,
)
from gateway_core.service.models import (
    CancelBody,
    CaptureBody,
    PaymentCreate,
    PaymentList,
    RefundBody,
    VoidBody,
)

router = APIRouter()


@router.post("/payments", summary="Take a card payment (sale or pre-authorization)")
async def create_payment(
    body: PaymentCreate, caller: Caller, idempotency_key: IdempotencyKey, gateway: GatewayDep
) -> Payment:
    card = CardInput(pan=body.card.number, expiry=body.card.expiry, cvv=body.card.cvv)
    merchant_id = caller.merchant_id
    request = ChargeRequest(
        amount=body.amount,
        currency=body.currency or caller.rt.settings.currency,
        card=card,
        tip=body.tip,
        capture=body.capture_method,
        terminal_id=caller.key.terminal_id,
        merchant_id=merchant_id,
        idempotency_key=f"{merchant_id}/{idempotency_key}" if idempotency_key else None,
        operator=caller.operator(body),
    )
    return caller.shown(await gateway.charge(request))


@router.get("/payments/{payment_id}", summary="One payment, with its refunds")
async def get_payment(payment_id: PaymentId, caller: Caller) -> Payment:
    return caller.shown(caller.owned(payment_id))


@router.get("/payments", summary="The payments of a business day (today by default)")
async def list_payments(caller: Caller, day: Day, gateway: GatewayDep) -> PaymentList:
    payments = gateway.list_day(day)
    return PaymentList(
        data=[caller.shown(p) for p in payments if p.merchant_id == caller.merchant_id]
    )


@router.post("/payments/{payment_id}/capture", summary="Capture an authorization (once)")
async def capture(
    payment_id: PaymentId, caller: Caller, gateway: GatewayDep, body: CaptureBody | None = None
) -> Payment:
    caller.owned(payment_id)
    amount = body.amount if body else None
    done = await gateway.capture(payment_id, amount, operator=caller.operator(body))
    return caller.shown(done)


@router.post("/payments/{payment_id}/refresh", summary="Where a pending payment stands now")
async def refresh(payment_id: PaymentId, caller: Caller, gateway: GatewayDep) -> Payment:
    caller.owned(payment_id)
    return caller.shown(await gateway.refresh(payment_id))


@router.post("/payments/{payment_id}/cancel", summary="Give up on a payment waiting for the payer")
async def cancel(
    payment_id: PaymentId, caller: Caller, gateway: GatewayDep, body: CancelBody | None = None
) -> Payment:
    caller.owned(payment_id)
    return caller.shown(await gateway.cancel(payment_id, operator=caller.operator(body)))


@router.post("/payments/{payment_id}/void", summary="Cancel before capture (manager approves)")
async def void(
    payment_id: PaymentId, body: VoidBody, caller: Caller, gateway: GatewayDep
) -> Payment:
    caller.owned(payment_id)
    done = await gateway.void(payment_id, operator=caller.operator(body), approval=approval(body))
    return caller.shown(done)


@router.post("/payments/{payment_id}/refunds", summary="Refund (manager approves)")
async def refund(
    payment_id: PaymentId, body: RefundBody, caller: Caller, gateway: GatewayDep
) -> Payment:
    caller.owned(payment_id)
    done = await gateway.refund(
        payment_id, body.amount, operator=caller.operator(body), approval=approval(body)
    )
    return caller.shown(done)


@router.get("/payments/{payment_id}/frames", summary="The ISO 8583 frames (card masked)")
async def frames(payment_id: PaymentId, caller: Caller, gateway: GatewayDep) -> list[Frame]:
    caller.owned(payment_id)
    return await gateway.bank.frames(payment_id)
