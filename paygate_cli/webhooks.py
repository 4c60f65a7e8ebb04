"""`paygate webhooks`: the merchant's webhook endpoints, their delivery log, replays.

`add URL [--events payment.succeeded,refund.succeeded]` (default: every event; the
endpoint's secret is printed once), `list`, `remove ID`, `enable ID` (a disabled one
again, from where it stopped), `deliveries [--endpoint ID] [--failed] [--limit N]`,
`replay DELIVERY_ID` or `replay --endpoint ID --since WHEN`, `test ID` (a webhook.test
event now), `deliver` (one round of the worker `paygate serve` runs: for cron and
tests). They work on the data dir (or `--database-url`), the server stopped.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from datetime import datetime

from gateway_core.errors import InputError
from gateway_core.ports import Record
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings
from gateway_core.webhooks.delivery import Deliverer, failed
from gateway_core.webhooks.endpoints import Endpoint, WebhookEndpoints
from gateway_core.webhooks.events import EVENT_TYPES
from paygate_cli.admin import merchant_of, merchant_option
from paygate_cli.common import open_runtime
from paygate_cli.payments import _table


def add_webhook_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register `webhooks add|list|remove|enable|deliveries|replay|test|deliver`."""
    hooks = sub.add_parser("webhooks", help="webhooks to the merchant's endpoints")
    actions = hooks.add_subparsers(dest="action", metavar="ACTION", required=True)
    parents = [common, merchant_option()]
    add = actions.add_parser("add", parents=parents, help="add an endpoint (its secret: once)")
    add.add_argument("url", metavar="URL", help="where to POST the events (http or https)")
    add.add_argument(
        "--events",
        metavar="E,E",
        help=f"the events to send (default: all): {', '.join(EVENT_TYPES)}",
    )
    actions.add_parser("list", parents=parents, help="the endpoints")
    for name, what in (
        ("remove", "stop sending to an endpoint, for good"),
        ("enable", "send to a disabled endpoint again, from where it stopped"),
        ("test", "send an endpoint a webhook.test event now"),
    ):
        actions.add_parser(name, parents=parents, help=what).add_argument("id", metavar="ID")
    log = actions.add_parser("deliveries", parents=parents, help="the delivery log, newest last")
    log.add_argument("--endpoint", metavar="ID", help="one endpoint's")
    log.add_argument("--failed", action="store_true", help="only those whose last try failed")
    log.add_argument("--limit", type=int, default=50, metavar="N", help="the newest N (50)")
    replay = actions.add_parser("replay", parents=parents, help="send deliveries again now")
    replay.add_argument("id", nargs="?", metavar="DELIVERY_ID")
    replay.add_argument("--endpoint", metavar="ID", help="with --since: an endpoint's")
    replay.add_argument("--since", metavar="WHEN", help="YYYY-MM-DD[THH:MM] (local time)")
    actions.add_parser("deliver", parents=parents, help="one round of the delivery worker")
    hooks.set_defaults(handler=cmd_webhooks)


def open_webhooks(rt: Runtime) -> tuple[WebhookEndpoints, Deliverer]:
    """The runtime's endpoints and a delivery worker (real HTTP)."""
    endpoints = WebhookEndpoints(rt.records.webhooks, rt.keyring, rt.audit, rt.clock)
    return endpoints, Deliverer(rt.records, endpoints, rt.clock)


def cmd_webhooks(args: argparse.Namespace, settings: Settings) -> int:
    """One `paygate webhooks` action on the data dir."""
    _check(args)
    read_only = args.action in ("list", "deliveries")
    with open_runtime(settings, read_only=read_only) as rt:
        merchant = merchant_of(args, rt)
        return asyncio.run(_session(args, rt, merchant))


async def _session(args: argparse.Namespace, rt: Runtime, merchant: str) -> int:
    endpoints, deliverer = open_webhooks(rt)
    try:
        return await _run(args, rt, merchant, endpoints, deliverer)
    finally:
        await deliverer.aclose()


def _check(args: argparse.Namespace) -> None:
    """Refuse what the options cannot mean, before anything is opened."""
    if args.action == "deliveries" and args.limit < 1:
        raise InputError("--limit is a number of deliveries (1 or more)")
    if args.action == "replay" and (args.id is None) == (args.since is None):
        raise InputError("replay DELIVERY_ID, or replay --endpoint ID --since WHEN")
    if args.action == "replay" and args.since is not None and args.endpoint is None:
        raise InputError("replay --since needs --endpoint ID")


async def _run(
    args: argparse.Namespace,
    rt: Runtime,
    merchant: str,
    endpoints: WebhookEndpoints,
    deliverer: Deliverer,
) -> int:
    actor, action = "cli", args.action
    if action == "add":
        events = None if args.events is None else args.events.split(",")
        endpoint, secret = endpoints.add(merchant, args.url, events, actor=actor)
        print(f"endpoint {endpoint.id} for {endpoint.url}: {', '.join(endpoint.events)}")
        print(secret)
        print("shown once: the receiver checks Paygate-Signature with it; keep it secret")
    elif action == "list":
        _print_endpoints(endpoints.list(merchant))
    elif action == "remove":
        print(f"endpoint {endpoints.remove(args.id, actor=actor, merchant_id=merchant).id} removed")
    elif action == "enable":
        endpoint = endpoints.enable(args.id, actor=actor, merchant_id=merchant)
        print(f"endpoint {endpoint.id} enabled")
    elif action == "test":
        return _said(await deliverer.test(args.id, merchant))
    elif action == "deliveries":
        _deliveries(args, rt, endpoints, merchant)
    elif action == "replay":
        ids = (
            [args.id]
            if args.id
            else deliverer.since(args.endpoint, _when(args.since, rt), merchant)
        )
        if not ids:
            print("no deliveries to replay")
        return max([_said(await deliverer.replay(i, merchant)) for i in ids], default=0)
    else:
        done = await deliverer.run_once()
        if done.skipped:
            print("another paygate process delivers this merchant's webhooks: nothing done")
        print(f"{done.made} made, {done.delivered} delivered, {done.failed} failed")
    return 0


def _said(delivery: Record) -> int:
    """One line for a delivery just sent; 1 when it got no 2xx."""
    last = delivery["attempts"][-1]
    outcome = last["error"] or f"HTTP {last['status']}"
    print(
        f"{delivery['id']} {delivery['type']} {delivery['event_id']}: {outcome} in {last['ms']} ms"
    )
    return 0 if last["error"] is None else 1


def _when(text: str, rt: Runtime) -> datetime:
    """`--since`: a date or a time, in the settings' timezone unless it names one."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError("--since is a date or time: YYYY-MM-DD[THH:MM]") from None
    if moment.tzinfo is not None:
        return moment
    tz = rt.settings.tz
    return moment.astimezone() if tz is None else moment.replace(tzinfo=tz)


def _print_endpoints(found: list[Endpoint]) -> None:
    if not found:
        print("no webhook endpoints (`paygate webhooks add URL`)")
        return
    rows: list[Sequence[str]] = [
        (e.id, e.url, ",".join(e.events), e.state, f"{e.failures} failed" if e.failures else "")
        for e in found
    ]
    print("\n".join(_table(("ID", "URL", "EVENTS", "STATE", "FAILURES"), rows)))


def _deliveries(
    args: argparse.Namespace, rt: Runtime, endpoints: WebhookEndpoints, merchant: str
) -> None:
    if args.endpoint is not None:
        endpoints.get(args.endpoint, merchant)
    mine = {e.id for e in endpoints.list(merchant)}
    found = [d for d in rt.records.webhooks.deliveries(args.endpoint) if d["endpoint_id"] in mine]
    found = (failed(found) if args.failed else found)[-args.limit :]
    if not found:
        print("no deliveries")
        return
    tz = rt.settings.tz

    def local(stamp: str | None) -> str:
        return (
            ""
            if stamp is None
            else f"{datetime.fromisoformat(stamp).astimezone(tz):%m-%d %H:%M:%S}"
        )

    rows: list[Sequence[str]] = []
    for d in found:
        last = d["attempts"][-1] if d["attempts"] else None
        answer = "" if last is None else last["error"] or str(last["status"])
        rows.append(
            (
                d["id"],
                d["type"],
                d["payment_id"] or "",
                d["state"],
                str(d.get("tries", 0)),
                answer,
                "" if last is None else f"{last['ms']} ms",
                local(d["next_at"]) if d["state"] == "pending" else "",
            )
        )
    header = ("ID", "EVENT", "PAYMENT", "STATE", "TRIES", "LAST", "LATENCY", "NEXT TRY")
    print("\n".join(_table(header, rows)))
