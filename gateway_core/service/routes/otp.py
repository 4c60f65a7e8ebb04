"""The issuer's step-up: confirm a payment with its OTP, ask for a new one, and (demo
banks only) read the simulated phones' texts.

(No `from __future__ import annotations`: FastAPI reads the handlers' annotations.)
"""

from fastapi import APIRouter

from gateway_core.acquirer_api import Sms
from gateway_core.service.dependencies import Caller, GatewayDep, PaymentId
from gateway_core.service.models import ConfirmBody, Operated, PaymentView

router = APIRouter()
demo = APIRouter()  # mounted only when the banks are the embedded simulator


@router.post("/payments/{payment_id}/confirm", summary="Enter the OTP the bank sent")
async def confirm(
    payment_id: PaymentId, body: ConfirmBody, caller: Caller, gateway: GatewayDep
) -> PaymentView:
    caller.owned(payment_id)
    done = await gateway.confirm_otp(payment_id, body.otp, operator=caller.operator(body))
    return caller.shown(done)


@router.post("/payments/{payment_id}/resend", summary="Ask the bank for a new OTP")
async def resend(
    payment_id: PaymentId, caller: Caller, gateway: GatewayDep, body: Operated | None = None
) -> PaymentView:
    caller.owned(payment_id)
    return caller.shown(await gateway.resend_otp(payment_id, operator=caller.operator(body)))


@demo.get("/demo/outbox", summary="The simulated phones' text messages (demo banks)")
async def outbox(caller: Caller, gateway: GatewayDep) -> list[Sms]:
    return await gateway.bank.outbox(merchant_id=caller.merchant_id)
