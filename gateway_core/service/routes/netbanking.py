"""Net banking at the API: the body of a net banking payment (checked before anything is
stored: 422, one line), and the return URL the banks send the customer's browser back
to, `GET /v1/netbanking/return` (no API key: the bank's signature vouches for it).

The return is parsed into an `NbReturn` and handed to `Gateway.returned`, which checks
it and asks the bank; the browser then goes (303) to the payment's result page,
`/checkout/{payment id}`, or to the return URL of the payment link it was tried for. A
query that is not a return, or a return refused, is a 400 page of one line; nothing
changes.

(No `from __future__ import annotations`: FastAPI reads the handlers' annotations.)
"""

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from gateway_core.errors import InputError, PaygateError
from gateway_core.gateway import Gateway, UnknownPayment
from gateway_core.money import Money
from gateway_core.netbanking_api import MAX_NB_AMOUNT, NbReturn
from gateway_core.payments import NetbankingInput, Payment
from gateway_core.presentation import format_money
from gateway_core.service.dependencies import GatewayDep
from gateway_core.service.models import PaymentCreate
from gateway_core.service.responses import invalid
from gateway_core.settings import Settings
from gateway_core.tenders.netbanking import offered_banks

router = APIRouter()
MAX_QUERY = 2048  # a return's query is about 250 characters


def netbanking_input(body: PaymentCreate, settings: Settings) -> NetbankingInput:
    """A net banking payment's bank, checked before anything is stored (422, one line)."""
    if body.card is not None or body.upi is not None:
        raise invalid(
            "body", "card" if body.card else "upi", "a net banking payment takes no card or upi"
        )
    if (body.currency or settings.currency).upper() != "INR":
        raise invalid("body", "currency", "net banking takes rupees only (INR)")
    if body.amount > MAX_NB_AMOUNT:
        most = format_money(Money(MAX_NB_AMOUNT, "INR"))
        raise invalid("body", "amount", f"a net banking payment is at most {most}")
    if body.capture_method != "automatic":
        raise invalid("body", "capture_method", "a net banking payment is paid at once (automatic)")
    if body.netbanking is None:
        raise invalid("body", "netbanking", "a net banking payment needs its bank", missing=True)
    bank = body.netbanking.bank.upper()
    offered = offered_banks(settings)
    if bank not in offered:
        raise invalid(
            "body", "netbanking.bank", f"no net banking at {bank}: choose {', '.join(offered)}"
        )
    return NetbankingInput(bank=bank)


def page(status: int, line: str) -> HTMLResponse:
    """A page of one line for the customer's browser."""
    text = html.escape(line)
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Payment</title></head><body><h1>{text}</h1></body></html>"
    )
    return HTMLResponse(body, status_code=status)


def _back(gateway: Gateway, payment: Payment) -> str:
    """Where the customer goes once back: the link's return URL, else the result page."""
    if payment.link_id is not None:
        link = gateway.get(payment.link_id).link
        if link is not None and link.return_url:
            return link.return_url
    return f"/checkout/{payment.id}"


@router.get(
    "/netbanking/return",
    summary="Where a bank sends the customer back (signed); 303 to the result page",
    response_class=HTMLResponse,
    status_code=303,
    responses={400: {"description": "not a return, or a return refused (one line)"}},
)
async def netbanking_return(request: Request, gateway: GatewayDep) -> Response:
    if len(request.url.query) > MAX_QUERY:
        return page(400, "This is not a bank's answer.")
    try:
        answer = NbReturn.model_validate(dict(request.query_params))
    except ValidationError:
        return page(400, "This is not a bank's answer.")
    try:
        payment = await gateway.returned(answer.payment_id, answer)
    except UnknownPayment:
        return page(404, "There is no such payment.")
    except InputError as exc:
        return page(400, exc.message[:1].upper() + exc.message[1:])  # one line: the refusal
    except PaygateError:
        return page(503, "The bank cannot be reached now: the payment is being checked.")
    return RedirectResponse(_back(gateway, payment), status_code=303)
