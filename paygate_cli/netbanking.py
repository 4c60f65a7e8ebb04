"""Net banking on the command line: `paygate charge --method netbanking --bank CODE`
(the payment answers `pending` with the bank's page, `next_action.url`, where the
customer signs in; `paygate status` shows the outcome once the bank sent them back or a
status check found it) and `paygate netbanking banks` (the simulated banks and their
test logins).

Everything keyed is checked before the data dir is opened: bad input exits 2 and stores
nothing. The customer's bank login is typed at the bank only, never here.
"""

from __future__ import annotations

import argparse
import asyncio

from gateway_core.errors import InputError
from gateway_core.gateway import ChargeRequest
from gateway_core.money import Money, normalize_currency, parse_amount
from gateway_core.netbanking_api import MAX_NB_AMOUNT, TEST_BANKS
from gateway_core.payments import NetbankingInput, Payment
from gateway_core.presentation import format_money
from gateway_core.service.models import check_idempotency_key
from gateway_core.settings import Settings
from gateway_core.tenders.netbanking import offered_banks
from paygate_cli.checkout import sandbox_hint
from paygate_cli.netbanking_text import NB_NOTE, bank_rows, login_rows, nb_pending_lines
from paygate_cli.payments import _print_json, _table, gateway_session, report

OTHER_OPTIONS = ("card", "cvv", "exp", "flow", "vpa", "note", "qr_png", "tendered")


def netbanking_request(args: argparse.Namespace, settings: Settings) -> ChargeRequest:
    """The net banking payment `charge --method netbanking` asks for, checked: a bank the
    merchant offers, INR only, at most ₹10,00,000.00, paid at once."""
    if any(getattr(args, name, None) is not None for name in OTHER_OPTIONS):
        raise InputError(
            "a net banking payment takes only --bank (not --card, --exp, --cvv, --flow, "
            "--vpa, --note, --qr-png or --tendered)"
        )
    if args.capture != "automatic":
        raise InputError("a net banking payment is paid at once: it has no --capture manual")
    offered = offered_banks(settings)
    if args.bank is None:
        raise InputError(f"give the customer's bank: --bank {'|'.join(offered)}")
    bank = args.bank.strip().upper()
    if bank not in offered:
        raise InputError(f"no net banking at bank {bank!r}: choose {', '.join(offered)}")
    currency = normalize_currency(args.currency or "INR")
    if currency != "INR":
        raise InputError("net banking takes rupees only (--currency INR)")
    money = parse_amount(args.amount, currency, max_minor=settings.max_minor(currency))
    if money.minor > MAX_NB_AMOUNT:
        most = format_money(Money(MAX_NB_AMOUNT, "INR"))
        raise InputError(f"a net banking payment is at most {most}")
    if args.idempotency_key is not None:
        check_idempotency_key(args.idempotency_key)
    return ChargeRequest(
        amount=money.minor,
        currency=currency,
        method="netbanking",
        netbanking=NetbankingInput(bank=bank),
        idempotency_key=args.idempotency_key,
    )


def cmd_charge_netbanking(args: argparse.Namespace, settings: Settings) -> int:
    """Take a net banking payment: print it pending, with the bank's page to open."""
    request = netbanking_request(args, settings)

    async def run() -> Payment:
        async with gateway_session(settings, create=True) as (_rt, gateway):
            return await gateway.charge(request)

    payment = asyncio.run(run())
    code = report(payment, args, settings)
    if not args.json and (lines := nb_pending_lines(payment, settings)):
        print("\n".join(lines))
    if payment.status == "pending":
        sandbox_hint(settings)
    return code


def cmd_netbanking_banks(args: argparse.Namespace, settings: Settings) -> int:
    """The simulated banks (and whether this merchant offers each), and the test logins."""
    offered = set(offered_banks(settings))
    if args.json:
        banks = [{"code": c, "name": n, "offered": c in offered} for c, n in bank_rows()]
        logins = [
            dict(zip(("login", "password", "behaviour"), row, strict=True)) for row in login_rows()
        ]
        _print_json({"banks": banks, "logins": logins})
        return 0
    rows = [(code, name, "yes" if code in offered else "no") for code, name in bank_rows()]
    print("\n".join(_table(("BANK", "NAME", "OFFERED"), rows)))
    print()
    print("\n".join(_table(("LOGIN", "PASSWORD", "BEHAVIOUR"), login_rows())))
    print(f"\n{NB_NOTE}")
    print(f"Pay: paygate charge --method netbanking --bank {next(iter(TEST_BANKS))} --amount 500")
    return 0
