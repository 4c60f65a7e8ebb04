"""The `paygate` command line: the parser and the registry of commands.

Exit codes: 0 done, 1 system failure (storage, keys, lock, bank), 2 bad input, 141
when the reader of stdout went away (`paygate list | head -1`: the rest of the output is
dropped quietly, as a Unix tool killed by SIGPIPE would; 141 is 128 + SIGPIPE).
Every command takes `--data-dir`, `--config`, `--bank-url`, and `--gateway-url` with
`--api-key` (a `paygate serve` to use, see `gateway_core.service`). With a gateway URL
(option or PAYGATE_GATEWAY_URL) a command marked `works_remotely` goes through the
service and opens no data dir; any other command is refused (exit 2). The payment
commands' handlers live in `paygate_cli.payments` (UPI's in `paygate_cli.upi`), imported
when one of them runs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from gateway_core.errors import InputError, PaygateError
from gateway_core.logs import configure_logging, log_context
from gateway_core.observe.tracing import configure as configure_tracing
from gateway_core.settings import Settings, load_settings
from paygate_cli.admin import add_admin_commands
from paygate_cli.checkout import add_checkout_commands
from paygate_cli.common import (
    Handler,
    approver_options,
    demo_data_dir,
    refuse_remote,
    works_remotely,
)
from paygate_cli.db import add_db_commands
from paygate_cli.keys import cmd_audit_verify, cmd_keys_init, cmd_keys_list, cmd_keys_rotate
from paygate_cli.reports import add_report_commands
from paygate_cli.service import add_service_commands
from paygate_cli.shifts import add_shift_commands
from paygate_cli.web import add_web_command
from paygate_cli.webhooks import add_webhook_commands

SIGPIPE_EXIT = 141  # 128 + SIGPIPE: what a shell reports for `yes | head -1`'s `yes`
SERVERS = ("serve", "sandbox", "banks", "web")  # each request names its merchant and terminal


def _common(default: object) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", type=Path, default=default, help="where paygate keeps its data"
    )
    common.add_argument("--config", type=Path, default=default, help="a TOML config file")
    common.add_argument(
        "--bank-url",
        default=default,
        metavar="URL",
        help="the banks of `paygate banks serve` (default: simulated in this process)",
    )
    common.add_argument(
        "--gateway-url",
        default=default,
        metavar="URL",
        help="a `paygate serve` to take payments through (with --api-key)",
    )
    common.add_argument(
        "--api-key", default=default, metavar="KEY", help="this terminal's key for --gateway-url"
    )
    common.add_argument(
        "--log-format",
        choices=("text", "ecs"),
        default=default,
        help="ecs: log JSON lines (Elastic Common Schema) on stderr (default: text)",
    )
    common.add_argument(
        "--database-url",
        default=default,
        metavar="URL",
        help="postgresql://...: keep the records there (default: in the data dir)",
    )
    return common


def _payments(name: str, *, remote: bool = True, module: str = "payments") -> Handler:
    """The handler `name` of `paygate_cli.<module>` (payments, upi), imported when it
    runs; it `works_remotely` unless `remote` is False."""

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        commands = importlib.import_module(f"paygate_cli.{module}")
        return getattr(commands, name)(args, settings)

    handler.__name__ = name
    return works_remotely(handler) if remote else handler


_CHARGES = {  # --method → (module, handler)
    "card": ("payments", "cmd_charge"),
    "upi": ("upi", "cmd_charge_upi"),
    "netbanking": ("netbanking", "cmd_charge_netbanking"),
    "cash": ("cash", "cmd_charge_cash"),
    "link": ("checkout", "cmd_charge_link"),
}


def _charge(args: argparse.Namespace, settings: Settings) -> int:
    """`charge`: by its method's module (card: `paygate_cli.payments`, upi, netbanking,
    cash, link: `paygate_cli.checkout`)."""
    module, name = _CHARGES[args.method]
    if args.processor is not None:
        settings = _forced(settings, args.method, args.processor)
    return _payments(name, module=module)(args, settings)


def _forced(settings: Settings, method: str, processor: str) -> Settings:
    """`--processor NAME`: this payment goes to NAME alone (no failover)."""
    from gateway_core.routing import forced

    if settings.gateway_url is not None:
        raise InputError("--processor works on a data dir only: the service routes by its rules")
    if method not in ("card", "upi", "netbanking"):
        raise InputError(f"--processor takes card, upi or netbanking payments, not {method}")
    return forced(settings, processor)


def _add_tender_options(parser: argparse.ArgumentParser, *, qr_file: bool = True) -> None:
    """What each method needs keyed: a card's number, expiry and CVV; UPI's flow, payer,
    note and QR file; net banking's bank; what cash the customer handed over."""
    parser.add_argument("--card", metavar="PAN", help="card number, or - to read it from stdin")
    parser.add_argument("--exp", metavar="MM/YY", help="expiry date (a card's)")
    parser.add_argument("--cvv", help="security code (read with the card number if left out)")
    parser.add_argument(
        "--flow",
        choices=("qr", "intent", "collect"),
        help="UPI: a dynamic QR (default), an intent link, or a collect request to --vpa",
    )
    parser.add_argument("--vpa", metavar="NAME@BANK", help="UPI collect: the payer's UPI ID")
    parser.add_argument("--note", metavar="TEXT", help="UPI: a note on the link (50 chars)")
    if qr_file:
        parser.add_argument(
            "--qr-png",
            type=Path,
            metavar="FILE",
            help="UPI: write the QR code as a PNG (a new file)",
        )
    parser.add_argument("--bank", metavar="CODE", help="net banking: the bank's code (DEMOA)")
    parser.add_argument(
        "--tendered", metavar="AMOUNT", help="cash: what the customer handed over (e.g. 500)"
    )


def _add_bill_commands(sub, common: argparse.ArgumentParser) -> None:
    """bill open, pay, show, cancel, list: one bill paid by several tenders
    (`paygate_cli.bills`)."""
    bill = sub.add_parser(
        "bill", help="split bills: one bill paid by several tenders (card, UPI, cash, ...)"
    ).add_subparsers(metavar="ACTION", required=True)
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print the bill as one JSON document")
    parents = [common, as_json]
    operator = argparse.ArgumentParser(add_help=False)
    operator.add_argument("--operator", default="cli", help="who is doing this (a user id)")

    opened = bill.add_parser("open", parents=[*parents, operator], help="open a bill: its total")
    opened.add_argument("--amount", required=True, help="the bill's total, e.g. 1,000.00")
    opened.add_argument("--currency", help="ISO 4217 code (default: the currency setting)")
    opened.add_argument("--idempotency-key", metavar="K", help="the same key opens one bill")
    opened.set_defaults(handler=_payments("cmd_bill_open", module="bills"))

    pay = bill.add_parser(
        "pay",
        parents=[*parents, operator],
        help="pay part of a bill with one tender",
        description="Pay part of a bill's balance with one tender: the same options as "
        "`paygate charge` for that method. A declined part stays on the bill; the balance "
        "is still due.",
    )
    pay.add_argument("bill_id", metavar="BILL")
    pay.add_argument("--method", choices=("card", "upi", "cash", "netbanking"), default="card")
    pay.add_argument("--amount", required=True, help="this tender's part, e.g. 400")
    pay.add_argument("--currency", help="the bill's currency (default: the currency setting)")
    _add_tender_options(pay, qr_file=False)
    pay.add_argument("--idempotency-key", metavar="K", help="a retry with the same key pays once")
    pay.set_defaults(
        capture="automatic", qr_png=None, handler=_payments("cmd_bill_pay", module="bills")
    )

    show = bill.add_parser("show", parents=parents, help="a bill and every tender on it")
    show.add_argument("bill_id", metavar="BILL")
    show.set_defaults(handler=_payments("cmd_bill_show", module="bills"))

    cancel = bill.add_parser(
        "cancel",
        parents=[*parents, approver_options()],
        help="give up a bill: what its tenders took goes back (manager approves)",
    )
    cancel.add_argument("bill_id", metavar="BILL")
    cancel.set_defaults(handler=_payments("cmd_bill_cancel", module="bills"))

    listing = bill.add_parser("list", parents=parents, help="the bills of a business day")
    listing.add_argument("--date", metavar="YYYY-MM-DD", help="default: today")
    listing.set_defaults(handler=_payments("cmd_bill_list", module="bills"))


def _add_payment_commands(sub, common: argparse.ArgumentParser) -> None:
    """charge, confirm, resend, status, cancel, capture, void, refund, list, outbox,
    test-cards, upi, bill, banks serve, repair, ledger check."""
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument(
        "--json", action="store_true", help="print the payment as one JSON document"
    )
    payment = [common, as_json]
    approved = approver_options()

    charge = sub.add_parser(
        "charge",
        parents=payment,
        help="take a payment: a card (sale, or pre-authorization), UPI (QR, intent, collect), "
        "net banking, cash or a payment link",
        description="Take a card payment, or with --method upi a UPI payment (it answers "
        "pending, with its link and QR; the payer pays it with `paygate upi pay`), "
        "netbanking --bank CODE (pending, with the bank's login page), cash --tendered "
        "AMOUNT (an open shift needed), or link (a hosted checkout page). "
        "`--card -` (or no --card on a terminal) reads the card number and CVV from a "
        "hidden prompt, or from stdin lines (number, then CVV), so they stay out of the "
        "shell history.",
    )
    charge.add_argument("--amount", required=True, help="e.g. 12.50 or 1,250.00")
    charge.add_argument(
        "--method",
        choices=tuple(_CHARGES),
        default="card",
        help="default: card; link: a payment link (the hosted checkout page)",
    )
    charge.add_argument("--currency", help="ISO 4217 code (default: the currency setting)")
    _add_tender_options(charge)
    charge.add_argument(
        "--capture",
        choices=("automatic", "manual"),
        default="automatic",
        help="manual: authorize only; `paygate capture` takes the money later",
    )
    charge.add_argument(
        "--idempotency-key", metavar="K", help="a retry with the same key charges once"
    )
    charge.add_argument(
        "--processor",
        metavar="NAME",
        help="send it to this processor only (stripe, razorpay, paypal, simulated): "
        "no routing rules, no failover",
    )
    charge.set_defaults(handler=works_remotely(_charge))

    confirm = sub.add_parser("confirm", parents=payment, help="enter the OTP of a payment")
    confirm.add_argument("payment_id", metavar="ID")
    confirm.add_argument("--otp", required=True, metavar="CODE", help="the code the bank texted")
    confirm.set_defaults(handler=_payments("cmd_confirm"))

    resend = sub.add_parser("resend", parents=payment, help="ask the bank for a new OTP")
    resend.add_argument("payment_id", metavar="ID")
    resend.set_defaults(handler=_payments("cmd_resend"))

    status = sub.add_parser(
        "status", parents=payment, help="show one payment (a pending one is brought up to date)"
    )
    status.add_argument("payment_id", metavar="ID")
    status.set_defaults(handler=_payments("cmd_status"))

    cancel = sub.add_parser(
        "cancel",
        parents=payment,
        help="give up on a payment waiting for the customer (UPI, net banking, a link)",
    )
    cancel.add_argument("payment_id", metavar="ID")
    cancel.add_argument("--operator", default="cli", help="who is doing this (a user id)")
    cancel.set_defaults(handler=_payments("cmd_cancel"))

    capture = sub.add_parser(
        "capture", parents=payment, help="capture an authorization (once; the rest is released)"
    )
    capture.add_argument("payment_id", metavar="ID")
    capture.add_argument("--amount", help="capture less than authorized (default: all)")
    capture.set_defaults(handler=_payments("cmd_capture"))

    void = sub.add_parser(
        "void", parents=[*payment, approved], help="cancel an authorization (manager approves)"
    )
    void.add_argument("payment_id", metavar="ID")
    void.set_defaults(handler=_payments("cmd_void"))

    refund = sub.add_parser(
        "refund", parents=[*payment, approved], help="refund a captured payment (manager approves)"
    )
    refund.add_argument("payment_id", metavar="ID")
    refund.add_argument("--amount", help="refund part (default: everything left)")
    refund.set_defaults(handler=_payments("cmd_refund"))

    listing = sub.add_parser("list", parents=payment, help="the payments of a business day")
    listing.add_argument("--date", metavar="YYYY-MM-DD", help="default: today")
    listing.add_argument("--limit", type=int, default=200, metavar="N", help="0: all (200)")
    listing.add_argument("--after", metavar="ID", help="the page after this payment")
    listing.set_defaults(handler=_payments("cmd_list"))

    sub.add_parser(
        "outbox", parents=[common], help="text messages on the cardholders' simulated phones"
    ).set_defaults(handler=_payments("cmd_outbox"))

    sub.add_parser(
        "test-cards",
        parents=[common, as_json],
        help="the demo test cards and test UPI IDs, and what each does",
    ).set_defaults(handler=_payments("cmd_test_cards"))
    _add_upi_commands(sub, [common, as_json])
    netbanking = sub.add_parser("netbanking", help="net banking: the simulated banks")
    netbanking.add_subparsers(dest="netbanking_command", required=True).add_parser(
        "banks", parents=[common, as_json], help="the simulated banks and their test logins"
    ).set_defaults(handler=_payments("cmd_netbanking_banks", remote=False, module="netbanking"))
    _add_bill_commands(sub, common)

    sub.add_parser(
        "repair", parents=[common], help="settle payments left open (lost answers, old holds)"
    ).set_defaults(handler=_payments("cmd_repair"))

    banks = sub.add_parser("banks", help="the simulated banks").add_subparsers(
        metavar="ACTION", required=True
    )
    serve = banks.add_parser(
        "serve", parents=[common], help="run the banks over HTTP (for --bank-url)"
    )
    serve.add_argument("--port", type=int, default=8700, help="default: 8700")
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help="where customers' browsers reach the net banking pages (default: http://HOST:PORT)",
    )
    serve.set_defaults(handler=_payments("cmd_banks_serve", remote=False))

    ledger = sub.add_parser("ledger", help="the banks' books").add_subparsers(
        metavar="ACTION", required=True
    )
    ledger.add_parser(
        "check", parents=[common], help="prove the books balance; exit 1 naming the problem"
    ).set_defaults(handler=_payments("cmd_ledger_check", remote=False))


def _add_upi_commands(sub, parents: list[argparse.ArgumentParser]) -> None:
    """upi pay, inbox, decline, payers: the simulated payer app (on the data dir's banks,
    or --bank-url; not through a gateway service)."""
    upi = sub.add_parser(
        "upi", help="the simulated UPI payer app: pay a QR link or a collect request"
    ).add_subparsers(metavar="ACTION", required=True)
    pin_help = "the payer's UPI PIN (prompted, hidden, if left out)"
    pay = upi.add_parser(
        "pay", parents=parents, help="pay a upi://pay link or a collect request, as the payer"
    )
    pay.add_argument(
        "target", metavar="LINK-OR-REQUEST-ID", help="a upi://pay link (quote it) or a request id"
    )
    pay.add_argument("--vpa", required=True, metavar="NAME@BANK", help="the payer's UPI ID")
    pay.add_argument("--pin", help=pin_help)
    pay.set_defaults(handler=_payments("cmd_upi_pay", remote=False, module="upi"))
    inbox = upi.add_parser(
        "inbox", parents=parents, help="the collect requests waiting for a payer"
    )
    inbox.add_argument("--vpa", required=True, metavar="NAME@BANK", help="the payer's UPI ID")
    inbox.set_defaults(handler=_payments("cmd_upi_inbox", remote=False, module="upi"))
    decline = upi.add_parser("decline", parents=parents, help="decline a collect request")
    decline.add_argument("request_id", metavar="REQUEST-ID")
    decline.add_argument("--vpa", required=True, metavar="NAME@BANK", help="the payer's UPI ID")
    decline.set_defaults(handler=_payments("cmd_upi_decline", remote=False, module="upi"))
    upi.add_parser(
        "payers", parents=parents, help="the test UPI IDs of the simulated banks"
    ).set_defaults(handler=_payments("cmd_upi_payers", remote=False, module="upi"))


def build_parser() -> argparse.ArgumentParser:
    """The full command tree."""
    parser = argparse.ArgumentParser(
        prog="paygate",
        description="A keyboard-first payment terminal and merchant console.",
        parents=[_common(None)],
    )
    parser.add_argument("--version", action="version", version=f"paygate {version('paygate')}")
    parser.add_argument(
        "--demo", action="store_true", help="run on the demo data dir with demo cards"
    )
    parser.add_argument("--reset", action="store_true", help="with --demo: start the demo afresh")
    parser.set_defaults(handler=None)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    sub_common = _common(argparse.SUPPRESS)

    keys = sub.add_parser("keys", help="the key file").add_subparsers(
        metavar="ACTION", required=True
    )
    keys.add_parser(
        "rotate", parents=[sub_common], help="add a key version and re-encrypt the vault"
    ).set_defaults(handler=cmd_keys_rotate)
    keys.add_parser("list", parents=[sub_common], help="list key versions").set_defaults(
        handler=cmd_keys_list
    )
    init = keys.add_parser("init", parents=[sub_common], help="make a missing key file")
    init.add_argument(
        "--force", action="store_true", help="even for a data dir with data (see keys init)"
    )
    init.set_defaults(handler=cmd_keys_init)

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(
        metavar="ACTION", required=True
    )
    audit.add_parser(
        "verify", parents=[sub_common], help="check the audit chain; exit 1 if broken"
    ).set_defaults(handler=cmd_audit_verify)

    _add_payment_commands(sub, sub_common)
    sub.add_parser(
        "pos", parents=[sub_common], help="open the cashier's terminal (also: no command)"
    ).set_defaults(handler=None)  # main() opens the terminal when no handler is set
    add_admin_commands(sub, sub_common)
    add_report_commands(sub, sub_common)
    add_service_commands(sub, sub_common)
    add_shift_commands(sub, sub_common)
    add_checkout_commands(sub, sub_common)
    add_web_command(sub, sub_common)
    add_db_commands(sub, sub_common)
    add_webhook_commands(sub, sub_common)
    return parser


def _terminal_ids(args: argparse.Namespace, settings: Settings) -> dict[str, str]:
    """The ids every log line of a command carries: one terminal's work, the settings'
    merchant and terminal; a server's requests name their own."""
    if args.command in SERVERS:
        return {}
    return {"merchant_id": settings.merchant_id, "terminal_id": settings.terminal_id}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `paygate` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.reset and not args.demo:
        parser.error("--reset only goes with --demo")
    try:
        data_dir = args.data_dir or (demo_data_dir() if args.demo else None)
        settings = load_settings(
            args.config,
            data_dir=data_dir,
            bank_url=args.bank_url,
            gateway_url=args.gateway_url,
            api_key=args.api_key,
            log_format=args.log_format,
            database_url=args.database_url,
        )
        if args.handler is not None:
            configure_logging(settings.log_format)
            configure_tracing()  # OTEL_TRACES_EXPORTER: none unless set
            if not getattr(args.handler, "remote", False):
                refuse_remote(settings, args.command)
            with log_context(**_terminal_ids(args, settings)):
                code = args.handler(args, settings)
            sys.stdout.flush()  # a closed pipe is found here, not at exit
            return code
        from paygate_cli.terminal import run_app  # the terminal: `paygate`, `paygate pos`, `--demo`

        return run_app(settings, demo=args.demo, reset=args.reset)
    except BrokenPipeError:
        # The reader went away (`| head`): drop the rest quietly, the Python docs' way
        # (stdout onto devnull, so the flush at exit finds no pipe to fail on).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_EXIT
    except PaygateError as exc:
        print(f"paygate: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"paygate: {exc.strerror or exc} ({exc.filename or 'no file'})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("paygate: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
