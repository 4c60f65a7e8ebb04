"""The hosted checkout: `GET /checkout/{payment id}` and the forms it posts.

A payment link's page lists the methods offered; each form makes an attempt
(`gateway_core.links.pay_link`) and answers 303: net banking to the bank's login page,
UPI and card to the attempt's own page (the QR, the OTP step, the result). "Check
again" asks the gateway where the payment stands. No key is needed (the customer's
browser has none): a page shows a payment's amount, merchant and state only. Card data
comes in a POST body once and is never shown, stored or logged (the URLs carry none);
a refusal is a page of one line with its 4xx status.

(No `from __future__ import annotations`: FastAPI reads the handlers' annotations.)
"""

import contextlib
from collections.abc import Awaitable
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from pydantic import SecretStr
from starlette.responses import Response

from gateway_core.cards import CardInput
from gateway_core.errors import InputError, PaygateError
from gateway_core.links import pay_link
from gateway_core.payments import (
    OPEN_STATUSES,
    NetbankingInput,
    NotAllowed,
    Payment,
    UnknownPayment,
    UpiInput,
)
from gateway_core.runtime import Runtime
from gateway_core.service.checkout.render import refused, see_other
from gateway_core.service.checkout.views import attempt_page, link_page, shown
from gateway_core.service.dependencies import Rt
from gateway_core.service.errors import describe

router = APIRouter(prefix="/checkout", include_in_schema=False)
FORM = "application/x-www-form-urlencoded"
MAX_FIELD = 64  # characters of a form value (a card number, a bank code, an OTP)


async def _answer(work: Awaitable[Response]) -> Response:
    """`work`'s page, or its refusal as a page of one line with its status."""
    try:
        return await work
    except PaygateError as exc:
        status, detail = describe(exc)
        return refused(status, detail.message)


async def _form(request: Request, *names: str) -> dict[str, str]:
    """The named fields of a urlencoded form ("" when missing), each at most MAX_FIELD
    characters; nothing of a refused form is repeated back."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM:
        raise InputError(f"send the form as {FORM}")
    try:
        fields = parse_qs((await request.body()).decode("utf-8"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise InputError("the form could not be read") from None
    values = {name: (fields.get(name) or [""])[0].strip() for name in names}
    if any(len(value) > MAX_FIELD for value in values.values()):
        raise InputError("a form field is too long")
    return values


def _shown(rt: Runtime, payment_id: str) -> Payment:
    if len(payment_id) > 64:
        raise UnknownPayment(f"no payment {payment_id[:64]}…")
    return shown(rt.gateway.get(payment_id))


def _link_of(rt: Runtime, payment: Payment) -> Payment | None:
    if payment.link_id is None:
        return None
    return rt.gateway.get(payment.link_id)


@router.get("/{payment_id}")
async def checkout_page(payment_id: str, rt: Rt) -> Response:
    return await _answer(_show(rt, payment_id))


async def _show(rt: Runtime, payment_id: str) -> Response:
    """The page of a payment as it stands (an ended attempt tells its link first)."""
    payment = _shown(rt, payment_id)
    if (detail := payment.link) is not None:
        last = detail.paid_by or (detail.attempts[-1] if detail.attempts else None)
        return link_page(rt.settings, payment, rt.gateway.get(last) if last else None)
    link = _link_of(rt, payment)
    if link is not None and link.status == "pending" and payment.status not in OPEN_STATUSES:
        with contextlib.suppress(PaygateError):  # the link's own poll will tell it
            link = await rt.gateway.refresh(link.id)
    return attempt_page(rt.settings, payment, link)


@router.post("/{payment_id}/netbanking")
async def pay_by_netbanking(payment_id: str, request: Request, rt: Rt) -> Response:
    async def work() -> Response:
        bank = (await _form(request, "bank"))["bank"]
        if not bank:
            raise InputError("choose your bank")
        attempt = await pay_link(rt.gateway, payment_id, "netbanking", NetbankingInput(bank=bank))
        nb = attempt.netbanking
        if attempt.status == "pending" and nb is not None and nb.login_url:
            return see_other(nb.login_url)
        return see_other(f"/checkout/{attempt.id}")

    return await _answer(work())


@router.post("/{payment_id}/upi")
async def pay_by_upi(payment_id: str, rt: Rt) -> Response:
    async def work() -> Response:
        attempt = await pay_link(rt.gateway, payment_id, "upi", UpiInput(flow="qr"))
        return see_other(f"/checkout/{attempt.id}")

    return await _answer(work())


@router.post("/{payment_id}/card")
async def pay_by_card(payment_id: str, request: Request, rt: Rt) -> Response:
    async def work() -> Response:
        card = await _form(request, "number", "expiry", "cvv")
        for name, what in (("number", "card number"), ("expiry", "expiry date"), ("cvv", "CVV")):
            if not card[name]:
                raise InputError(f"enter the {what}")
        tried = CardInput(
            pan=SecretStr(card["number"]), expiry=card["expiry"], cvv=SecretStr(card["cvv"])
        )
        attempt = await pay_link(rt.gateway, payment_id, "card", tried)
        return see_other(f"/checkout/{attempt.id}")

    return await _answer(work())


@router.post("/{payment_id}/otp")
async def confirm_otp(payment_id: str, request: Request, rt: Rt) -> Response:
    async def work() -> Response:
        payment = _shown(rt, payment_id)
        if payment.link_id is None:
            raise NotAllowed(f"payment {payment_id} takes no code here")
        link = (await rt.gateway.refresh(payment.link_id)).link
        if link is None or link.paid_by or link.attempts[-1:] != [payment_id]:
            raise NotAllowed("this try is over: start again from the payment link's page")
        otp = (await _form(request, "otp"))["otp"]
        if not otp:
            raise InputError("enter the code from your bank")
        await rt.gateway.confirm_otp(payment_id, otp, operator="checkout")
        return see_other(f"/checkout/{payment_id}")

    return await _answer(work())


@router.post("/{payment_id}/refresh")
async def check_again(payment_id: str, rt: Rt) -> Response:
    async def work() -> Response:
        payment = _shown(rt, payment_id)
        await rt.gateway.refresh(payment.id)
        if payment.link_id is not None:
            await rt.gateway.refresh(payment.link_id)
        return see_other(f"/checkout/{payment_id}")

    return await _answer(work())
