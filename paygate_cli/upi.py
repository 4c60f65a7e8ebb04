"""UPI on the command line: `paygate charge --method upi` (a dynamic QR, an intent link
or a collect request: the payment answers `pending` with what the customer must do) and
the simulated payer app, `paygate upi pay | inbox | decline | payers`, which pays through
the banks of the data dir (or `--bank-url`) as a customer's phone would.

Everything keyed is checked before the data dir is opened: bad input exits 2 and stores
nothing. A UPI PIN comes from `--pin`, else a hidden prompt on a terminal (else a line of
stdin); it is never printed, logged or stored. A payer's decline (a wrong PIN: ZM) is a
result, not an error: one line, exit 0, as a declined card payment is.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from gateway_core.errors import InputError
from gateway_core.gateway import ChargeRequest
from gateway_core.money import Money, normalize_currency, parse_amount
from gateway_core.payments import Payment, UpiInput
from gateway_core.ports import PayerApp
from gateway_core.presentation import format_money
from gateway_core.qr import qr_png
from gateway_core.service.models import check_idempotency_key
from gateway_core.settings import Settings
from gateway_core.store.files import write_atomically
from gateway_core.store.lock import DataDirBusy
from gateway_core.upi_api import MAX_UPI_AMOUNT, TEST_PIN, PayResult
from gateway_core.upi_link import check_vpa
from paygate_cli.common import open_runtime
from paygate_cli.payments import (
    _print_json,
    _read_secret,
    _stdin_is_tty,
    _table,
    gateway_session,
    report,
)
from paygate_cli.reports import check_out_path
from paygate_cli.upi_text import pay_result_lines, payer_rows, pending_lines

CARD_ONLY = ("card", "cvv", "exp")
T = TypeVar("T")


# ---------------------------------------------------------------------------- charge
def upi_request(args: argparse.Namespace, settings: Settings) -> ChargeRequest:
    """The UPI payment `charge --method upi` asks for, checked: INR only, at most
    ₹1,00,000.00, a collect's VPA (collect only, when the merchant takes them)."""
    if any(getattr(args, name) is not None for name in CARD_ONLY) or args.capture != "automatic":
        raise InputError("a UPI payment takes no card (--card, --exp, --cvv, --capture)")
    currency = normalize_currency(args.currency or "INR")
    if currency != "INR":
        raise InputError("UPI takes rupees only (--currency INR)")
    money = parse_amount(args.amount, currency, max_minor=settings.max_minor(currency))
    if money.minor > MAX_UPI_AMOUNT:
        raise InputError("a UPI payment is at most ₹1,00,000.00")
    if args.idempotency_key is not None:
        check_idempotency_key(args.idempotency_key)
    flow = args.flow or "qr"
    if len(args.note or "") > 50:
        raise InputError("a UPI note (--note) has at most 50 characters")
    vpa = None
    if flow == "collect":
        if args.qr_png is not None:
            raise InputError("a collect request has no QR code: --qr-png is for --flow qr|intent")
        if args.vpa is None:
            raise InputError("a collect request needs the payer's UPI ID: --vpa name@bank")
        vpa = check_vpa(args.vpa)
        if settings.gateway_url is None and not settings.upi.collect_enabled:
            raise InputError("collect requests are off for this merchant")
    elif args.vpa is not None:
        raise InputError("--vpa names the payer of a collect request: give --flow collect")
    return ChargeRequest(
        amount=money.minor,
        currency=currency,
        method="upi",
        upi=UpiInput(flow=flow, vpa=vpa, note=args.note or ""),
        idempotency_key=args.idempotency_key,
    )


def cmd_charge_upi(args: argparse.Namespace, settings: Settings) -> int:
    """Take a UPI payment: print it pending, with its link and QR (or the collect
    request), and write the QR to `--qr-png` (never over an existing file)."""
    request = upi_request(args, settings)
    png: Path | None = args.qr_png
    if png is not None:
        check_out_path(png, settings, force=False, forcible=False)

    async def run() -> Payment:
        async with gateway_session(settings, create=True) as (_rt, gateway):
            return await gateway.charge(request)

    payment = asyncio.run(run())
    code = report(payment, args, settings)
    lines = [] if args.json else pending_lines(payment, settings, qr=True)
    if lines:
        print("\n".join(lines))
    link = payment.upi.link if payment.upi is not None else None
    if png is not None and link is not None:
        try:
            write_atomically(png, qr_png(link))
        except FileExistsError:
            raise InputError(
                f"{png} already exists (made meanwhile): the QR was not written"
            ) from None
    return code


# ---------------------------------------------------------------------------- the payer app
def _payer_pin(args: argparse.Namespace) -> str:
    """The UPI PIN: `--pin`, else a hidden prompt (a line of stdin when not a terminal)."""
    return args.pin or _read_secret("UPI PIN: ", "the UPI PIN", _stdin_is_tty())


def _show(result: PayResult, args: argparse.Namespace) -> int:
    if args.json:
        _print_json(result.model_dump(mode="json"))
    else:
        print("\n".join(pay_result_lines(result)))
    return 0


async def _with_payer(settings: Settings, act: Callable[[PayerApp], Awaitable[T]]) -> T:
    """`act` on the payer app of the data dir's banks (or `bank_url`'s)."""
    rt = open_runtime(settings, read_only=True, create=False)
    try:
        return await act(rt.payer)
    except DataDirBusy as exc:  # a terminal or `paygate serve` runs these banks in process
        raise DataDirBusy(
            f"{exc}; to pay while it runs, start the banks apart (`paygate banks serve`) "
            "and give it and this command --bank-url"
        ) from None
    finally:
        await rt.aclose()


def cmd_upi_pay(args: argparse.Namespace, settings: Settings) -> int:
    """Pay a scanned link or a collect request with the payer's VPA and UPI PIN."""
    vpa = check_vpa(args.vpa)
    target = args.target.strip()
    is_link = target.lower().startswith("upi:")
    pin = _payer_pin(args)

    async def pay(payer: PayerApp) -> PayResult:
        if is_link:
            return await payer.pay(vpa, pin, link=target)
        return await payer.pay(vpa, pin, request_id=target)

    return _show(asyncio.run(_with_payer(settings, pay)), args)


def cmd_upi_decline(args: argparse.Namespace, settings: Settings) -> int:
    """Decline a collect request (ZA)."""
    vpa = check_vpa(args.vpa)
    result = asyncio.run(_with_payer(settings, lambda payer: payer.decline(vpa, args.request_id)))
    return _show(result, args)


def cmd_upi_inbox(args: argparse.Namespace, settings: Settings) -> int:
    """The collect requests waiting in a payer's app."""
    vpa = check_vpa(args.vpa)
    requests = asyncio.run(_with_payer(settings, lambda payer: payer.inbox(vpa)))
    if args.json:
        _print_json([r.model_dump(mode="json") for r in requests])
        return 0
    if not requests:
        print(f"no collect requests for {vpa}")
        return 0
    rows = [
        (r.request_id, f"{r.payee_name} ({r.payee_vpa})", _rupees(r.amount),
         r.expires_at.astimezone(settings.tz).strftime("%H:%M:%S"), r.note)
        for r in requests
    ]  # fmt: skip
    print("\n".join(_table(("REQUEST", "PAYEE", "AMOUNT", "EXPIRES", "NOTE"), rows)))
    print(f"pay one: paygate upi pay REQUEST --vpa {vpa} --pin {TEST_PIN}")
    return 0


def cmd_upi_payers(args: argparse.Namespace, settings: Settings) -> int:
    """The test VPAs of the simulated banks and what each does."""
    payers = asyncio.run(_with_payer(settings, lambda payer: payer.payers()))
    if args.json:
        _print_json([{**p.model_dump(mode="json"), "pin": TEST_PIN} for p in payers])
        return 0
    print("\n".join(_table(("UPI ID", "BANK", "BALANCE", "BEHAVIOUR"), payer_rows(payers))))
    print(f"\nEvery test payer's UPI PIN is {TEST_PIN}; three wrong PINs lock it for the day.")
    return 0


def _rupees(paise: int) -> str:
    return format_money(Money(paise, "INR"))
