"""Split bills on the command line: `paygate bill open | pay | show | cancel | list`.

A part is keyed as `paygate charge` keys a payment of its method (the same options and
checks: `paygate_cli.payments.card_request`, `paygate_cli.upi.upi_request`, and the cash
and net banking modules' `cash_request` / `netbanking_request`), before the data dir is
opened: bad input exits 2 and stores nothing. `show` lists every tender like a receipt;
`--json` prints the bill as the API does (with `paid` and `balance`). Through a gateway
URL the commands go to `paygate serve` (`RemoteGateway.bills`).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from typing import Any

from gateway_core.bill_models import Bill
from gateway_core.bills import bill_day, holds_money, taken
from gateway_core.gateway import ChargeRequest
from gateway_core.money import normalize_currency, parse_amount
from gateway_core.payments import Payment
from gateway_core.presentation import money_text, status_word, time_text
from gateway_core.service.bill_bodies import BillView
from gateway_core.service.models import check_idempotency_key
from gateway_core.settings import Settings
from gateway_core.settlement import parse_day
from paygate_cli.netbanking_text import nb_pending_lines
from paygate_cli.payments import _print_json, _table, describe, gateway_session, read_approval
from paygate_cli.upi_text import pending_lines

PART_REQUESTS = {  # --method → the module and function that key it, as `charge` does
    "card": ("payments", "card_request"),
    "upi": ("upi", "upi_request"),
    "cash": ("cash", "cash_request"),
    "netbanking": ("netbanking", "netbanking_request"),
}


def part_request(args: argparse.Namespace, settings: Settings) -> ChargeRequest:
    """The part `bill pay` asks for, keyed and checked as `charge --method` would."""
    module, name = PART_REQUESTS[args.method]
    request: ChargeRequest = getattr(importlib.import_module(f"paygate_cli.{module}"), name)(
        args, settings
    )
    return request.model_copy(update={"operator": args.operator})


def bill_lines(bill: Bill, settings: Settings) -> list[str]:
    """A bill as a receipt shows it: its total and state, one line per tender (label,
    amount, outcome, payment), what is paid and what is still due, and the next step."""
    cur = bill.currency
    lines = [f"BILL {money_text(bill.amount, cur)}  {bill.status.upper()}"]
    rows = []
    for part in bill.parts:
        notes = []
        if part.change:
            notes.append(f"change {money_text(part.change, cur)}")
        if part.refunded:
            notes.append(f"refunded {money_text(part.refunded, cur)}")
        word = status_word(part.status, refunded=part.refunded, captured=part.amount)
        row = (part.label, money_text(part.amount, cur), word, part.payment_id, "  ".join(notes))
        rows.append(row)
    if rows:
        lines += [
            "  " + line for line in _table(("TENDER", "AMOUNT", "STATUS", "PAYMENT", ""), rows)
        ]
    else:
        lines.append("  no tender yet")
    waiting = taken(bill) - bill.paid
    note = f"  ({money_text(waiting, cur)} waiting)" if waiting else ""
    lines.append(f"paid {money_text(bill.paid, cur)}  due {money_text(bill.balance, cur)}{note}")
    lines.append(f"id {bill.id}  status {bill.status}")
    if bill.status == "open":
        lines.append(
            f"next: paygate bill pay {bill.id} --method M --amount A"
            f"   (or give up: paygate bill cancel {bill.id})"
        )
    elif bill.status == "canceling":
        lines.append(f"next: paygate bill cancel {bill.id} (or paygate repair) finishes it")
    return lines


def bill_json(bill: Bill) -> dict[str, Any]:
    """The machine-readable bill, as the API shows it (with `paid` and `balance`)."""
    return BillView.model_validate(bill.model_dump()).model_dump(mode="json")


def _show(bill: Bill, args: argparse.Namespace, settings: Settings) -> None:
    if args.json:
        _print_json(bill_json(bill))
    else:
        print("\n".join(bill_lines(bill, settings)))


def cmd_bill_open(args: argparse.Namespace, settings: Settings) -> int:
    """Open a bill with its total."""
    currency = normalize_currency(args.currency or settings.currency)
    money = parse_amount(args.amount, currency)
    if args.idempotency_key is not None:
        check_idempotency_key(args.idempotency_key)

    async def run() -> Bill:
        async with gateway_session(settings, create=True) as (_rt, gateway):
            return await gateway.bills.open_bill(
                amount=money.minor,
                currency=money.currency,
                operator=args.operator,
                idempotency_key=args.idempotency_key,
            )

    _show(asyncio.run(run()), args, settings)
    return 0


def cmd_bill_pay(args: argparse.Namespace, settings: Settings) -> int:
    """Pay part of a bill with one tender: the part's payment, then the bill."""
    request = part_request(args, settings)

    async def run() -> tuple[Bill, Payment]:
        async with gateway_session(settings) as (_rt, gateway):
            bill = await gateway.bills.pay_bill(args.bill_id, request)
            return bill, gateway.get(bill.parts[-1].payment_id)

    bill, payment = asyncio.run(run())
    if not args.json:
        print("\n".join(describe(payment, settings)))
        if payment.status == "pending" and payment.upi is not None:
            print("\n".join(pending_lines(payment, settings, qr=True)))
        elif payment.status == "pending" and payment.netbanking is not None:
            print("\n".join(nb_pending_lines(payment, settings)))
    _show(bill, args, settings)
    if payment.status == "unknown":
        print(
            f"paygate: the bank's answer for {payment.id} is not known yet; "
            "`paygate repair` will settle it (the bill counts it as taken until then)",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_bill_show(args: argparse.Namespace, settings: Settings) -> int:
    """A bill with every tender on it, as they stand now."""

    async def run() -> Bill:
        async with gateway_session(settings) as (_rt, gateway):
            return gateway.bills.get_bill(args.bill_id)

    _show(asyncio.run(run()), args, settings)
    return 0


def cmd_bill_cancel(args: argparse.Namespace, settings: Settings) -> int:
    """Give up a bill: pending tenders canceled, the others voided or refunded (a
    manager approves when a tender took money: --approver)."""

    async def run() -> Bill:
        async with gateway_session(settings) as (_rt, gateway):
            bill = gateway.bills.get_bill(args.bill_id)  # an unknown bill before any PIN
            given_back = [p for p in bill.parts if p.status != "pending" and holds_money(p)]
            approval = read_approval(args) if args.approver or given_back else None
            return await gateway.bills.cancel_bill(
                bill.id, operator=args.operator, approval=approval
            )

    bill = asyncio.run(run())
    _show(bill, args, settings)
    return 0 if bill.status == "canceled" else 1


def cmd_bill_list(args: argparse.Namespace, settings: Settings) -> int:
    """The bills of one business day (the gateway's today by default), oldest first."""
    day = None if args.date is None else parse_day(args.date)

    async def run() -> list[Bill]:
        async with gateway_session(settings) as (_rt, gateway):
            return gateway.bills.bills(day)

    bills = asyncio.run(run())
    if args.json:
        _print_json([bill_json(b) for b in bills])
        return 0
    shown = f"on {(day or bill_day(bills[0].id)).isoformat()}" if day or bills else "today"
    if not bills:
        print(f"no bills {shown}")
        return 0
    rows = [
        (
            time_text(b.created_at, settings.tz),
            b.id,
            b.status,
            money_text(b.amount, b.currency),
            money_text(b.paid, b.currency),
            money_text(b.balance, b.currency),
            str(len(b.parts)),
        )
        for b in bills
    ]
    print("\n".join(_table(("TIME", "ID", "STATUS", "AMOUNT", "PAID", "DUE", "TENDERS"), rows)))
    print(f"{len(bills)} bill{'s' if len(bills) != 1 else ''} {shown}")
    return 0
