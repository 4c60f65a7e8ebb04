"""The `paygate` command line.

Exit codes: 0 done, 1 system failure (storage, keys, lock), 2 bad input.
Every command takes `--data-dir` and `--config`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path

from platformdirs import user_data_path

from gateway_core.errors import PaygateError
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings, load_settings

Handler = Callable[[argparse.Namespace, Settings], int]


def _common(default: object) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", type=Path, default=default, help="where paygate keeps its data"
    )
    common.add_argument("--config", type=Path, default=default, help="a TOML config file")
    return common


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
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
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

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(
        metavar="ACTION", required=True
    )
    audit.add_parser(
        "verify", parents=[sub_common], help="check the audit chain; exit 1 if broken"
    ).set_defaults(handler=cmd_audit_verify)
    return parser


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


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print the key versions (never the keys)."""
    with open_runtime(settings, read_only=True) as rt:
        for key in rt.keyring.versions:
            mark = "  (current)" if key is rt.keyring.current else ""
            print(f"v{key.version}  created {key.created}{mark}")
    return 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    """Walk the audit chain: exit 0 when intact, 1 naming the first bad seq."""
    with open_runtime(settings, read_only=True) as rt:
        verdict = rt.audit.verify()
    print(verdict, file=sys.stdout if verdict.ok else sys.stderr)
    return 0 if verdict.ok else 1


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
        settings = load_settings(args.config, data_dir=data_dir)
        if args.handler is not None:
            return args.handler(args, settings)
        if args.demo:
            from pos_app.showcase import run_showcase

            return run_showcase(settings, reset=args.reset)
        parser.print_help()
        return 0
    except PaygateError as exc:
        print(f"paygate: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"paygate: {exc.strerror or exc} ({exc.filename or 'no file'})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
