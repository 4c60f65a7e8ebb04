"""The settlement commands of `paygate`: report x|z|shifts, settle, reconcile, export,
demo seed.

- `report x [--date D]`: the day so far; read-only, any number of times.
- `report z [--date D] --approver ID`: close the day (a manager approves). Closing a
  closed day prints its stored Z and exits 2 ("already closed"), changing nothing.
- `report shifts [--date D]`: the day's shift reports (each drawer, its count).
- `settle [--date D] --approver ID`: the Z, the payout and the reconciliation.
- `reconcile [--date D]`: the day against each tender's other side (the acquirer's
  clearing file, the UPI switch's file, each net banking bank's file, the drawers of
  the day's shifts); exit 1 on breaks.
- `export [--date D] --format csv|json [--out FILE [--force]]`: never inside the data dir,
  never over an existing file without --force, written whole or not at all.
- `demo seed [--days 7] [--per-day 500]`: a week of history through the real gateway.

Dates are YYYY-MM-DD in the merchant's timezone, today by default; a date in the future
is refused (exit 2) before anything is opened. `--merchant M` chooses whose day (the
`merchant_id` setting by default): each merchant has its own reports and Z numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from gateway_core.clock import SystemClock, business_day
from gateway_core.errors import BankUnavailable, InputError
from gateway_core.presentation import money_text
from gateway_core.settings import Settings
from gateway_core.settlement import (
    DayReport,
    Reconciliation,
    Settlement,
    format_reconciliation,
    format_report,
    parse_day,
    payout_lines,
)
from gateway_core.settlement.shift_reports import shift_reports
from gateway_core.shift_models import Shift
from gateway_core.shifts import Shifts
from gateway_core.store.files import make_private_dir, write_atomically
from paygate_cli.admin import approvers, merchant_of
from paygate_cli.common import (
    approver_options,
    demo_data_dir,
    open_runtime,
    refuse_remote,
    works_remotely,
)
from paygate_cli.payments import gateway_session, read_approval, remote_x_report
from paygate_cli.shift_text import report_lines
from paygate_cli.shifts import (
    drawer_shifts,
    open_shift_lines,
    refuse_open_shifts,
    remote_open_shifts,
)


# ---------------------------------------------------------------------------- arguments
def day_arg(args: argparse.Namespace, settings: Settings) -> date:
    """`--date` (today by default), refused when malformed or in the future."""
    today = business_day(SystemClock(), settings.tz)
    if args.date is None:
        return today
    day = parse_day(args.date)
    if day > today:
        raise InputError(f"{day} is in the future (today is {today})")
    return day


def _settlement(args: argparse.Namespace, rt, **kw: Any) -> Settlement:
    """The settlement of `--merchant` (the settings' merchant by default)."""
    merchant = merchant_of(args, rt)
    return Settlement(rt.records, rt.settings, clock=rt.clock, merchant_id=merchant, **kw)


async def _reconcile(svc: Settlement, gateway, day: date) -> Reconciliation:
    """The day against every tender's other side: the acquirer, the UPI switch, the net
    banking banks and the drawers of the day's shifts."""
    shifts = shift_reports(gateway.shifts.of(svc.merchant_id), day)
    return await svc.reconcile(day, gateway.bank, gateway.upi, gateway.netbanking, shifts)


def _approver(args: argparse.Namespace, rt, svc: Settlement, day: date) -> str:
    """The manager approving the close of the merchant's day; returns their id."""
    approval = read_approval(args)
    return (
        approvers(rt, svc.merchant_id)
        .approve(
            approval.user_id,
            approval.pin,
            action="close_day",
            subject=day.isoformat(),
            operator=args.operator,
        )
        .id
    )


# ---------------------------------------------------------------------------- output
def _print_json(document: Any) -> None:
    print(json.dumps(document, ensure_ascii=False, indent=2))


def _already(report: DayReport, settings: Settings) -> str:
    closed = (
        f"{report.closed_at.astimezone(settings.tz):%Y-%m-%d %H:%M}" if report.closed_at else "?"
    )
    return (
        f"business day {report.day} is already closed (Z report {report.number}, "
        f"{closed} by {report.closed_by}): this is that report; nothing changed"
    )


# ---------------------------------------------------------------------------- commands
@works_remotely
def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """report x: the day so far (through a gateway service when one is given). report z:
    close it (or show the Z it was closed with). report shifts: the day's shifts."""
    day = day_arg(args, settings)
    if args.kind == "x" and settings.gateway_url is not None:
        if args.merchant:
            raise InputError("with --gateway-url, the report is of the merchant of --api-key")

        _show(remote_x_report(settings, day), args, settings, remote_open_shifts(settings))
        return 0
    if args.kind == "shifts":
        refuse_remote(settings, "report shifts")
        return _report_shifts(args, settings, day)
    if args.kind == "x":
        with open_runtime(settings, read_only=True) as rt:
            report = _settlement(args, rt).x_report(day)
            still = drawer_shifts(rt, merchant_of(args, rt)).open_shifts()
        _show(report, args, settings, still)
        return 0
    refuse_remote(settings, "report z")
    with open_runtime(settings, create=False) as rt:
        svc = _settlement(args, rt, audit=rt.audit)
        report, already, problems = _close(args, rt, svc, day)
    _show(report, args, settings)
    return _outcome(report, already, problems, settings)


def _report_shifts(args: argparse.Namespace, settings: Settings, day: date) -> int:
    """The day's shift reports (those opened on it and those still open)."""
    with open_runtime(settings, read_only=True) as rt:
        shifts = Shifts(rt.records.shifts, rt.settings, rt.audit, rt.clock, payment=rt.payment)
        reports = shift_reports(shifts.of(merchant_of(args, rt)), day)
    if args.json:
        _print_json([r.model_dump(mode="json") for r in reports])
        return 0
    lines = [f"SHIFTS business day {day:%a %Y-%m-%d}: {len(reports)}"]
    for report in reports:
        lines += ["", *report_lines(report, settings.tz)]
    print("\n".join(lines))
    return 0


def _close(
    args: argparse.Namespace, rt, svc: Settlement, day: date
) -> tuple[DayReport, bool, list[str]]:
    """Close the day, a manager approving; a closed day gives back its stored Z (and
    what a check of the closed day found wrong with it)."""
    stored = svc.closing(day)
    if stored is not None:
        return stored, True, svc.check_closing(day)
    shifts = drawer_shifts(rt, svc.merchant_id)
    if not args.close_shifts:
        refuse_open_shifts(shifts.still_open(day))
    svc.z_preview(day)  # open payments or an empty day are refused before any PIN
    approver = _approver(args, rt, svc, day)
    uncounted = shifts.open_shifts(day)  # --close-shifts: the manager closes them
    shifts.close_uncounted(uncounted, operator=args.operator, approver=approver)
    report, _already = svc.close_day(day, closed_by=approver, open_shifts=shifts.still_open)
    return report, False, []


def _show(
    report: DayReport, args: argparse.Namespace, settings: Settings, shifts: Sequence[Shift] = ()
) -> None:
    """The report (an X's open shifts after it)."""
    if args.json:
        extra = {"open_shifts": [s.model_dump(mode="json") for s in shifts]} if shifts else {}
        _print_json({**report.model_dump(mode="json"), **extra})
    else:
        print("\n".join(format_report(report, settings) + open_shift_lines(shifts, settings.tz)))


def _outcome(report: DayReport, already: bool, problems: list[str], settings: Settings) -> int:
    """0 closed now; 2 closed before (the same report, nothing changed); 1 when the
    closed day no longer matches its Z."""
    if not already:
        return 0
    print(f"paygate: {_already(report, settings)}", file=sys.stderr)
    for problem in problems:
        print(f"paygate: warning: {problem}", file=sys.stderr)
    return 1 if problems else 2


def cmd_settle(args: argparse.Namespace, settings: Settings) -> int:
    """Close the day (Z), then show the payout and reconcile with the acquirer."""
    day = day_arg(args, settings)

    async def run() -> tuple[DayReport, bool, list[str], Reconciliation | None, str | None]:
        async with gateway_session(settings) as (rt, gateway):
            svc = _settlement(args, rt, audit=rt.audit)
            report, already, problems = _close(args, rt, svc, day)
            try:
                rec = await _reconcile(svc, gateway, day)
            except BankUnavailable as exc:
                return report, already, problems, None, str(exc)
            return report, already, problems, rec, None

    report, already, problems, rec, failure = asyncio.run(run())
    if args.json:
        _print_json(
            {
                "report": report.model_dump(mode="json"),
                "payouts": [p.model_dump(mode="json") for p in report.payouts],
                "reconciliation": rec.document() if rec else None,
                "already_closed": already,
            }
        )
    else:
        lines = format_report(report, settings)
        lines.append("")
        lines.extend(payout_lines(report))
        if rec is not None:
            s = rec.summary()
            matched = s["matched"]
            amount = (
                ", ".join(money_text(v, c) for c, v in sorted(matched["amount"].items())) or "-"
            )
            state = "no breaks" if rec.ok else f"{rec.breaks} break(s): see `paygate reconcile`"
            lines.append(f"reconciliation: {matched['count']} matched ({amount}); {state}")
        print("\n".join(lines))
    code = _outcome(report, already, problems, settings)
    if failure:
        print(f"paygate: the day is closed, but reconciliation failed: {failure}", file=sys.stderr)
        return 1
    return code


def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    """The day at the gateway against each tender's other side (the acquirer's clearing
    file, the UPI switch's and each net banking bank's settlement file, the drawers of
    the day's shifts): exit 0 when every entry matches, 1 when there are breaks."""
    day = day_arg(args, settings)

    async def run() -> Reconciliation:
        async with gateway_session(settings, repair=False) as (rt, gateway):
            return await _reconcile(_settlement(args, rt), gateway, day)

    rec = asyncio.run(run())
    if args.json:
        _print_json(rec.document())
    else:
        print("\n".join(format_reconciliation(rec)))
    return 0 if rec.ok else 1


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """The day's transactions as CSV or JSON, to stdout or `--out FILE`: written whole
    or not at all, never inside the data dir, never over a file unless `--force`."""
    day = day_arg(args, settings)
    out: Path | None = args.out
    if out is not None:
        check_out_path(out, settings, force=args.force)
    with open_runtime(settings, read_only=True) as rt:
        text = _settlement(args, rt).export(day, args.format)
    if out is None:
        sys.stdout.write(text)
        return 0
    try:
        write_atomically(out, text.encode(), replace=args.force)
    except FileExistsError:
        raise InputError(f"{out} already exists (made meanwhile); --force replaces it") from None
    print(f"exported {day} to {out}", file=sys.stderr)
    return 0


def check_out_path(out: Path, settings: Settings, *, force: bool, forcible: bool = True) -> None:
    """Refuse a path to write (an export, a QR code) inside the data dir or over the key
    file (it would destroy them), a directory, and an existing file unless `force`
    (`forcible`: the command has a --force)."""
    where = out.resolve()
    for kept in (settings.data_dir.resolve(), settings.resolved_key_file.resolve()):
        if where == kept or where.is_relative_to(kept):
            raise InputError(f"cannot write {out}: it is inside paygate's data ({kept})")
    if not where.parent.is_dir():
        raise InputError(f"cannot write {out}: {out.parent} is not a directory")
    if where.is_dir():
        raise InputError(f"cannot write {out}: it is a directory")
    if where.exists() and not force:
        replace = "--force replaces it" if forcible else "paygate never writes over a file"
        raise InputError(f"{out} already exists; {replace}")


def _days_with_payments(settings: Settings) -> list[date]:
    """The days that have payments where a seed would write: the data dir, or the
    merchant's records in the database (its schema brought up to date, as on first use)."""
    if settings.database_url:
        from gateway_core.pgstore.records import PgRecords

        records = PgRecords(settings.database_url, settings.merchant_id)
        try:
            return [d for d in records.days() if records.payments.page(d, None, None, 1)]
        finally:
            records.close()
    if not (settings.data_dir / "db").is_dir():
        return []
    with open_runtime(settings, read_only=True) as rt:
        return [d for d in rt.records.days() if rt.records.payments.page(d, None, None, 1)]


def cmd_demo_seed(args: argparse.Namespace, settings: Settings) -> int:
    """A week of realistic history in the demo data dir (or `--data-dir`)."""
    from bank_sim.demo import seed_demo_history

    if not 1 <= args.days <= 31:
        raise InputError(f"--days must be 1 to 31, not {args.days}")
    if not 1 <= args.per_day <= 5000:
        raise InputError(f"--per-day must be 1 to 5000, not {args.per_day}")
    if args.data_dir is None:
        settings = settings.model_copy(update={"data_dir": demo_data_dir()})
    data_dir = settings.data_dir
    where = "the database" if settings.database_url else str(data_dir)
    if days := _days_with_payments(settings):
        raise InputError(
            f"{where} already has payments ({days[0]} to {days[-1]}); seed an empty "
            "data dir or database (`paygate --demo --reset` empties the demo's)"
        )
    make_private_dir(data_dir)
    (data_dir / ".paygate-demo").write_text("paygate demo data\n", encoding="utf-8")
    started = time.perf_counter()

    def progress(line: str) -> None:
        print(f"  {line}  ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)

    print(
        f"paygate: seeding {args.days} day(s) of about {args.per_day} payments each into "
        f"{where} through the gateway and the simulated banks…",
        file=sys.stderr,
        flush=True,
    )
    summary = seed_demo_history(
        settings, days=args.days, per_day=args.per_day, seed=args.seed, progress=progress
    )
    took = time.perf_counter() - started
    print(
        f"seeded {summary.payments} payments over {len(summary.days)} days "
        f"({summary.declined} declined, {summary.refunds} refunds, {summary.voids} voids, "
        f"{summary.otp} with OTP) in {took:.1f} s; closed "
        + (", ".join(f"{d} (Z {n})" for d, n in summary.closed) or "no day")
    )
    shown = "" if args.data_dir is None else f" --data-dir {data_dir}"
    print(f"open it with: paygate --demo{shown}   or: paygate report x{shown}")
    return 0


# ---------------------------------------------------------------------------- registry
def add_report_commands(sub, common: argparse.ArgumentParser) -> None:
    """Register `report`, `settle`, `reconcile`, `export` and `demo` on the command tree."""
    dated = argparse.ArgumentParser(add_help=False)
    dated.add_argument("--date", metavar="YYYY-MM-DD", help="the business day (default: today)")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print one JSON document")
    approved = approver_options()
    approved.add_argument(
        "--close-shifts",
        action="store_true",
        help="z: close the shifts still open, uncounted (the approving manager's call)",
    )
    dated.add_argument("--merchant", metavar="M", help="merchant id (default: the setting)")

    report = sub.add_parser(
        "report",
        parents=[common, dated, as_json, approved],
        help="X report (the day so far), Z report (close the day) or the day's shifts",
        description="x: the business day so far, any number of times, changing nothing. "
        "z: close the day (a manager approves): numbered, stored once, payments of the "
        "day can no longer change. A closed day shows its Z again (exit 2). shifts: "
        "the day's shift reports, each drawer and its count.",
    )
    report.add_argument("kind", choices=("x", "z", "shifts"), type=str.lower, help="x, z or shifts")
    report.set_defaults(handler=cmd_report)

    settle = sub.add_parser(
        "settle",
        parents=[common, dated, as_json, approved],
        help="close the day (Z), show the payout and reconcile with the acquirer",
    )
    settle.set_defaults(handler=cmd_settle)

    reconcile = sub.add_parser(
        "reconcile",
        parents=[common, dated, as_json],
        help="the day against the acquirer's clearing file (exit 1 on breaks)",
    )
    reconcile.set_defaults(handler=cmd_reconcile)

    export = sub.add_parser(
        "export", parents=[common, dated], help="the day's transactions as CSV or JSON"
    )
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="default: csv")
    export.add_argument("--out", type=Path, metavar="FILE", help="write here (default: stdout)")
    export.add_argument("--force", action="store_true", help="replace an existing --out file")
    export.set_defaults(handler=cmd_export)

    demo = sub.add_parser("demo", help="demo data").add_subparsers(metavar="ACTION", required=True)
    seed = demo.add_parser(
        "seed",
        parents=[common],
        help="a realistic week of history through the real gateway (demo data dir)",
    )
    seed.add_argument("--days", type=int, default=7, help="days of history, today included")
    seed.add_argument("--per-day", type=int, default=500, help="payments a full day")
    seed.add_argument("--seed", type=int, default=7, help="random seed (same seed, same week)")
    seed.set_defaults(handler=cmd_demo_seed)
