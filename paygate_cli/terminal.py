"""The terminal's wiring: `paygate`, `paygate pos` and `--demo` open a data dir (or reach
`paygate serve`) and run `pos_app.app.PaygateApp` with what it needs from the bank
simulator (`pos_app.wiring.Wiring`); the demo's data dir is seeded and reset here."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bank_sim.iso8583 import describe
from bank_sim.testcards import TEST_CARDS
from gateway_core.errors import InputError, PaygateError
from gateway_core.gateway import Gateway
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings
from gateway_core.store.files import make_private_dir
from gateway_core.store.lock import WriterLock
from paygate_cli.checkout_server import CheckoutServer
from paygate_cli.common import demo_data_dir, open_runtime
from pos_app.app import PaygateApp
from pos_app.route import RouteTap
from pos_app.wiring import CardHint, Wiring

if TYPE_CHECKING:  # httpx and the service client: only a terminal on a server needs them
    from paygate_cli.remote import RemoteRuntime

DEMO_LATENCY_MS = 120.0
# A fresh demo's history: a week at 60 payments a day seeds in about 5 s on first start
# (500 a day, `paygate demo seed`'s default, takes about a minute).
DEMO_DAYS = 7
DEMO_PER_DAY = 60
DEMO_MARKER = ".paygate-demo"
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"  # what textual-serve runs a session with
TEST_CARD_HINTS = tuple(CardHint(c.label, c.pan, c.behaviour, c.cvv) for c in TEST_CARDS)


def tapped_gateway(rt: Runtime | RemoteRuntime) -> Gateway:
    """The runtime's gateway; in process, its bank client tapped once for the route the
    processing screen draws (a served gateway's route stays on the server)."""
    if not isinstance(rt, Runtime):
        return rt.gateway  # type: ignore[return-value]  # the same API over HTTP
    gateway = rt.gateway
    if not isinstance(gateway.bank, RouteTap):
        gateway.bank = RouteTap(gateway.bank)  # type: ignore[assignment]  # same methods
    return gateway


def terminal_wiring(rt: Runtime | RemoteRuntime, checkout: CheckoutServer | None = None) -> Wiring:
    """What the terminal on `rt` gets from outside the core (the demo's UPI phone: the
    payer app of the data dir's simulated network, and `checkout` serving the payment
    links' pages; a served gateway's stay on the server)."""
    return Wiring(
        gateway=lambda: tapped_gateway(rt),
        field_rows=describe,
        test_cards=TEST_CARD_HINTS,
        payer=(lambda: rt.payer) if isinstance(rt, Runtime) else None,
        checkout=checkout.start if checkout is not None else None,
    )


def terminal_app(
    rt: Runtime | RemoteRuntime, checkout: CheckoutServer | None = None, **options: Any
) -> PaygateApp:
    """The terminal on an open runtime (`options`: PaygateApp's keywords)."""
    return PaygateApp(rt, wiring=terminal_wiring(rt, checkout), **options)


def reset_demo_dir(data_dir: Path) -> None:
    """Empty a demo data dir (holding its writer lock). Refuses anything else."""
    if not data_dir.exists():
        return
    is_demo = data_dir.resolve() == demo_data_dir().resolve() or (data_dir / DEMO_MARKER).is_file()
    if not is_demo:
        raise InputError(
            f"{data_dir} is not a demo data dir; --reset only empties the demo's own data"
        )
    lock = WriterLock(data_dir)
    lock.acquire()  # DataDirBusy while another paygate process writes here
    try:
        for child in data_dir.iterdir():
            if child.name in ("paygate.lock", "writer.json", DEMO_MARKER):
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    finally:
        lock.release()


def run_app(settings: Settings, *, demo: bool, reset: bool) -> int:
    """Open the data dir and run the terminal until the cashier quits; the exit code."""
    if reset:
        if not demo:
            raise InputError("--reset only goes with --demo")
        reset_demo_dir(settings.data_dir)
    if not _interactive():
        raise InputError(
            "the terminal needs an interactive terminal; see `paygate --help` for the commands"
        )
    if demo:
        settings = prepare_demo(settings)
    return asyncio.run(_run(settings, demo=demo))


def prepare_demo(settings: Settings) -> Settings:
    """The demo's data dir made (and seeded with history on first use), and the demo's
    bank latency; a served gateway keeps its own demo."""
    if settings.gateway_url is not None:
        return settings
    data_dir = settings.data_dir
    fresh = not data_dir.exists() or not (data_dir / "db").is_dir()
    others = fresh and data_dir.exists() and any(data_dir.iterdir())
    if others and not (data_dir / DEMO_MARKER).is_file():
        raise InputError(f"{data_dir} holds other files; use an empty dir for the demo")
    make_private_dir(data_dir)
    if fresh:
        (data_dir / DEMO_MARKER).write_text("paygate demo data\n", encoding="utf-8")
        _seed_history(settings)
    if settings.bank_latency_ms == 0:
        settings = settings.model_copy(update={"bank_latency_ms": DEMO_LATENCY_MS})
    return settings


def _interactive() -> bool:
    """Keys come from a terminal and Textual can draw on one (it draws on stderr), or
    from a browser through `paygate web` (Textual's web driver, on pipes)."""
    if os.environ.get("TEXTUAL_DRIVER") == WEB_DRIVER:
        return True
    err = sys.__stderr__
    return sys.stdin.isatty() and err is not None and err.isatty()


def _seed_history(settings: Settings) -> None:
    """A new demo data dir gets a week of history (bank_sim.demo), before it opens:
    DEMO_DAYS business days of about DEMO_PER_DAY payments, today's so far included."""
    from bank_sim import demo as bank_demo  # the demo's own machinery: first start only

    print(
        f"paygate: preparing {DEMO_DAYS} days of demo history (first start only)…",
        file=sys.stderr,
    )
    try:
        bank_demo.seed_demo_history(
            settings,
            days=DEMO_DAYS,
            per_day=DEMO_PER_DAY,
            progress=lambda line: print(f"paygate:   {line}", file=sys.stderr),
        )
    except PaygateError as exc:
        print(f"paygate: warning: demo history not loaded: {exc}", file=sys.stderr)


async def _run(settings: Settings, *, demo: bool) -> int:
    rt: Runtime | RemoteRuntime
    if settings.gateway_url:  # httpx and the client only when there is a server to reach
        from paygate_cli.remote import RemoteRuntime

        rt = await RemoteRuntime.connect(settings) or open_runtime(settings)
    else:
        rt = open_runtime(settings)
    checkout = CheckoutServer(rt) if isinstance(rt, Runtime) else None
    try:
        code = await terminal_app(rt, checkout, demo=demo).run_async()
    finally:
        if checkout is not None:
            await checkout.stop()
        await rt.aclose()
    return code or 0


__all__ = [
    "DEMO_MARKER",
    "prepare_demo",
    "reset_demo_dir",
    "run_app",
    "terminal_app",
    "terminal_wiring",
]
