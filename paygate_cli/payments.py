"""The payment commands of `paygate`: charge, confirm, resend, status, cancel, capture,
void, refund, list, outbox, test-cards, banks serve, repair and ledger check (a UPI
payment's charge and the payer app: `paygate_cli.upi`).

`paygate_cli.main` parses; each `cmd_*` here gets the parsed arguments and the Settings and
returns the exit code: 0 when the payment was processed (a decline is a business result,
not an error), 2 for invalid input (raised as `InputError`, one line on stderr), 1 for a
system failure, and 1 for a payment whose outcome is still `unknown`.

Every command that opens the gateway first runs its `repair()` and reports what it
settled on stderr as `paygate: repaired: ...`. With a gateway URL (`--gateway-url` and
`--api-key`, or PAYGATE_GATEWAY_URL and PAYGATE_API_KEY) every command here except
`banks serve` and `ledger check` goes through that `paygate serve` instead, and no data
dir is opened or created (the service repairs on its own start and on `paygate repair`).
Human output is a short block; `--json` prints one JSON document instead (a payment's
with its `next_action`). Card numbers and payer VPAs are shown masked, never in full.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import signal
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from bank_sim.serve import bank_config, serve
from bank_sim.testcards import CVV, EXPIRY, LOAD_TEST_CARD, LUHN_FAILURE, TEST_CARDS
from gateway_core.cards import LOAD_TEST_BIN, CardInput, check_card, load_test_pan
from gateway_core.clock import SystemClock, business_day
from gateway_core.dashboard import day_page
from gateway_core.errors import InputError, SystemFailure
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.money import Money, normalize_currency, parse_amount
from gateway_core.payments import Payment, payment_day
from gateway_core.ports import Approval
from gateway_core.presentation import format_money, stamp_text, time_text
from gateway_core.runtime import Runtime
from gateway_core.service.models import PaymentView, check_idempotency_key
from gateway_core.settings import Settings
from gateway_core.settlement import DayReport, Settlement, parse_day
from gateway_core.store.lock import DataDirBusy
from gateway_core.upi_api import TEST_BALANCE, TEST_PIN
from paygate_cli.common import open_runtime
from paygate_cli.link_text import link_lines
from paygate_cli.netbanking_text import NB_NOTE, login_rows, nb_pending_lines, netbanking_lines
from paygate_cli.shift_text import cash_lines
from paygate_cli.upi_text import pending_lines, tender_text, test_vpa_rows, upi_lines

if TYPE_CHECKING:
    from gateway_core.service.client import RemoteGateway


# ---------------------------------------------------------------------------- sessions
@asynccontextmanager
async def gateway_session(
    settings: Settings, *, create: bool = False, repair: bool = True
) -> AsyncIterator[tuple[Runtime | None, Gateway | RemoteGateway]]:
    """Open the data dir and the gateway; run `repair()` first unless told not to.

    `create=False` refuses a data dir with no paygate data (exit 2) instead of
    starting one: only `charge` starts a data dir. With a gateway URL, the service's
    `RemoteGateway` and no Runtime: nothing local is opened.
    """
    if settings.gateway_url is not None:
        from gateway_core.service.client import RemoteGateway  # httpx only when needed

        remote = RemoteGateway.from_settings(settings)
        try:
            yield None, remote
        finally:
            await remote.aclose()
        return
    rt = open_runtime(settings, create=create)
    try:
        gateway = rt.gateway
        if repair:
            for note in [*await gateway.repair(), *await gateway.bills.repair()]:
                print(f"paygate: repaired: {note}", file=sys.stderr)
        yield rt, gateway
    finally:
        await rt.aclose()


# ---------------------------------------------------------------------------- output
def payment_json(payment: Payment) -> dict[str, Any]:
    """The machine-readable payment: every stored field, amounts in minor units, and
    `next_action` (what the customer must do: an OTP, pay a UPI QR, intent or collect)."""
    return PaymentView.of(payment).model_dump(mode="json")


def _print_json(document: object) -> None:
    print(json.dumps(document, ensure_ascii=False, indent=2))


def _money(minor: int, currency: str) -> str:
    return format_money(Money(minor, currency))


def describe(payment: Payment, settings: Settings, *, detailed: bool = False) -> list[str]:
    """The human block for a payment: outcome, references, id and status, next step."""
    p, cur = payment, payment.currency
    # a paid link's money is in its paying attempt: the link shows what it asked for
    shown = p.amount_captured if p.status == "succeeded" and p.link is None else p.amount
    if p.status == "declined":
        lines = [
            f"DECLINED {p.response_code or '--'}  {p.message}",
            f"{_money(p.amount, cur)}  {tender_text(p)}",
        ]
    else:
        lines = [f"{p.status_word.upper()}  {_money(shown, cur)}  {tender_text(p)}"]
    refs = (("auth", p.auth_code), ("rrn", p.rrn), ("stan", p.stan))
    if any(value for _name, value in refs):
        lines.append("  ".join(f"{name} {value}" for name, value in refs if value))
    if p.processor:
        lines.append(f"processor {p.processor}  reference {p.processor_reference or '--'}")
    if p.status == "succeeded" and p.amount_captured < p.amount:
        released = _money(p.amount - p.amount_captured, cur)
        lines.append(
            f"captured {_money(p.amount_captured, cur)} of {_money(p.amount, cur)} "
            f"authorized; {released} released"
        )
    if p.amount_refunded:
        count = len(p.refunds)
        left = p.amount_captured - p.amount_refunded
        lines.append(
            f"refunded {_money(p.amount_refunded, cur)} in {count} "
            f"refund{'s' if count != 1 else ''}; "
            + (f"{_money(left, cur)} left to refund" if left else "fully refunded")
        )
    if p.status in ("canceled", "unknown") or (
        p.status == "requires_capture" and p.capture_method == "automatic"
    ):
        lines.append(p.message)
    if p.status == "declined" and p.reversal:
        lines.append("the authorization was reversed: nothing stays held on the card")
    if p.status == "requires_action" and p.challenge:
        ch = p.challenge
        until = time_text(ch.expires_at, settings.tz)
        tries = f"{ch.tries_left} {'try' if ch.tries_left == 1 else 'tries'}"
        lines.append(f"the bank sent a code to {ch.phone} (valid until {until}, {tries} left)")
    lines.append(f"id {p.id}  status {p.status}")
    if detailed:
        lines.extend(_details(p, settings))
    lines.extend(upi_lines(p, settings, detailed=detailed))
    lines.extend(netbanking_lines(p, settings, detailed=detailed))
    lines.extend(cash_lines(p))
    lines.extend(link_lines(p, detailed=detailed))
    if p.status == "requires_action":
        lines.append(
            f"next: paygate confirm {p.id} --otp CODE   (a new code: paygate resend {p.id})"
        )
    elif p.status == "requires_capture" and p.capture_method == "manual":
        lines.append(
            f"next: paygate capture {p.id} [--amount A]   (or release: paygate void {p.id})"
        )
    elif p.status == "pending" and detailed:
        lines.extend(pending_lines(p, settings, qr=False) + nb_pending_lines(p, settings))
    return lines


def _details(p: Payment, settings: Settings) -> list[str]:
    created = stamp_text(p.created_at, settings.tz, zone=True)
    lines = [f"created {created}  capture {p.capture_method}  by {p.operator}"]
    route = [p.network, p.issuer, p.funding, p.country]
    if any(route):
        lines.append("route " + "  ".join(part for part in route if part))
    for refund in p.refunds:
        at = time_text(refund.created_at, settings.tz)
        lines.append(f"refund {refund.id}  {_money(refund.amount, p.currency)}  at {at}")
    if p.reversal:
        lines.append(f"reversal {p.reversal}")
    return lines


def report(payment: Payment, args: argparse.Namespace, settings: Settings, **kw: bool) -> int:
    """Print a payment (block or JSON) and give the exit code its outcome deserves."""
    if getattr(args, "json", False):
        _print_json(payment_json(payment))
    else:
        print("\n".join(describe(payment, settings, **kw)))
    if payment.status == "unknown":
        print(
            f"paygate: the bank's answer for {payment.id} is not known yet; "
            "`paygate repair` will settle it",
            file=sys.stderr,
        )
        return 1
    return 0


# ---------------------------------------------------------------------------- card input
def _stdin_is_tty() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _read_secret(prompt: str, what: str, interactive: bool) -> str:
    """One secret from a hidden prompt, or one line of stdin when it is not a terminal."""
    if interactive:
        try:
            return getpass.getpass(prompt)
        except EOFError:
            raise InputError(f"nothing was entered for {what}") from None
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line.strip():
        raise InputError(f"expected {what} on a line of stdin")
    return line.strip()


def read_approval(args: argparse.Namespace) -> Approval:
    """The approving manager: `--approver ID` and `--approver-pin` (prompted if left out)."""
    if not args.approver:
        raise InputError("a manager must approve: give --approver ID (and the PIN)")
    pin = args.approver_pin or _read_secret("Manager PIN: ", "the manager's PIN", _stdin_is_tty())
    return Approval(args.approver, pin)


def read_card(args: argparse.Namespace) -> tuple[str, str]:
    """The card number and CVV, from the options, a hidden prompt or stdin.

    `--card -` reads the number (and the CVV unless `--cvv` is given) from a hidden
    prompt on a terminal, else from stdin lines: number, then CVV. Leaving `--card`
    out does the same on a terminal.
    """
    interactive = _stdin_is_tty()
    pan, cvv = args.card, args.cvv
    if pan is None and not interactive:
        raise InputError("give the card number: --card PAN, or --card - to read it from stdin")
    if pan in (None, "-"):
        pan = _read_secret("Card number: ", "the card number", interactive)
        if cvv in (None, "-"):
            cvv = _read_secret("CVV: ", "the CVV", interactive)
    if cvv == "-" or (cvv is None and interactive):
        cvv = _read_secret("CVV: ", "the CVV", interactive)
    if cvv is None:
        raise InputError("give the security code: --cvv CVV, or --card - to read it from stdin")
    return pan, cvv


# ---------------------------------------------------------------------------- commands
def card_request(args: argparse.Namespace, settings: Settings) -> ChargeRequest:
    """The card payment `charge` (or `bill pay --method card`) asks for, checked: the
    card's number, expiry and CVV, the amount in its currency, the key."""
    upi_only = ("flow", "vpa", "note", "qr_png")
    if any(getattr(args, name, None) is not None for name in upi_only):
        raise InputError("--flow, --vpa, --note and --qr-png are for UPI (--method upi)")
    if args.bank is not None or args.tendered is not None:
        raise InputError("--bank is for net banking and --tendered for cash (--method)")
    if args.exp is None:
        raise InputError("give the card's expiry date: --exp MM/YY")
    currency = normalize_currency(args.currency or settings.currency)
    money = parse_amount(args.amount, currency, max_minor=settings.max_minor(currency))
    if args.idempotency_key is not None:
        check_idempotency_key(args.idempotency_key)
    pan, cvv = read_card(args)
    card = CardInput(pan=SecretStr(pan), expiry=args.exp, cvv=SecretStr(cvv))
    check_card(card, business_day(SystemClock(), settings.tz))
    return ChargeRequest(
        amount=money.minor,
        currency=money.currency,
        card=card,
        capture=args.capture,
        idempotency_key=args.idempotency_key,
    )


def cmd_charge(args: argparse.Namespace, settings: Settings) -> int:
    """Take a card payment. Everything keyed is checked before the data dir is opened,
    so bad input stores nothing and reaches no bank."""
    request = card_request(args, settings)

    async def run() -> Payment:
        async with gateway_session(settings, create=True) as (_rt, gateway):
            return await gateway.charge(request)

    return report(asyncio.run(run()), args, settings)


def cmd_confirm(args: argparse.Namespace, settings: Settings) -> int:
    """Check the OTP; on success the payment is authorized (and captured for a sale)."""

    async def run() -> Payment:
        async with gateway_session(settings) as (_rt, gateway):
            return await gateway.confirm_otp(args.payment_id, args.otp)

    return report(asyncio.run(run()), args, settings)


def cmd_resend(args: argparse.Namespace, settings: Settings) -> int:
    """A new OTP to the cardholder's phone (the bank's cooldown and limit apply)."""

    async def run() -> Payment:
        async with gateway_session(settings) as (_rt, gateway):
            return await gateway.resend_otp(args.payment_id)

    return report(asyncio.run(run()), args, settings)


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """One payment, in full. A payment waiting for the payer (`pending`: UPI) is brought
    up to date first (its callbacks applied, a status check made when one is due); any
    other is a lookup: on a data dir, as stored, with no writer lock (it answers beside a
    charge, the terminal or `serve`), repairing nothing, creating nothing (a pending one
    while another process holds the data dir, too: shown as stored, with a note)."""
    payment = None
    if settings.gateway_url is None:
        with open_runtime(settings, read_only=True) as rt:
            payment = rt.payment(args.payment_id)

    async def run() -> Payment:
        async with gateway_session(settings, repair=False) as (_rt, gateway):
            seen = payment or gateway.get(args.payment_id)
            return await gateway.refresh(seen.id) if seen.status == "pending" else seen

    if payment is None or payment.status == "pending":
        try:
            payment = asyncio.run(run())
        except DataDirBusy:
            if payment is None:
                raise
            print(
                "paygate: shown as stored: the data dir is in use (the process holding it "
                "brings pending payments up to date)",
                file=sys.stderr,
            )
    return report(payment, args, settings, detailed=True)


def cmd_cancel(args: argparse.Namespace, settings: Settings) -> int:
    """Give up on a payment waiting for the payer: the switch is told, nothing is taken
    (a debit already made goes back). No approval: no money moved."""

    async def run() -> Payment:
        async with gateway_session(settings) as (_rt, gateway):
            return await gateway.cancel(args.payment_id, operator=args.operator)

    return report(asyncio.run(run()), args, settings)


def _amount_for(
    gateway: Gateway | RemoteGateway, args: argparse.Namespace, settings: Settings
) -> int | None:
    """`--amount` in the payment's own currency, or None (everything)."""
    if args.amount is None:
        return None
    currency = gateway.get(args.payment_id).currency
    return parse_amount(args.amount, currency, max_minor=settings.max_minor(currency)).minor


def cmd_capture(args: argparse.Namespace, settings: Settings) -> int:
    """Capture an authorization, all of it or `--amount`; the rest goes back."""

    async def run() -> Payment:
        async with gateway_session(settings) as (_rt, gateway):
            amount = _amount_for(gateway, args, settings)
            return await gateway.capture(args.payment_id, amount)

    return report(asyncio.run(run()), args, settings)


def cmd_void(args: argparse.Namespace, settings: Settings) -> int:
    """Cancel before capture: the hold goes back to the cardholder."""

    async def run() -> Payment:
        async with gateway_session(settings) as (_rt, gateway):
            gateway.get(args.payment_id)  # an unknown id is refused before any PIN
            return await gateway.void(
                args.payment_id, operator=args.operator, approval=read_approval(args)
            )

    return report(asyncio.run(run()), args, settings)


def cmd_refund(args: argparse.Namespace, settings: Settings) -> int:
    """Refund `--amount`, or everything not yet refunded."""

    async def run() -> Payment:
        async with gateway_session(settings) as (_rt, gateway):
            gateway.get(args.payment_id)  # an unknown id is refused before any PIN
            amount = _amount_for(gateway, args, settings)
            return await gateway.refund(
                args.payment_id, amount, operator=args.operator, approval=read_approval(args)
            )

    payment = asyncio.run(run())
    if not args.json:
        last = payment.refunds[-1]
        rrn = f"  rrn {last.rrn}" if last.rrn else ""
        print(f"refund {last.id}  {_money(last.amount, payment.currency)}{rrn}")
    return report(payment, args, settings)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """The payments of one business day, newest first, a page (`--limit`) at a time from
    the store: `--after` the last one shown."""
    day = None if args.date is None else parse_day(args.date)
    if args.limit < 0:
        raise InputError("--limit is a number of payments (0: all of them)")
    size = args.limit or sys.maxsize

    async def run() -> list[Payment]:
        async with gateway_session(settings) as (rt, gateway):
            if rt is None:  # a gateway service sends a page at a time (its today by default)
                return gateway.page_day(day, args.after, size)
            shown = day or Settlement(rt.records, rt.settings, clock=rt.clock).today()
            return day_page(rt.records, shown, args.after, size)

    payments = asyncio.run(run())
    if args.json:
        _print_json([payment_json(p) for p in payments])
        return 0
    if not payments:
        print(f"no payments on {day.isoformat()}" if day else "no payments today")
        return 0
    rows = [
        (
            time_text(p.created_at, settings.tz),
            p.id,
            p.status_word,
            _money(p.amount, p.currency),
            tender_text(p),
            p.response_code or "",
        )
        for p in payments
    ]
    print("\n".join(_table(("TIME", "ID", "STATUS", "AMOUNT", "TENDER", "CODE"), rows)))
    shown = day or payment_day(payments[0].id)
    print(f"{len(payments)} payment{'s' if len(payments) != 1 else ''} on {shown}")
    if len(payments) == size:
        print(f"newest first; the next page: paygate list --date {shown} --after {payments[-1].id}")
    return 0


def remote_x_report(settings: Settings, day: date) -> DayReport:
    """The X report of `day` from the gateway service the settings name."""

    async def run() -> DayReport:
        async with gateway_session(settings) as (_rt, gateway):
            return gateway.x_report(day)

    return asyncio.run(run())


def cmd_outbox(args: argparse.Namespace, settings: Settings) -> int:
    """The text messages on the cardholders' simulated phones, newest first."""

    async def run():
        async with gateway_session(settings) as (_rt, gateway):
            return await gateway.bank.outbox()

    messages = asyncio.run(run())
    if not messages:
        print("no messages")
    for sms in messages:
        at = stamp_text(sms.at, settings.tz)
        print(f"{at}  {sms.phone}  {sms.text}")
    return 0


def cmd_test_cards(args: argparse.Namespace, settings: Settings) -> int:
    """Every demo test card with its brand, number, expiry, CVV and behaviour, then the
    test UPI IDs (`--json`: the cards; `paygate upi payers --json`: the UPI IDs)."""
    rows = [(c.label, c.pan, EXPIRY, c.cvv, c.behaviour) for c in TEST_CARDS]
    rows.append(("Visa", LUHN_FAILURE, EXPIRY, "123", "fails Luhn: refused before any bank"))
    if args.json:
        keys = ("brand", "number", "expiry", "cvv", "behaviour")
        _print_json([dict(zip(keys, row, strict=True)) for row in rows])
        return 0
    print("\n".join(_table(("CARD", "NUMBER", "EXPIRY", "CVV", "BEHAVIOUR"), rows)))
    print(
        f"\nLoad tests: every Luhn-valid 16-digit number starting {LOAD_TEST_BIN} approves "
        f"(Visa, {EXPIRY}, CVV {CVV}, {_money(LOAD_TEST_CARD.balance, 'INR')} each, no daily "
        f"count limit, no OTP): {LOAD_TEST_BIN} + 9 digits + the Luhn digit, e.g. "
        f"{load_test_pan(0)} or {load_test_pan(1)}."
    )
    threshold = bank_config(settings, SystemClock()).step_up_threshold
    print(
        f"\nCards that approve ask for an OTP above {_money(threshold, 'INR')}. "
        "The OTP goes to the simulated phone: `paygate outbox`.\n"
    )
    print("\n".join(_table(("UPI ID", "UPI PIN", "BEHAVIOUR"), test_vpa_rows())))
    print(
        f"\nEach UPI ID holds {_money(TEST_BALANCE, 'INR')}; three wrong PINs lock it for the "
        f"day. A payer pays with `paygate upi pay 'LINK' --vpa success@payer --pin {TEST_PIN}`.\n"
    )
    print("\n".join(_table(("NET BANKING LOGIN", "PASSWORD", "BEHAVIOUR"), login_rows())))
    print(f"\n{NB_NOTE} The banks: `paygate netbanking banks`.")
    return 0


def cmd_repair(args: argparse.Namespace, settings: Settings) -> int:
    """Settle what was left open; exit 1 while some payment is still `unknown`."""

    async def run() -> tuple[list[str], list[str]]:
        async with gateway_session(settings, repair=False) as (rt, gateway):
            notes = [*await gateway.repair(), *await gateway.bills.repair()]
            days = rt.records.days() if rt is not None else [None]  # a service: its today
            unknown = [p.id for day in days for p in gateway.list_day(day) if p.status == "unknown"]
            return notes, unknown

    notes, unknown = asyncio.run(run())
    for note in notes:
        print(f"repaired: {note}")
    if not notes:
        print("nothing to repair")
    if unknown:
        print(
            f"paygate: {len(unknown)} payment(s) still unknown ({', '.join(unknown[:3])}"
            f"{', ...' if len(unknown) > 3 else ''}): the bank cannot be reached; "
            "run `paygate repair` again",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_ledger_check(args: argparse.Namespace, settings: Settings) -> int:
    """Prove the banks' books: exit 0 when they balance, 1 naming the problem."""

    async def run():
        async with gateway_session(settings) as (_rt, gateway):
            check = await gateway.bank.ledger_check()
            currencies = {account.currency for account in await gateway.bank.accounts()}
            return check, currencies

    check, currencies = asyncio.run(run())
    if len(currencies) == 1:
        (currency,) = currencies
        opened, now = _money(check.opening_total, currency), _money(check.current_total, currency)
    else:
        opened, now = f"{check.opening_total} (minor units)", f"{check.current_total}"
    if not check.ok:
        print(f"paygate: the books do not balance: {check.problem}", file=sys.stderr)
        return 1
    print(f"books balance: opened with {opened}, {now} now; every hold has a live authorization")
    return 0


class _Terminated(Exception):
    """SIGTERM, turned into an exception so that the server's store closes cleanly."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def serve_until_stopped(what: str, run: Callable[[], None], host: str, port: int) -> int:
    """Run a uvicorn server (`run`) until Ctrl-C or SIGTERM; say `<what> stopped`."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        run()
    except (KeyboardInterrupt, _Terminated):
        pass
    except SystemExit:  # uvicorn's way of saying it could not start
        raise SystemFailure(f"the {what} could not listen on {host}:{port}") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(f"{what} stopped", flush=True)
    return 0


def cmd_banks_serve(args: argparse.Namespace, settings: Settings) -> int:
    """The simulated banks over HTTP until Ctrl-C or SIGTERM."""
    if not 1 <= args.port <= 65535:
        raise InputError(f"--port must be 1 to 65535, not {args.port}")
    config = bank_config(settings, SystemClock())
    if args.public_url is not None:
        parts = urlsplit(args.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                "--public-url must be an http(s) address, e.g. http://banks.local:8700"
            )
        config.nb_public_url = args.public_url.rstrip("/")
    url = f"http://{args.host}:{args.port}"
    print(
        f"banks on {url}  (data in {settings.data_dir / 'banks'}); "
        f"use --bank-url {url}; Ctrl-C stops",
        flush=True,
    )
    return serve_until_stopped(
        "banks", lambda: serve(config, host=args.host, port=args.port), args.host, args.port
    )
