"""A try at paying a payment link (the checkout page's forms): an ordinary payment of
the chosen method whose `link_id` names the link, for the link's amount, merchant and
terminal. Tries still pending are canceled first (one customer, one way to pay at a
time: no link is paid twice), and the link is told at once (`Gateway.refresh`: the link
tender records the attempt, and a succeeded one pays the link)."""

from __future__ import annotations

import contextlib

from gateway_core.cards import CardInput
from gateway_core.errors import InputError
from gateway_core.gateway import Gateway
from gateway_core.payments import (
    ChargeRequest,
    Method,
    NetbankingInput,
    NotAllowed,
    Payment,
    UpiInput,
)

Tried = CardInput | UpiInput | NetbankingInput
OPERATOR = "checkout"  # who acts for the customer on the page
_INPUTS: dict[type, Method] = {CardInput: "card", UpiInput: "upi", NetbankingInput: "netbanking"}


def link_of(gateway: Gateway, payment_id: str) -> Payment:
    """The payment link `payment_id`, else `NotAllowed`."""
    link = gateway.get(payment_id)
    if link.link is None:
        raise NotAllowed(f"payment {payment_id} is not a payment link")
    return link


async def pay_link(gateway: Gateway, link_id: str, method: Method, tried: Tried) -> Payment:
    """Try to pay link `link_id` by `method` with `tried` (a card, a UPI flow, a bank):
    the attempt as the gateway answered it. Refused (nothing stored) when the link is
    no longer pending or does not offer the method."""
    if _INPUTS.get(type(tried)) != method:
        raise InputError(f"a {method} try needs the {method} input")
    link_of(gateway, link_id)
    detail = (await gateway.refresh(link_id)).link
    assert detail is not None  # a link
    if method not in detail.methods:
        raise InputError(f"this link is not paid by {method}")
    for attempt_id in detail.attempts:
        if gateway.get(attempt_id).status == "pending":
            with contextlib.suppress(NotAllowed):  # ended meanwhile
                await gateway.cancel(attempt_id, operator=OPERATOR)
    link = await gateway.refresh(link_id)
    if link.status != "pending":
        state = "paid already" if link.status == "succeeded" else link.status_word
        raise NotAllowed(f"payment link {link_id} is {state}: it takes no payment")
    attempt = await gateway.charge(
        ChargeRequest(
            amount=link.amount,
            currency=link.currency,
            method=method,
            card=tried if isinstance(tried, CardInput) else None,
            upi=tried if isinstance(tried, UpiInput) else None,
            netbanking=tried if isinstance(tried, NetbankingInput) else None,
            link_id=link_id,
            terminal_id=link.terminal_id,
            merchant_id=link.merchant_id,
            operator=OPERATOR,
        )
    )
    await gateway.refresh(link_id)
    return attempt
