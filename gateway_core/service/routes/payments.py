"""Taking a payment and everything after it: /v1/payments (card or UPI), the QR of a
UPI payment, refresh, cancel, capture, void, refunds.

(No `from __future__ import annotations`: FastAPI reads the handlers' annotations.)
"""

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from gateway_core.acquirer_api import Frame
from gateway_core.cards import CardInput
from gateway_core.dashboard import day_page
from gateway_core.errors import InputError, RecordConflict
from gateway_core.gateway import ChargeRequest, Gateway, NotAllowed
from gateway_core.payments import CashInput, Payment, UpiInput
from gateway_core.qr import qr_png, qr_svg
from gateway_core.service.dependencies import (
    Caller,
    ClockDep,
    Day,
    GatewayDep,
    IdempotencyKey,
    PaymentId,
    Terminal,
    approval,
)
from gateway_core.service.models import (
    CancelBody,
    CaptureBody,
    PaymentCreate,
    PaymentList,
    PaymentView,
    RefundBody,
    UpiBody,
    VoidBody,
)
from gateway_core.service.responses import invalid
from gateway_core.service.routes.netbanking import netbanking_input
from gateway_core.settings import Settings
from gateway_core.settlement import Settlement
from gateway_core.upi_api import MAX_UPI_AMOUNT
from gateway_core.upi_link import check_vpa

router = APIRouter()
QR_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def _card(body: PaymentCreate) -> CardInput:
    """A card payment's card; a card body with UPI fields is refused (422)."""
    if body.upi is not None:
        raise invalid("body", "upi", "a card payment takes no upi fields (method is card)")
    if body.netbanking is not None:
        raise invalid("body", "netbanking", "a card payment takes no bank (method is card)")
    if body.card is None:
        raise invalid("body", "card", "a card payment needs its card", missing=True)
    return CardInput(pan=body.card.number, expiry=body.card.expiry, cvv=body.card.cvv)


def _upi(body: PaymentCreate, settings: Settings) -> UpiInput:
    """A UPI payment's flow, checked before anything is stored (422, one line)."""
    if body.card is not None:
        raise invalid("body", "card", "a UPI payment takes no card")
    if body.netbanking is not None:
        raise invalid("body", "netbanking", "a UPI payment takes no bank")
    if (body.currency or settings.currency).upper() != "INR":
        raise invalid("body", "currency", "UPI takes rupees only (INR)")
    if body.amount > MAX_UPI_AMOUNT:
        raise invalid("body", "amount", "a UPI payment is at most ₹1,00,000.00")
    if body.capture_method != "automatic":
        raise invalid("body", "capture_method", "a UPI payment is captured at once (automatic)")
    upi = body.upi or UpiBody()
    if upi.flow != "collect":
        if upi.vpa is not None:
            raise invalid("body", "upi.vpa", "only a collect request names the payer's UPI ID")
        return UpiInput(flow=upi.flow, note=upi.note)
    if not settings.upi.collect_enabled:
        raise invalid("body", "upi.flow", "collect requests are off for this merchant")
    if upi.vpa is None:
        raise invalid("body", "upi.vpa", "a collect request needs the payer's UPI ID", missing=True)
    try:
        vpa = check_vpa(upi.vpa)
    except InputError:
        raise invalid("body", "upi.vpa", "not a UPI ID (like name@bank)") from None
    return UpiInput(flow="collect", vpa=vpa, note=upi.note)


def _cash(body: PaymentCreate) -> CashInput:
    """A cash payment's amount tendered; a card, UPI or net banking part is refused (422)."""
    other = [name for name in ("card", "upi", "netbanking") if getattr(body, name) is not None]
    if other:
        raise invalid("body", other[0], f"a cash payment takes no {other[0]} fields")
    if body.cash is None:
        raise invalid("body", "cash", "a cash payment needs cash.tendered", missing=True)
    return CashInput(tendered=body.cash.tendered)


def charge_request(
    body: PaymentCreate, caller: Terminal, idempotency_key: str | None
) -> ChargeRequest:
    """The payment a body asks for, its method's input checked (422, one line), from the
    caller's terminal, its key scoped to the caller's merchant (a bill's part too)."""
    settings = caller.rt.settings
    card = _card(body) if body.method == "card" else None
    upi = _upi(body, settings) if body.method == "upi" else None
    nb = netbanking_input(body, settings) if body.method == "netbanking" else None
    if body.cash is not None and body.method != "cash":
        raise invalid("body", "cash", "only a cash payment (method cash) takes cash fields")
    cash = _cash(body) if body.method == "cash" else None
    given = [name for name in ("card", "upi", "netbanking") if getattr(body, name) is not None]
    if body.method == "link" and given:
        raise invalid("body", given[0], "a payment link takes no method: the customer picks")
    merchant_id = caller.merchant_id
    return ChargeRequest(
        amount=body.amount,
        currency=body.currency or settings.currency,
        method=body.method,
        card=card,
        upi=upi,
        netbanking=nb,
        cash=cash,
        return_url=body.return_url,
        tip=body.tip,
        capture=body.capture_method,
        terminal_id=caller.key.terminal_id,
        merchant_id=merchant_id,
        idempotency_key=f"{merchant_id}/{idempotency_key}" if idempotency_key else None,
        operator=caller.operator(body),
    )


@router.post("/payments", summary="Take a payment: card or UPI")
async def create_payment(
    body: PaymentCreate, caller: Caller, idempotency_key: IdempotencyKey, gateway: GatewayDep
) -> PaymentView:
    request = charge_request(body, caller, idempotency_key)
    try:
        payment = await gateway.charge(request)
    except RecordConflict:  # another gateway process took the same key at the same time
        if request.idempotency_key is None:
            raise
        known = await gateway.charge(request)  # now the key's: the other's payment
        payment = await outcome(gateway, known, caller.rt.settings.bank_timeout_s)
    return caller.shown(payment)


async def outcome(gateway: Gateway, payment: Payment, wait_s: float) -> Payment:
    """Another process's payment once its bank answer is stored (as a second request in
    one process waits for the first), or as it stands after `wait_s` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while payment.status == "unknown" and loop.time() < deadline:
        await asyncio.sleep(0.05)
        payment = gateway.get(payment.id)
    return payment


@router.get("/payments/{payment_id}", summary="One payment, with its refunds")
async def get_payment(payment_id: PaymentId, caller: Caller) -> PaymentView:
    return caller.shown(caller.owned(payment_id))


@router.get(
    "/payments/{payment_id}/qr",
    summary="The QR code of a UPI payment waiting for the payer (PNG or SVG)",
    response_class=Response,
    responses={200: {"content": {kind: {} for kind in QR_TYPES.values()}}},
)
async def qr(
    payment_id: PaymentId,
    caller: Caller,
    kind: Annotated[Literal["png", "svg"], Query(alias="format")] = "png",
) -> Response:
    payment = caller.owned(payment_id)
    link = payment.upi.link if payment.upi is not None else None
    if link is None:
        raise NotAllowed(f"payment {payment_id} has no UPI link to show as a QR code")
    if payment.status != "pending":
        raise NotAllowed(
            f"payment {payment_id} is not waiting for the payer (it is {payment.status_word})"
        )
    image = qr_png(link) if kind == "png" else qr_svg(link)
    return Response(image, media_type=QR_TYPES[kind])


@router.get("/payments", summary="The payments of a business day (today by default)")
async def list_payments(
    caller: Caller,
    day: Day,
    gateway: GatewayDep,
    clock: ClockDep,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="a page, newest first")] = None,
    after: Annotated[str | None, Query(max_length=64, description="the last id shown")] = None,
) -> PaymentList:
    if limit is None:
        if after is not None:
            raise invalid("query", "after", "after is for pages: give a limit too")
        payments = gateway.list_day(day)
        return PaymentList(
            data=[caller.shown(p) for p in payments if p.merchant_id == caller.merchant_id]
        )
    rt = caller.rt
    mine = Settlement(rt.records, rt.settings, clock=clock, merchant_id=caller.merchant_id)
    shown = day or mine.today()
    try:
        page = day_page(rt.records, shown, after, limit + 1, caller.merchant_id)
    except InputError:
        raise invalid("query", "after", f"names no payment of {shown}") from None
    return PaymentList(data=[caller.shown(p) for p in page[:limit]], has_more=len(page) > limit)


@router.post("/payments/{payment_id}/capture", summary="Capture an authorization (once)")
async def capture(
    payment_id: PaymentId, caller: Caller, gateway: GatewayDep, body: CaptureBody | None = None
) -> PaymentView:
    caller.owned(payment_id)
    amount = body.amount if body else None
    done = await gateway.capture(payment_id, amount, operator=caller.operator(body))
    return caller.shown(done)


@router.post("/payments/{payment_id}/refresh", summary="Where a pending payment stands now")
async def refresh(payment_id: PaymentId, caller: Caller, gateway: GatewayDep) -> PaymentView:
    caller.owned(payment_id)
    return caller.shown(await gateway.refresh(payment_id))


@router.post("/payments/{payment_id}/cancel", summary="Give up on a payment waiting for the payer")
async def cancel(
    payment_id: PaymentId, caller: Caller, gateway: GatewayDep, body: CancelBody | None = None
) -> PaymentView:
    caller.owned(payment_id)
    return caller.shown(await gateway.cancel(payment_id, operator=caller.operator(body)))


@router.post("/payments/{payment_id}/void", summary="Cancel before capture (manager approves)")
async def void(
    payment_id: PaymentId, body: VoidBody, caller: Caller, gateway: GatewayDep
) -> PaymentView:
    caller.owned(payment_id)
    done = await gateway.void(payment_id, operator=caller.operator(body), approval=approval(body))
    return caller.shown(done)


@router.post("/payments/{payment_id}/refunds", summary="Refund (manager approves)")
async def refund(
    payment_id: PaymentId, body: RefundBody, caller: Caller, gateway: GatewayDep
) -> PaymentView:
    caller.owned(payment_id)
    done = await gateway.refund(
        payment_id, body.amount, operator=caller.operator(body), approval=approval(body)
    )
    return caller.shown(done)


@router.get("/payments/{payment_id}/frames", summary="The ISO 8583 frames (card masked)")
async def frames(payment_id: PaymentId, caller: Caller, gateway: GatewayDep) -> list[Frame]:
    caller.owned(payment_id)
    return await gateway.bank.frames(payment_id)
