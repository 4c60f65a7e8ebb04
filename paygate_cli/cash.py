"""`paygate charge --method cash --amount 99.60 --tendered 100`: cash into the drawer
of the shift open on this terminal, printed with the change (and the rounding line when
`cash.rounding` rounds the amount due) and the shift. Everything typed is checked before
the data dir is opened: bad input stores nothing (exit 2, one line)."""

from __future__ import annotations

import argparse
import asyncio

from gateway_core.errors import InputError
from gateway_core.gateway import ChargeRequest
from gateway_core.money import normalize_currency, parse_amount
from gateway_core.payments import CashInput, Payment
from gateway_core.service.models import check_idempotency_key
from gateway_core.settings import Settings
from paygate_cli.payments import gateway_session, report

NOT_CASH = ("card", "cvv", "exp", "flow", "vpa", "note", "qr_png", "bank")


def cash_request(args: argparse.Namespace, settings: Settings) -> ChargeRequest:
    """The cash payment `charge --method cash` asks for: the amount and what was handed
    over, in the same currency (the change is the gateway's to work out)."""
    if any(getattr(args, name, None) is not None for name in NOT_CASH):
        raise InputError("a cash payment takes --amount and --tendered only (no card, UPI, bank)")
    if args.capture != "automatic":
        raise InputError("cash is paid at once: it has no manual capture")
    if args.tendered is None:
        raise InputError("give what the customer handed over: --tendered AMOUNT")
    currency = normalize_currency(args.currency or settings.currency)
    money = parse_amount(args.amount, currency, max_minor=settings.max_minor(currency))
    tendered = parse_amount(args.tendered, currency)
    if args.idempotency_key is not None:
        check_idempotency_key(args.idempotency_key)
    return ChargeRequest(
        amount=money.minor,
        currency=currency,
        method="cash",
        cash=CashInput(tendered=tendered.minor),
        idempotency_key=args.idempotency_key,
    )


def cmd_charge_cash(args: argparse.Namespace, settings: Settings) -> int:
    """Take cash: the payment with its tendered, change, rounding and shift."""
    request = cash_request(args, settings)

    async def run() -> Payment:
        async with gateway_session(settings, create=True) as (_rt, gateway):
            return await gateway.charge(request)

    return report(asyncio.run(run()), args, settings)
