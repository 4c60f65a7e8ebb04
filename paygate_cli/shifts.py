"""The shift commands of `paygate`: a cashier's shift and its drawer.

- `shift open --count 500x2,100x5 [--cashier asha]`: open a shift on this terminal with
  its counted float (notes and coins in major units × pieces).
- `shift close ID --count ... [--approver ID]`: close it with the counted drawer; a
  short over `cash.short_approval_over` needs a manager.
- `shift paid-in|paid-out ID --amount A --reason TEXT --approver ID`: cash in or out
  of the drawer, a manager approving.
- `shift show [ID]`: the shift report (the open shift on this terminal by default).
- `shift list [--date D]`: the shifts of a business day and those still open.

Every one works through a gateway service too (`--gateway-url`); `--json` prints one
JSON document. A bad count or amount is one line and exit 2, nothing stored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import tzinfo
from typing import Any, Literal, TypeVar

from gateway_core.errors import InputError
from gateway_core.money import normalize_currency, parse_amount
from gateway_core.ports import ShiftsAPI
from gateway_core.presentation import money_text
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings
from gateway_core.settlement import DayNotReady, parse_day
from gateway_core.shift_models import Count, Shift
from gateway_core.shifts import MAX_REASON, Shifts
from paygate_cli.common import Handler, approver_options, works_remotely
from paygate_cli.shift_text import parse_count, report_lines, shift_line

T = TypeVar("T")


def _with_shifts(
    settings: Settings, act: Callable[[ShiftsAPI], Awaitable[T]], *, create: bool = False
) -> T:
    """Run `act` on the gateway's shifts (local, or the service's); `create`: start a
    data dir (opening the first shift does)."""
    from paygate_cli.payments import gateway_session  # the gateway's imports, when run

    async def run() -> T:
        async with gateway_session(settings, create=create, repair=False) as (_rt, gateway):
            return await act(gateway.shifts)

    return asyncio.run(run())


def _print_json(document: Any) -> None:
    print(json.dumps(document, ensure_ascii=False, indent=2))


def _count(args: argparse.Namespace, settings: Settings) -> Count:
    return parse_count(args.count, normalize_currency(settings.currency))


def _approval(args: argparse.Namespace, *, required: bool) -> Any:
    from paygate_cli.payments import read_approval

    return read_approval(args) if required or args.approver else None


def _show_report(report: Any, args: argparse.Namespace, settings: Settings) -> int:
    if args.json:
        _print_json(report.model_dump(mode="json"))
    else:
        print("\n".join(report_lines(report, settings.tz)))
    return 0


# ---------------------------------------------------------------------------- commands
def cmd_shift_open(args: argparse.Namespace, settings: Settings) -> int:
    """Open a shift with its counted float."""
    count = _count(args, settings)

    async def act(shifts: ShiftsAPI) -> Shift:
        return await shifts.open_shift(count=count, cashier=args.cashier)

    shift = _with_shifts(settings, act, create=True)
    if args.json:
        _print_json(shift.model_dump(mode="json"))
    else:
        print(shift_line(shift, settings.tz))
        print(f"next: paygate charge --method cash ...   close: paygate shift close {shift.id}")
    return 0


def cmd_shift_close(args: argparse.Namespace, settings: Settings) -> int:
    """Close a shift with the counted drawer (a manager approves a big short)."""
    count = _count(args, settings)
    approval = _approval(args, required=False)

    async def act(shifts: ShiftsAPI) -> Any:
        return await shifts.close_shift(
            args.shift_id, count=count, operator=args.operator, approval=approval
        )

    return _show_report(_with_shifts(settings, act), args, settings)


MoveKind = Literal["paid_in", "paid_out"]


def _move(kind: MoveKind) -> Handler:
    def cmd(args: argparse.Namespace, settings: Settings) -> int:
        """Paid in / paid out, with a reason, a manager approving."""
        currency = normalize_currency(settings.currency)
        amount = parse_amount(args.amount, currency, max_minor=settings.max_minor(currency))
        if not 1 <= len(args.reason.strip()) <= MAX_REASON:
            raise InputError(f"--reason is 1 to {MAX_REASON} characters")
        approval = _approval(args, required=True)

        async def act(shifts: ShiftsAPI) -> Any:
            return await shifts.move_cash(
                args.shift_id,
                kind=kind,
                amount=amount.minor,
                reason=args.reason,
                operator=args.operator,
                approval=approval,
            )

        move = _with_shifts(settings, act)
        if args.json:
            _print_json(move.model_dump(mode="json"))
        else:
            what = kind.replace("_", " ")
            shown = money_text(move.amount, currency)
            print(f"{what} {shown} on {move.shift_id}: {move.reason}  ({move.id})")
        return 0

    cmd.__name__ = f"cmd_shift_{kind}"
    return cmd


def cmd_shift_show(args: argparse.Namespace, settings: Settings) -> int:
    """A shift's report (the open shift on this terminal by default)."""

    async def act(shifts: ShiftsAPI) -> Any:
        shift_id = args.shift_id
        if shift_id is None:
            current = shifts.current_shift()
            if current is None:
                raise InputError("no shift is open on this terminal: give a shift id")
            shift_id = current.id
        return shifts.shift_report(shift_id)

    return _show_report(_with_shifts(settings, act), args, settings)


def cmd_shift_list(args: argparse.Namespace, settings: Settings) -> int:
    """The shifts of a business day and those still open, oldest first."""
    day = None if args.date is None else parse_day(args.date)

    async def act(shifts: ShiftsAPI) -> list[Shift]:
        return shifts.shifts(day)

    found = _with_shifts(settings, act)
    if args.json:
        _print_json([s.model_dump(mode="json") for s in found])
    elif not found:
        print("no shifts")
    else:
        print("\n".join(shift_line(s, settings.tz) for s in found))
    return 0


# ---------------------------------------------------------------------------- X and Z
def drawer_shifts(rt: Runtime, merchant_id: str) -> Shifts:
    """A merchant's shifts on an open runtime (reading, or closing them for a Z)."""
    return Shifts(rt.records.shifts, rt.settings, rt.audit, rt.clock).of(merchant_id)


def remote_open_shifts(settings: Settings) -> list[Shift]:
    """The open shifts of the service's merchant (for its X report)."""

    async def act(shifts: ShiftsAPI) -> list[Shift]:
        return [s for s in shifts.shifts() if s.status == "open"]

    return _with_shifts(settings, act)


def open_shift_lines(shifts: Sequence[Shift], tz: tzinfo | None) -> list[str]:
    """What an X report adds about the shifts still open (nothing when none is)."""
    if not shifts:
        return []
    return ["", f"open shifts ({len(shifts)}):", *(f"  {shift_line(s, tz)}" for s in shifts)]


def refuse_open_shifts(still: list[str]) -> None:
    """A Z refused while shifts are open, before any PIN is asked."""
    if still:
        raise DayNotReady(
            f"close the open shifts first: {', '.join(still)} (or --close-shifts: "
            "the approving manager closes them uncounted)"
        )


# ---------------------------------------------------------------------------- the parser
def add_shift_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `shift open|close|paid-in|paid-out|show|list` on the command tree."""
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print one JSON document")
    parents = [common, as_json]
    approved = [*parents, approver_options()]
    counted = argparse.ArgumentParser(add_help=False)
    counted.add_argument(
        "--count",
        required=True,
        metavar="NOTExPIECES,...",
        help="the drawer counted: note or coin (major units) × pieces, e.g. 500x2,100x5,1x3",
    )
    shift = sub.add_parser("shift", help="a cashier's shift and its cash drawer")
    actions = shift.add_subparsers(metavar="ACTION", required=True)

    opening = actions.add_parser("open", parents=[*parents, counted], help="open with a float")
    opening.add_argument("--cashier", default="cli", help="who works the shift (a user id)")
    opening.set_defaults(handler=works_remotely(cmd_shift_open))

    closing = actions.add_parser(
        "close", parents=[*approved, counted], help="close with the counted drawer"
    )
    closing.add_argument("shift_id", metavar="ID")
    closing.set_defaults(handler=works_remotely(cmd_shift_close))

    kinds: tuple[tuple[str, MoveKind], ...] = (("paid-in", "paid_in"), ("paid-out", "paid_out"))
    for name, kind in kinds:
        move = actions.add_parser(
            name, parents=approved, help=f"cash {name.split('-')[1]} of the drawer (a manager)"
        )
        move.add_argument("shift_id", metavar="ID")
        move.add_argument("--amount", required=True, help="e.g. 500 or 1,250.50")
        move.add_argument("--reason", required=True, help="why (1 to 80 characters)")
        move.set_defaults(handler=works_remotely(_move(kind)))

    show = actions.add_parser("show", parents=parents, help="a shift's report")
    show.add_argument("shift_id", metavar="ID", nargs="?", help="default: the open one here")
    show.set_defaults(handler=works_remotely(cmd_shift_show))

    listing = actions.add_parser("list", parents=parents, help="the shifts of a day")
    listing.add_argument("--date", "--day", metavar="YYYY-MM-DD", help="default: today")
    listing.set_defaults(handler=works_remotely(cmd_shift_list))
