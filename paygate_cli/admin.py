"""The user, risk and card-data commands of `paygate`.

`users add|list|lock|unlock|reset-pin` (changes need a merchant admin's ID and PIN),
`risk rules` (the active rules and thresholds), `risk blocks` (what is blocked now
and until when), `risk explain ID [--json]` (a payment's score and the factors behind it),
`pci-scan PATH` (card numbers or CVVs in files: exit 1 when any is found). Users and
blocks are a merchant's own: `--merchant M` chooses whose (default: the setting).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway_core.access import ADMINS, Access, check_pin
from gateway_core.audit import mask_card_numbers
from gateway_core.errors import InputError
from gateway_core.money import Money
from gateway_core.payment_records import load_payment
from gateway_core.payments import Payment
from gateway_core.pciscan import scan
from gateway_core.presentation import format_money, stamp_text
from gateway_core.risk import RiskEngine
from gateway_core.runtime import Runtime
from gateway_core.service.keys import ApiKeys
from gateway_core.settings import Settings
from paygate_cli.common import open_runtime
from paygate_cli.payments import _print_json, _read_secret, _stdin_is_tty
from paygate_cli.risk import add_model_commands, model_lines, model_status


def merchant_option() -> argparse.ArgumentParser:
    """`--merchant M`: the merchant whose data a local command reads or changes."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--merchant", metavar="M", help="merchant id (default: the setting)")
    return parser


def merchant_of(args: argparse.Namespace, rt: Runtime) -> str:
    """`--merchant` (the settings' merchant by default), refused unless it is boarded:
    the settings' merchant, or one that was issued a terminal key."""
    home = rt.settings.merchant_id
    merchant = getattr(args, "merchant", None) or home
    if not (merchant.isascii() and merchant.isalnum() and len(merchant) <= 15):
        raise InputError("a merchant id is 1 to 15 letters or digits")
    keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
    if merchant != home and merchant not in {k.merchant_id for k in keys.list()}:
        raise InputError(
            f"no merchant {mask_card_numbers(merchant)}: a merchant is boarded with its "
            "first terminal key (`paygate terminals add --merchant M --terminal T`)"
        )
    return merchant


def approvers(rt: Runtime, merchant_id: str) -> Access:
    """Who approves for a merchant: its own managers and admins; for a merchant with no
    users yet (just boarded), the settings' merchant's, who add its first admin."""
    access = rt.access.of(merchant_id)
    return access if access.list() else rt.access


def _admin(
    args: argparse.Namespace, rt: Runtime, action: str, subject: str, merchant_id: str
) -> str:
    """The admin approving a change for a merchant; returns their id."""
    if not args.admin:
        raise InputError("a merchant admin must approve: give --admin ID (and the PIN)")
    pin = args.admin_pin or _read_secret("Admin PIN: ", "the admin's PIN", _stdin_is_tty())
    approver = approvers(rt, merchant_id).approve(
        args.admin, pin, action=action, subject=subject, operator=args.admin, roles=ADMINS
    )
    return approver.id


def _new_pin(args: argparse.Namespace) -> str:
    pin = args.pin or _read_secret("New PIN: ", "the new PIN", _stdin_is_tty())
    return check_pin(pin)


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    """users add|list|lock|unlock|reset-pin."""
    if args.action == "list":
        with open_runtime(settings, read_only=True) as rt:
            users = rt.access.of(merchant_of(args, rt)).list()
        print(f"{'ID':<12} {'ROLE':<8} {'NAME':<28} STATE")
        for user in users:
            state = f"locked until {user.locked_until:%Y-%m-%d %H:%M}" if user.locked_until else ""
            print(f"{user.id:<12} {user.role:<8} {user.name:<28} {state}".rstrip())
        return 0
    with open_runtime(settings, create=False) as rt:
        merchant = merchant_of(args, rt)
        access: Access = rt.access.of(merchant)
        user_id = args.user_id

        def admin(action: str) -> str:
            return _admin(args, rt, f"users.{action}", user_id, merchant)

        if args.action == "add":
            pin = _new_pin(args)
            user = access.add(user_id, args.name or user_id, args.role, pin, actor=admin("add"))
        else:
            access.get(user_id)  # an unknown user is refused before any PIN
            if args.action == "reset-pin":
                pin = _new_pin(args)
                user = access.reset_pin(user_id, pin, actor=admin("reset-pin"))
            elif args.action == "lock":
                user = access.lock(user_id, actor=admin("lock"))
            else:
                user = access.unlock(user_id, actor=admin("unlock"))
    print(f"{user.id} ({user.role}): {args.action} done")
    return 0


def cmd_risk(args: argparse.Namespace, settings: Settings) -> int:
    """risk rules|blocks|explain ID."""
    with open_runtime(settings, read_only=True) as rt:
        state = rt.records.risk
        engine = RiskEngine(state, settings.risk, rt.clock, settings.tz, home=settings.merchant_id)
        if args.action == "rules":
            _print_rules(engine, settings)
        elif args.action == "blocks":
            blocks = engine.blocks(merchant_of(args, rt))
            if not blocks:
                print("nothing is blocked now")
            for block in blocks:
                until = stamp_text(block.until, settings.tz, seconds=False)
                key = block.key if block.scope == "terminal" else f"card {block.key[:12]}…"
                print(f"{block.scope:<9} {key:<20} until {until}  {block.rule}: {block.reason}")
        else:
            if not args.payment_id:
                raise InputError("risk explain needs a payment id")
            payment = load_payment(rt.records.payments, args.payment_id, rt.records.refunds)
            if args.json:
                risk = payment.risk
                _print_json(
                    {
                        "payment_id": payment.id,
                        "risk": risk.model_dump(mode="json") if risk else None,
                    }
                )
            else:
                _explain(payment)
    return 0


def _print_rules(engine: RiskEngine, settings: Settings) -> None:
    limits = engine.limits
    print("Order: request OTP → allow → block → review (first match in each class decides)")
    for rule in engine.rules:
        print(f"  {rule.kind:<7} {rule.name:<19} +{rule.points:<3} {rule.describe}")
    threshold = format_money(Money(limits.step_up_threshold, settings.currency))
    print("Thresholds:")
    print(
        f"  OTP above {threshold}; above {limits.usual_ticket_factor}x the average ticket "
        f"(after {limits.usual_ticket_min_history} approved payments)"
    )
    print(
        f"  a card: at most {limits.per_minute} attempts a minute, {limits.per_day} a day; "
        f"{limits.card_declines} declines block it for the rest of the day"
    )
    print(
        f"  a terminal: {limits.testing_declines} declines in {limits.testing_window_min} "
        f"minutes pause it for {limits.testing_pause_min} minutes"
    )
    print(f"  merchant country {limits.merchant_country}; other countries go to review")
    print(model_status(settings))


def _explain(payment: Payment) -> None:
    risk = payment.risk
    if risk is None:
        print(f"{payment.id}: no risk assessment recorded")
        return
    review = "  (flagged for review)" if risk.review else ""
    print(f"{payment.id}: score {risk.score}/100, verdict {risk.action}{review}")
    if risk.rule:
        print(f"decided by {risk.rule}: {risk.reason}")
    for factor in risk.factors:
        print(f"  +{factor.points:<3} {factor.rule}: {factor.reason}")
    if not risk.factors:
        print("  no rule matched")
    if risk.model is not None:
        print("\n".join(model_lines(risk.model)))


def cmd_pci_scan(args: argparse.Namespace, settings: Settings) -> int:
    """Report card numbers and CVV fields in files (masked); exit 1 if any."""
    root = args.path or settings.data_dir
    if not root.exists():
        raise InputError(f"{root} does not exist")
    findings = scan(root)
    for finding in findings:
        print(finding)
    files = sum(1 for _ in root.rglob("*")) if root.is_dir() else 1
    print(f"{len(findings)} finding(s) in {root} ({files} files and folders looked at)")
    return 1 if findings else 0


def add_admin_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register `users`, `risk` and `pci-scan` on the command tree."""
    admin = argparse.ArgumentParser(add_help=False)
    admin.add_argument("--admin", metavar="ID", help="the approving merchant admin's user id")
    admin.add_argument("--admin-pin", metavar="PIN", help="the admin's PIN (prompted if left out)")
    users = sub.add_parser("users", help="cashiers, managers and admins").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    merchant = merchant_option()
    users.add_parser("list", parents=[common, merchant], help="every user and lock").set_defaults(
        handler=cmd_users
    )
    add = users.add_parser("add", parents=[common, admin, merchant], help="add a user")
    add.add_argument("user_id", metavar="ID")
    add.add_argument("--name", help="the name shown on screens and receipts")
    add.add_argument("--role", choices=["cashier", "manager", "admin"], default="cashier")
    add.add_argument("--pin", help="4-8 digits (prompted, hidden, if left out)")
    add.set_defaults(handler=cmd_users)
    for action, text in (
        ("lock", "lock a user for 15 minutes"),
        ("unlock", "lift a lock"),
        ("reset-pin", "set a new PIN and lift any lock"),
    ):
        parser = users.add_parser(action, parents=[common, admin, merchant], help=text)
        parser.add_argument("user_id", metavar="ID")
        if action == "reset-pin":
            parser.add_argument("--pin", help="4-8 digits (prompted, hidden, if left out)")
        parser.set_defaults(handler=cmd_users)
    risk = sub.add_parser("risk", help="the risk rules").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    risk.add_parser("rules", parents=[common], help="active rules and thresholds").set_defaults(
        handler=cmd_risk, payment_id=None
    )
    risk.add_parser("blocks", parents=[common, merchant], help="what is blocked now").set_defaults(
        handler=cmd_risk, payment_id=None
    )
    explain = risk.add_parser("explain", parents=[common], help="a payment's score and factors")
    explain.add_argument("payment_id", metavar="ID")
    explain.add_argument(
        "--json", action="store_true", help="print the score and factors as one JSON document"
    )
    explain.set_defaults(handler=cmd_risk)
    add_model_commands(risk, common)
    pci = sub.add_parser(
        "pci-scan", parents=[common], help="look for card numbers and CVVs in files"
    )
    pci.add_argument("path", nargs="?", type=Path, help="a file or folder (default: the data dir)")
    pci.set_defaults(handler=cmd_pci_scan)
