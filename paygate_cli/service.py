"""`paygate serve` (the gateway as an HTTP service) and `paygate terminals add|list|revoke`
(the terminals' API keys; issuing and revoking need a merchant admin's ID and PIN).
Issuing a merchant's first key boards it at the acquirer; the first key of a new
merchant is approved by an admin of the settings' merchant (it has no users yet).

With `--gateway-url URL --api-key KEY`, `terminals` goes through the running server
(keys of the caller's merchant; they take effect at once). Without, it works on the data
dir, which the server holds while it runs (the lock error says so).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import signal
import socket
from collections.abc import Sequence

from gateway_core.errors import InputError
from gateway_core.ports import Approval
from gateway_core.runtime import Runtime
from gateway_core.service.client import RemoteGateway
from gateway_core.service.keys import ApiKey, ApiKeys
from gateway_core.settings import Settings
from paygate_cli.admin import _admin
from paygate_cli.common import open_runtime, works_remotely
from paygate_cli.payments import (
    _read_secret,
    _stdin_is_tty,
    _table,
    serve_until_stopped,
)
from paygate_cli.workers import check_workers, supervise, worker_argv


def add_service_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register `serve` and `terminals` on the command tree."""
    serve = sub.add_parser(
        "serve", parents=[common], help="run the gateway over HTTP for many terminals"
    )
    serve.add_argument("--port", type=int, default=8600, help="default: 8600")
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve.add_argument(
        "--poll-every",
        type=float,
        default=5.0,
        metavar="S",
        help="resolve pending (UPI) payments every S seconds; 0: never (default: 5)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="N gateway processes on the port (more than 1: PostgreSQL only; default: 1)",
    )
    serve.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)  # a supervisor's worker
    serve.set_defaults(handler=cmd_serve)

    admin = argparse.ArgumentParser(add_help=False)
    admin.add_argument("--admin", metavar="ID", help="the approving merchant admin's user id")
    admin.add_argument("--admin-pin", metavar="PIN", help="the admin's PIN (prompted if left out)")
    terminals = sub.add_parser("terminals", help="terminals' API keys for `paygate serve`")
    actions = terminals.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add", parents=[common, admin], help="issue a terminal's API key (printed once)"
    )
    add.add_argument("--merchant", metavar="M", help="merchant id (default: the setting)")
    add.add_argument("--terminal", metavar="T", required=True, help="terminal id, 1-8 chars")
    add.set_defaults(handler=cmd_terminals)
    actions.add_parser("list", parents=[common], help="every key (never the key)").set_defaults(
        handler=cmd_terminals
    )
    revoke = actions.add_parser(
        "revoke", parents=[common, admin], help="revoke a key at once, for good"
    )
    revoke.add_argument("key_id", metavar="ID")
    revoke.set_defaults(handler=cmd_terminals)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """The gateway over HTTP until Ctrl-C or SIGTERM: this process, or with `--workers N`
    a supervisor of N processes (`paygate_cli.workers`)."""
    from gateway_core.service.serve import serve

    check_workers(args.workers, settings.database_url)
    if not 1 <= args.port <= 65535:
        raise InputError(f"--port must be 1 to 65535, not {args.port}")
    if not 0 <= args.poll_every <= 3600:
        raise InputError(f"--poll-every must be 0 to 3600 seconds, not {args.poll_every}")
    url = f"http://{args.host}:{args.port}"
    if settings.checkout.public_url is None:  # where the banks send customers back
        checkout = settings.checkout.model_copy(update={"public_url": url})
        settings = settings.model_copy(update={"checkout": checkout})
    rt = open_runtime(settings)
    if args.workers > 1:
        return _serve_workers(args, settings, rt, url)
    if args.listen_fd is not None:  # a worker of `--workers N`: the supervisor speaks
        sock = socket.socket(fileno=args.listen_fd)
        return serve_until_stopped(
            "gateway",
            lambda: serve(rt, poll_every_s=args.poll_every, sock=sock),
            args.host,
            args.port,
        )
    banks = settings.bank_url or "simulated in this process"
    _banner(url, f"data in {settings.data_dir}; banks {banks}", _live_keys(rt))
    return serve_until_stopped(
        "gateway",
        lambda: serve(rt, host=args.host, port=args.port, poll_every_s=args.poll_every),
        args.host,
        args.port,
    )


def _live_keys(rt: Runtime) -> int:
    keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock).list()
    return len([k for k in keys if not k.revoked_at])


def _banner(url: str, where: str, live: int) -> None:
    print(f"gateway on {url}  ({where}; {live} terminal key(s)); Ctrl-C stops", flush=True)
    print(f"Stripe-compatible API: {url}/stripe (a terminal key as the secret key)", flush=True)
    if not live:
        print(
            "no terminal keys yet: stop it, then `paygate terminals add --terminal T`", flush=True
        )


def _serve_workers(args: argparse.Namespace, settings: Settings, rt: Runtime, url: str) -> int:
    """A supervisor of `--workers` processes (the data opened once first: schema and
    keys ready before any worker starts)."""
    with rt:
        live = _live_keys(rt)
    argv = worker_argv(args.config, settings, args.host, args.port, args.poll_every)
    say = functools.partial(print, flush=True)
    supervisor = supervise(
        settings, host=args.host, port=args.port, workers=args.workers, worker_argv=argv, say=say
    )
    banks = settings.bank_url or f"{supervisor.bank_url} (started here)"
    _banner(url, f"{args.workers} workers on PostgreSQL; banks {banks}", live)
    previous = {sig: signal.signal(sig, supervisor.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        supervisor.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("gateway stopped", flush=True)
    return 0


def _print_keys(keys: list[ApiKey]) -> None:
    if not keys:
        print("no terminal keys")
        return
    rows: list[Sequence[str]] = [
        (
            k.id,
            k.merchant_id,
            k.terminal_id,
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active",
        )
        for k in keys
    ]
    print("\n".join(_table(("ID", "MERCHANT", "TERMINAL", "CREATED", "STATE"), rows)))


def _print_issued(key: ApiKey, secret: str) -> None:
    print(f"key {key.id} for merchant {key.merchant_id}, terminal {key.terminal_id}")
    print(secret)
    print("shown once: give it to the terminal (--api-key or api_key), keep it secret")


def _admin_approval(args: argparse.Namespace) -> Approval:
    """The approving admin's ID and PIN (prompted, hidden, if left out)."""
    if not args.admin:
        raise InputError("a merchant admin must approve: give --admin ID (and the PIN)")
    return Approval(
        args.admin,
        args.admin_pin or _read_secret("Admin PIN: ", "the admin's PIN", _stdin_is_tty()),
    )


@works_remotely
def cmd_terminals(args: argparse.Namespace, settings: Settings) -> int:
    """terminals add|list|revoke: through a running `paygate serve` when `--gateway-url`
    is given (for the merchant of `--api-key`), else in the data dir (server stopped)."""
    remote = RemoteGateway.from_settings(settings)
    if remote is not None:
        return asyncio.run(_remote_terminals(args, remote))
    if args.action == "list":
        with open_runtime(settings, read_only=True) as rt:
            _print_keys(ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock).list())
        return 0
    with open_runtime(settings) as rt:
        keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
        if args.action == "add":
            merchant = args.merchant or settings.merchant_id
            subject = f"{merchant}/{args.terminal}"
            keys.check_ids(args.terminal, merchant)  # bad ids are refused before any PIN
            actor = _admin(args, rt, "terminals.add", subject, merchant)
            asyncio.run(_board(rt, merchant, args.terminal))
            _print_issued(*keys.issue(merchant, args.terminal, actor=actor))
            return 0
        merchant = keys.get(args.key_id).merchant_id  # an unknown key: refused before any PIN
        actor = _admin(args, rt, "terminals.revoke", args.key_id, merchant)
        key = keys.revoke(args.key_id, actor=actor)
    print(f"key {key.id} ({key.merchant_id}/{key.terminal_id}) revoked")
    return 0


async def _board(rt: Runtime, merchant_id: str, terminal_id: str) -> None:
    """Board the merchant and terminal at the acquirer before its key exists: a merchant
    must be boarded before it can transact (an acquirer out of reach: no key)."""
    try:
        await rt.gateway.bank.board(merchant_id, [terminal_id])
    finally:
        await rt.gateway.bank.close()


async def _remote_terminals(args: argparse.Namespace, remote: RemoteGateway) -> int:
    try:
        if args.action == "list":
            _print_keys(await remote.terminal_keys())
        elif args.action == "add":
            if args.merchant:
                raise InputError("with --gateway-url, keys are for the merchant of --api-key")
            ApiKeys.check_ids(args.terminal)
            issued = await remote.issue_key(args.terminal, _admin_approval(args))
            _print_issued(issued.key, issued.secret)
        else:
            key = await remote.revoke_key(args.key_id, _admin_approval(args))
            print(f"key {key.id} ({key.merchant_id}/{key.terminal_id}) revoked")
    finally:
        await remote.aclose()
    return 0
