"""The `paygate` command line: the parser and the registry of commands.

Exit codes: 0 done, 1 system failure (storage, keys, lock, bank), 2 bad input, 141
when the reader of stdout went away (`paygate list | head -1`: the rest of the output is
dropped quietly, as a Unix tool killed by SIGPIPE would; 141 is 128 + SIGPIPE).
Every command takes `--data-dir`, `--config`, `--bank-url`, and `--gateway-url` with
`--api-key` (a `paygate serve` to use, see `gateway_core.service`). With a gateway URL
(option or PAYGATE_GATEWAY_URL) a command marked `works_remotely` goes through the
service and opens no data dir; any other command is refused (exit 2). The payment
commands' handlers live in `paygate_cli.payments`, imported when one of them runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path

from platformdirs import user_data_path

from gateway_core.errors import InputError, PaygateError
from gateway_core.keys import KeyFileError, Keyring
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings, load_settings
from gateway_core.store import DataStore

Handler = Callable[[argparse.Namespace, Settings], int]
SIGPIPE_EXIT = 141  # 128 + SIGPIPE: what a shell reports for `yes | head -1`'s `yes`


def works_remotely(handler: Handler) -> Handler:
    """Mark a command that goes through `paygate serve` when a gateway URL is given
    (every other command is refused then, see `refuse_remote`)."""
    handler.remote = True  # type: ignore[attr-defined]
    return handler


def refuse_remote(settings: Settings, command: str) -> None:
    """Refuse (exit 2) a command that needs the data dir when a gateway URL is set."""
    if settings.gateway_url is not None:
        raise InputError(
            f"`paygate {command}` works on a data dir only, not through a gateway service: "
            "run it without --gateway-url (or PAYGATE_GATEWAY_URL)"
        )


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
    return common


def _payments(name: str, *, remote: bool = True) -> Handler:
    """The handler `name` of `paygate_cli.payments`, imported when it runs; it
    `works_remotely` unless `remote` is False."""

    def handler(args: argparse.Namespace, settings: Settings) -> int:
        from paygate_cli import payments as payment_commands

        return getattr(payment_commands, name)(args, settings)

    handler.__name__ = name
    return works_remotely(handler) if remote else handler


def _add_payment_commands(sub, common: argparse.ArgumentParser) -> None:
    """charge, confirm, resend, status, capture, void, refund, list, outbox, test-cards,
    banks serve, repair, ledger check."""
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument(
        "--json", action="store_true", help="print the payment as one JSON document"
    )
    payment = [common, as_json]
    approved = approver_options()

    charge = sub.add_parser(
        "charge",
        parents=payment,
        help="take a card payment (sale, or pre-authorization with --capture manual)",
        description="Take a card payment. `--card -` (or no --card on a terminal) reads "
        "the card number and CVV from a hidden prompt, or from stdin lines (number, "
        "then CVV), so they stay out of the shell history.",
    )
    charge.add_argument("--amount", required=True, help="e.g. 12.50 or 1,250.00")
    charge.add_argument("--currency", help="ISO 4217 code (default: the currency setting)")
    charge.add_argument("--card", metavar="PAN", help="card number, or - to read it from stdin")
    charge.add_argument("--exp", required=True, metavar="MM/YY", help="expiry date")
    charge.add_argument("--cvv", help="security code (read with the card number if left out)")
    charge.add_argument(
        "--capture",
        choices=("automatic", "manual"),
        default="automatic",
        help="manual: authorize only; `paygate capture` takes the money later",
    )
    charge.add_argument(
        "--idempotency-key", metavar="K", help="a retry with the same key charges once"
    )
    charge.set_defaults(handler=_payments("cmd_charge"))

    confirm = sub.add_parser("confirm", parents=payment, help="enter the OTP of a payment")
    confirm.add_argument("payment_id", metavar="ID")
    confirm.add_argument("--otp", required=True, metavar="CODE", help="the code the bank texted")
    confirm.set_defaults(handler=_payments("cmd_confirm"))

    resend = sub.add_parser("resend", parents=payment, help="ask the bank for a new OTP")
    resend.add_argument("payment_id", metavar="ID")
    resend.set_defaults(handler=_payments("cmd_resend"))

    status = sub.add_parser("status", parents=payment, help="show one payment")
    status.add_argument("payment_id", metavar="ID")
    status.set_defaults(handler=_payments("cmd_status"))

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
    listing.set_defaults(handler=_payments("cmd_list"))

    sub.add_parser(
        "outbox", parents=[common], help="text messages on the cardholders' simulated phones"
    ).set_defaults(handler=_payments("cmd_outbox"))

    sub.add_parser(
        "test-cards", parents=[common, as_json], help="the demo test cards and what each does"
    ).set_defaults(handler=_payments("cmd_test_cards"))

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
    serve.set_defaults(handler=_payments("cmd_banks_serve", remote=False))

    ledger = sub.add_parser("ledger", help="the banks' books").add_subparsers(
        metavar="ACTION", required=True
    )
    ledger.add_parser(
        "check", parents=[common], help="prove the books balance; exit 1 naming the problem"
    ).set_defaults(handler=_payments("cmd_ledger_check", remote=False))


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
    from paygate_cli.admin import add_admin_commands  # it imports this module

    add_admin_commands(sub, sub_common)
    from paygate_cli.reports import add_report_commands  # it imports this module

    add_report_commands(sub, sub_common)
    from paygate_cli.service import add_service_commands  # it imports this module

    add_service_commands(sub, sub_common)
    return parser


def approver_options() -> argparse.ArgumentParser:
    """The options of a command a manager approves: --operator, --approver, --approver-pin."""
    approved = argparse.ArgumentParser(add_help=False)
    approved.add_argument("--operator", default="cli", help="who is doing this (a user id)")
    approved.add_argument("--approver", metavar="ID", help="the approving manager's user id")
    approved.add_argument(
        "--approver-pin", metavar="PIN", help="the manager's PIN (prompted, hidden, if left out)"
    )
    return approved


def open_runtime(settings: Settings, **options: bool) -> Runtime:
    """Open the data dir, telling the operator what a crash left to repair."""
    rt = Runtime.open(settings, **options)
    for note in rt.store.recovered:
        print(f"paygate: warning: {note}", file=sys.stderr)
    return rt


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    """Add a key version, then re-encrypt every token under it."""
    with open_runtime(settings, create=False) as rt:
        new = rt.keyring.rotate()
        count = rt.vault.rekey()
        rt.audit.record("cli", "keys.rotate", f"key v{new.version}", reencrypted=count)
    print(f"key version {new.version} is now current; {count} vault tokens re-encrypted")
    return 0


def cmd_keys_init(args: argparse.Namespace, settings: Settings) -> int:
    """Make the key file when there is none. A data dir with data needs --force: what
    the lost key protected (vault cards, audit MACs) stays unreadable under a new one."""
    path = settings.resolved_key_file
    if path.exists():
        raise KeyFileError(f"key file {path} already exists; paygate never replaces a key")
    if DataStore.has_data(settings.data_dir) and not args.force:
        raise KeyFileError(
            f"{settings.data_dir} holds data made under the lost key: restore {path} from "
            "your backup; `paygate keys init --force` makes a new key anyway (the vault's "
            "cards cannot be read and the audit log no longer verifies with it)"
        )
    Keyring.open(path, create=True)
    print(f"key file {path} made; keep a backup of it apart from the data dir")
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print the key versions (never the keys)."""
    with open_runtime(settings, read_only=True) as rt:
        for key in rt.keyring.versions:
            mark = "  (current)" if key is rt.keyring.current else ""
            print(f"v{key.version}  created {key.created}{mark}")
    return 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    """Check the data files and walk the audit chain: exit 0 when both are intact, 1
    naming each missing or damaged file and the first bad seq."""
    with open_runtime(settings, read_only=True) as rt:
        problems = rt.store.check()
        verdict = rt.audit.verify()
    for problem in problems:
        print(f"paygate: {problem}", file=sys.stderr)
    print(verdict, file=sys.stdout if verdict.ok else sys.stderr)
    return 0 if verdict.ok and not problems else 1


def demo_data_dir() -> Path:
    """The demo's own data dir, apart from real data."""
    return user_data_path("paygate") / "demo"


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
        )
        if args.handler is not None:
            if not getattr(args.handler, "remote", False):
                refuse_remote(settings, args.command)
            code = args.handler(args, settings)
            sys.stdout.flush()  # a closed pipe is found here, not at exit
            return code
        from pos_app.app import run_app  # the terminal: `paygate`, `paygate pos`, `--demo`

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
