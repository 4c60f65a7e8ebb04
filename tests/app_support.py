"""Shared set-up for the terminal's tests (test_app_*.py): a runtime with a frozen clock
and seeded ids, the app without animations, and pilot helpers that key like a cashier.

Seeded: payment ids count up (`pay_20261128_0000000001`), auth codes and OTP codes come
from a fixed sequence, so screens and snapshots are the same on every run. The gateway
reaches the banks' UPI switch too (a UPI sale's QR; the demo phone is `Runtime.payer`).
"""

from __future__ import annotations

import asyncio
import io
import itertools
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import zxingcpp
from argon2 import PasswordHasher
from PIL import Image
from rich.color import Color
from rich.console import Console
from support import open_runtime
from textual import events
from textual.geometry import Region
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widget import Widget

from bank_sim import issuer as issuer_module
from bank_sim.app import Banks, create_app
from bank_sim.serve import bank_config
from bank_sim.testcards import bin_country
from gateway_core.access import DEMO_USERS, Access
from gateway_core.bank_client import BankClient
from gateway_core.clock import FixedClock
from gateway_core.gateway import Gateway
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings
from gateway_core.store.state import TinyUserRepository
from gateway_core.upi_client import UpiClient
from paygate_cli.terminal import terminal_app
from pos_app.app import PaygateApp
from pos_app.route import RouteTap

SIZE = (80, 24)
OTP_CODES = ("482913", "105263", "771204", "390518")  # the codes the issuer texts, in turn
OTP_CODE = OTP_CODES[0]
PANS = {
    "approve": "4242 4242 4242 4242",
    "otp": "4000 0000 0000 3220",
    "timeout": "4000 0000 0000 9094",
    "slow": "4000 0000 0000 0200",
}


class _Secrets:
    """The issuer's `secrets`, with auth codes from a fixed sequence."""

    def __init__(self) -> None:
        self._n = itertools.count(0xA1B2C3)

    def token_hex(self, nbytes: int = 3) -> str:
        return f"{next(self._n):0{nbytes * 2}x}"[-nbytes * 2 :]


def seeded_runtime(settings: Settings, clock: FixedClock) -> Runtime:
    """An open Runtime whose gateway makes predictable ids and whose issuer predictable
    OTP codes (tests only: the app never builds its own gateway)."""
    rt = open_runtime(settings, clock=clock)
    # The demo users with cheap PIN hashes: a real argon2 check takes ~0.3 s, and the
    # tests sign in and approve often. (The app uses whatever Access the runtime has.)
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    users = TinyUserRepository(rt.store, home=settings.merchant_id)
    rt._access = Access(
        users, rt.audit, clock, tz=settings.tz, hasher=cheap, home=settings.merchant_id
    )
    rt._access.seed_demo()
    for user_id, _name, _role, pin, _hash in DEMO_USERS:
        rt._access.reset_pin(user_id, pin, actor="test")
    counter = itertools.count(1)
    rt.banks = Banks(bank_config(settings, clock))
    codes = itertools.cycle(int(code) for code in OTP_CODES)
    rt.banks.issuers.otp._randbelow = lambda _n: next(codes)
    banks_app = create_app(rt.banks)
    bank = BankClient.embedded(banks_app, timeout_s=settings.bank_timeout_s)
    tapped = RouteTap(bank)  # the route the processing screen draws
    rt._gateway = Gateway(
        rt.records,
        rt.vault,
        rt.audit,
        tapped,  # type: ignore[arg-type]  # the bank client's methods, passed through
        settings,
        clock=clock,
        new_id=lambda prefix: f"{prefix}_{next(counter):010d}",
        access=rt.access,
        country_of=bin_country,
        upi=UpiClient.embedded(banks_app, timeout_s=settings.bank_timeout_s),
    )
    return rt


@contextmanager
def fixed_auth_codes() -> Iterator[None]:
    """Auth codes from a fixed sequence while the app runs (the issuer's `secrets`)."""
    real = issuer_module.secrets
    issuer_module.secrets = _Secrets()
    try:
        yield
    finally:
        issuer_module.secrets = real


def build_app(
    settings: Settings, clock: FixedClock, config_dir: Path, **options: Any
) -> PaygateApp:
    """The app on a seeded runtime, without animations, the result shown at once."""
    config_dir.mkdir(parents=True, exist_ok=True)
    options.setdefault("animate", False)
    options.setdefault("result_delay", 0)
    return terminal_app(seeded_runtime(settings, clock), config_dir=config_dir, **options)


# ---------------------------------------------------------------------------- pilot
async def settle(pilot: Pilot, quiet: int = 3) -> None:
    """Let the app and the screen process what is queued, and what that queues in turn
    (a key → its widget → a message bubbling to the screen): until every message queue
    of the app and its screens stays empty for `quiet` turns of the event loop. Much
    cheaper than `pilot.press`, which waits for the CPU to idle after every key. Keys
    the app still holds (typed ahead of a screen change: pos_app.typeahead) are let in
    first, however long the change takes on a busy machine (up to 15 s)."""
    app = pilot.app
    calm = 0
    turns = 0
    deadline = asyncio.get_running_loop().time() + 15
    while turns < 2000:
        if app.typeahead.pending and asyncio.get_running_loop().time() < deadline:
            calm = 0
            await asyncio.sleep(0.005)
            continue
        turns += 1
        await asyncio.sleep(0)
        pumps = [app]
        for screen in app.screen_stack:
            pumps += screen.walk_children(with_self=True)
        if all(pump._message_queue.empty() for pump in pumps):
            calm += 1
            if calm >= quiet:
                return
        else:
            calm = 0


async def wait_for(pilot: Pilot, check: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the app run until `check()` is true (workers, timers, screen changes)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting; screen is {pilot.app.screen!r}")
        await settle(pilot)
        await asyncio.sleep(0.01)


def screen_name(pilot: Pilot) -> str:
    return type(pilot.app.screen).__name__


async def on_screen(pilot: Pilot, name: str, timeout: float = 10.0) -> None:
    await wait_for(pilot, lambda: screen_name(pilot) == name, timeout)
    await settle(pilot)


async def typ(pilot: Pilot, text: str) -> None:
    """Type `text` into whatever has the focus, as fast as a barcode scanner would: the
    keys go out in one burst, then the app settles. (`pilot.press` waits for the app
    to idle after every key; use it for keys that move the focus, like Enter.)"""
    _send(pilot, [(char if char.isalnum() else _character_to_key(char), char) for char in text])
    await settle(pilot)


def _send(pilot: Pilot, keys: list[tuple[str, str | None]]) -> None:
    app = pilot.app
    for key, char in keys:
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


def _named(key: str) -> tuple[str, str | None]:
    """A key by name ("enter", "ctrl+r", "t", "/") as Textual's (key, character)."""
    char = key if len(key) == 1 else {"enter": "\r", "tab": "\t", "escape": "\x1b"}.get(key)
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    return key, char


async def press(pilot: Pilot, *keys: str) -> None:
    """Press keys by name ("enter", "ctrl+r", "t"), letting the screen settle after
    each one: a key may move the focus, and the next key must go where it went."""
    for key in keys:
        _send(pilot, [_named(key)])
        await settle(pilot)


async def burst(pilot: Pilot, *keys: str) -> None:
    """Send keys by name all at once, with no pause between them (a scanner, a fast
    typist, `tmux send-keys` of a whole string); then let the app settle."""
    _send(pilot, [_named(key) for key in keys])
    await settle(pilot)


async def login(pilot: Pilot, user: str = "asha", pin: str = "1111") -> None:
    await on_screen(pilot, "LoginScreen")
    await typ(pilot, user)
    await press(pilot, "enter")
    await typ(pilot, pin)
    await press(pilot, "enter")
    await on_screen(pilot, "SaleScreen")


async def key_amount(pilot: Pilot, amount: str) -> None:
    await typ(pilot, amount)


async def key_card(pilot: Pilot, pan: str, expiry: str = "12/30", cvv: str = "123") -> None:
    """On the card screen: number, Enter, expiry, Enter, CVV (not yet the last Enter)."""
    await on_screen(pilot, "CardScreen")
    await typ(pilot, pan.replace(" ", ""))
    await press(pilot, "enter")
    await typ(pilot, expiry)
    await press(pilot, "enter")
    await typ(pilot, cvv)


async def sale(
    pilot: Pilot,
    amount: str,
    pan: str,
    *,
    cvv: str = "123",
    expiry: str = "12/30",
    until: str = "ResultScreen",
) -> None:
    """A whole sale from the sale screen: amount, Enter, card, Enter; wait for `until`."""
    await key_amount(pilot, amount)
    await press(pilot, "enter")
    await key_card(pilot, pan, expiry, cvv)
    await press(pilot, "enter")
    if until:
        await on_screen(pilot, until)


def screen_text(app: PaygateApp) -> str:
    """Everything on screen now (dialogs over their screen included), as plain text."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


def flat(app: PaygateApp) -> str:
    """The screen's words with borders and line breaks folded to single spaces, so a
    sentence that wraps inside a panel still reads as one."""
    text = re.sub(r"[│╭╮╰╯─▊▎▔▁█▀▄▌▐]", " ", screen_text(app))
    return " ".join(text.split())


def widget_text(app: PaygateApp, selector: str) -> str:
    """The text a Static shows (one widget of the screen on top)."""
    return str(app.screen.query_one(selector).content)


# ---------------------------------------------------------------------------- a QR drawn
QR_SCALE = 4  # pixels a module
TOP, BOTTOM = "▀█", "▄█"  # the glyphs whose upper / lower half is drawn in the foreground


def _dark(color: Color | None, default: bool) -> bool:
    if color is None:
        return default
    r, g, b = color.get_truecolor()
    return (r * 299 + g * 587 + b * 114) / 1000 < 128


def raster(widget: Widget, surround: int = 0) -> Image.Image:
    """A widget's cells as drawn, rasterized: each cell one module wide and two tall,
    each half dark or light by the colour it is drawn in (the glyph's in the foreground,
    the rest in the background), on a ground of `surround` (a dark terminal by default)
    four modules wide."""
    width, height = widget.size
    strips = widget.render_lines(Region(0, 0, width, height))
    margin, scale = 4, QR_SCALE
    image = Image.new("L", ((width + 2 * margin) * scale, (height * 2 + 2 * margin) * scale))
    image.paste(surround, (0, 0, *image.size))
    for y, strip in enumerate(strips):
        x = 0
        for segment in strip:
            style = segment.style
            ink = _dark(style.color if style else None, True)
            ground = _dark(style.bgcolor if style else None, False)
            for char in segment.text:
                for half, drawn in ((0, TOP), (1, BOTTOM)):
                    dark = ink if char in drawn else ground
                    left, top = (x + margin) * scale, (2 * y + half + margin) * scale
                    image.paste(0 if dark else 255, (left, top, left + scale, top + scale))
                x += 1
    return image


def decode(image: Image.Image) -> list[str]:
    """What a real decoder (zxing-cpp) reads in an image: the text of each code found."""
    return [found.text for found in zxingcpp.read_barcodes(image)]


def pan_spellings(pan: str) -> list[str]:
    """A card number as digits, in fours, in the brand's grouping, with spaces or dashes."""
    digits = pan.replace(" ", "").replace("-", "")
    fours = " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))
    forms = {digits, fours, fours.replace(" ", "-"), pan, pan.replace(" ", "-")}
    return sorted(forms)


def assert_no_pan(text: str, *pans: str) -> None:
    for pan in pans:
        for form in pan_spellings(pan):
            assert form not in text, f"full card number {form[:6]}… found"


@asynccontextmanager
async def drive(app: PaygateApp) -> AsyncIterator[Pilot]:
    """Run the app at 80×24 and close its runtime (banks included) in the same loop."""
    try:
        with fixed_auth_codes():
            async with app.run_test(size=SIZE) as pilot:
                yield pilot
    finally:
        await app.rt.aclose()


def compare_app(snap_compare, app: PaygateApp, run_before, size: tuple[int, int] = SIZE) -> bool:
    """Snapshot `app` after `run_before(pilot)`, auth codes fixed; close its runtime after,
    in a loop of its own (pytest-textual-snapshot's has ended by then)."""
    try:
        with fixed_auth_codes():
            return snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        try:
            asyncio.run(app.rt.aclose())
        except RuntimeError:
            app.rt.close()
