"""Payment links and the hosted checkout on the command line.

`paygate charge --method link --amount 500 [--json]` makes a payment link: pending,
with `next_action.url`, its checkout page (and that address as a QR for a phone).
`paygate checkout ID` prints the checkout page of a payment (a lookup: it creates
nothing). `paygate sandbox [--port 8765]` is `paygate serve` on the data dir with the
banks embedded (their pages under /sim): the server a customer's browser needs for a
link or a net banking payment taken on a plain data dir. A charge on a data dir says so
in one line (stderr) when no server is named.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from gateway_core.errors import InputError
from gateway_core.gateway import ChargeRequest
from gateway_core.money import normalize_currency, parse_amount
from gateway_core.payments import Payment
from gateway_core.service.models import check_idempotency_key
from gateway_core.settings import Settings
from gateway_core.tenders.link import SANDBOX_URL, public_url
from paygate_cli.common import open_runtime, works_remotely
from paygate_cli.link_text import link_pending_lines
from paygate_cli.payments import gateway_session, report

SANDBOX_PORT = int(SANDBOX_URL.rsplit(":", 1)[1])
NOT_FOR_A_LINK = {
    "card": "--card",
    "cvv": "--cvv",
    "exp": "--exp",
    "vpa": "--vpa",
    "flow": "--flow",
    "note": "--note",
    "qr_png": "--qr-png",
    "bank": "--bank",
    "tendered": "--tendered",
}


def add_checkout_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register `checkout` and `sandbox` on the command tree."""
    checkout = sub.add_parser(
        "checkout",
        parents=[common],
        help="print the checkout page of a payment (a payment link, net banking, UPI)",
    )
    checkout.add_argument("payment_id", metavar="ID")
    checkout.set_defaults(handler=works_remotely(cmd_checkout))
    sandbox = sub.add_parser(
        "sandbox",
        parents=[common],
        help="serve the data dir's checkout pages and the banks' pages (paygate serve, "
        "banks embedded)",
    )
    sandbox.add_argument("--port", type=int, default=SANDBOX_PORT, help=f"default: {SANDBOX_PORT}")
    sandbox.set_defaults(handler=cmd_sandbox)


# ---------------------------------------------------------------------------- charge
def link_request(args: argparse.Namespace, settings: Settings) -> ChargeRequest:
    """The payment link `charge --method link` asks for, checked before anything opens."""
    given = [flag for name, flag in NOT_FOR_A_LINK.items() if getattr(args, name, None)]
    if given or args.capture != "automatic":
        what = ", ".join(given) if given else "--capture"
        raise InputError(f"a payment link takes no {what}: the customer picks on the page")
    currency = normalize_currency(args.currency or settings.currency)
    money = parse_amount(args.amount, currency, max_minor=settings.max_minor(currency))
    if args.idempotency_key is not None:
        check_idempotency_key(args.idempotency_key)
    return ChargeRequest(
        amount=money.minor,
        currency=currency,
        method="link",
        idempotency_key=args.idempotency_key,
    )


def sandbox_hint(settings: Settings) -> None:
    """On a data dir (no server named), the one line that says how the customer's
    browser reaches the pages: `paygate sandbox` (stderr: --json output stays JSON)."""
    if settings.gateway_url is None and settings.checkout.public_url is None:
        print(
            f"paygate: to open the page, serve this data dir: paygate sandbox "
            f"--data-dir {settings.data_dir}   (on {SANDBOX_URL})",
            file=sys.stderr,
        )


def cmd_charge_link(args: argparse.Namespace, settings: Settings) -> int:
    """Make a payment link: printed pending, with its checkout page."""
    request = link_request(args, settings)

    async def run() -> Payment:
        async with gateway_session(settings, create=True) as (_rt, gateway):
            return await gateway.charge(request)

    payment = asyncio.run(run())
    code = report(payment, args, settings)
    if not args.json:
        print("\n".join(link_pending_lines(payment, settings)))
    if payment.status == "pending":
        sandbox_hint(settings)
    return code


# ---------------------------------------------------------------------------- lookups
def page_of(payment: Payment, base: str) -> str:
    """The checkout page of a payment that has one (a link, an attempt at one, a net
    banking or UPI payment), else `InputError`."""
    if payment.link is not None:
        return payment.link.url
    if payment.link_id or payment.method in ("netbanking", "upi"):
        return f"{base}/checkout/{payment.id}"
    raise InputError(f"payment {payment.id} has no checkout page (a {payment.method} payment)")


def cmd_checkout(args: argparse.Namespace, settings: Settings) -> int:
    """Print the checkout page of a payment (through the server when one is named)."""
    if settings.gateway_url is not None:
        from gateway_core.service.client import RemoteGateway

        remote = RemoteGateway.from_settings(settings)
        assert remote is not None  # a gateway URL is set
        try:
            payment = remote.get(args.payment_id)
        finally:
            asyncio.run(remote.aclose())
        base = settings.checkout.public_url or settings.gateway_url
        print(page_of(payment, base.rstrip("/")))
        return 0
    with open_runtime(settings, read_only=True, create=False) as rt:
        payment = rt.payment(args.payment_id)
    print(page_of(payment, public_url(settings)))
    return 0


# ---------------------------------------------------------------------------- sandbox
def cmd_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    """`paygate serve` on 127.0.0.1:PORT with the banks embedded (it addresses the pages
    there unless `checkout.public_url` is set)."""
    from paygate_cli.service import cmd_serve

    if settings.bank_url:
        raise InputError("the sandbox runs the banks in this process: leave out --bank-url")
    url = settings.checkout.public_url or f"http://127.0.0.1:{args.port}"
    print(f"sandbox: checkout pages on {url.rstrip('/')}/checkout/ID", flush=True)
    serve = argparse.Namespace(
        host="127.0.0.1", port=args.port, poll_every=1.0, workers=1, listen_fd=None
    )
    return cmd_serve(serve, settings)
