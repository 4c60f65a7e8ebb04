"""The cashier's terminal: a Textual app on the gateway core.

`PaygateApp` takes an open runtime (tests inject one with a frozen clock and seeded
ids) and the `Wiring` the composition root (the CLI's terminal module) builds; the app is
the shell: sign-in, themes, keys, the palette and the global keys. The sale lives in
`pos_app.sale_flow`, the merchant console's work in `pos_app.back_office`, screen
changes in `pos_app.navigation`, the keys in `pos_app.keymap`.

Screens: sign in → sale → card → processing → (OTP) → result, or sale → UPI (the QR,
the demo's phone) → result; Today (F2), help (F1), frame inspector (F3), the merchant
console (F4, a manager's PIN). Keys can be remapped
in `<config dir>/keys.toml` (binding id → key); themes come from `themes/` and
`<config dir>/themes/`; the chosen theme is remembered in `<config dir>/ui.toml`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from platformdirs import user_config_path
from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from gateway_core.access import User
from gateway_core.clock import Clock
from gateway_core.errors import PaygateError
from gateway_core.gateway import Gateway
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings
from gateway_core.settlement import Settlement
from pos_app.back_office import BackOffice
from pos_app.bill_flow import SPLIT_START
from pos_app.cash_flow import CASH_PAYMENT, CASH_START, SHIFT_START
from pos_app.keymap import Keys
from pos_app.navigation import Navigator
from pos_app.palette import PaygateCommands, TerminalPalette
from pos_app.sale_flow import SaleFlow
from pos_app.screens.help import HelpScreen
from pos_app.screens.inspector import InspectorScreen
from pos_app.screens.login import LoginScreen
from pos_app.screens.merchant import ConsoleApproval, MerchantScreen
from pos_app.screens.messages import FlowDone, FlowFailed, RouteUpdate
from pos_app.screens.today import TodayScreen
from pos_app.themes import DEFAULT_THEME, load_themes, load_ui_prefs, save_ui_prefs
from pos_app.typeahead import TypeAhead
from pos_app.upi_flow import UPI_PAYERS, UPI_START
from pos_app.wiring import Wiring

log = logging.getLogger("paygate.terminal")

# Work whose end changes the screen (or fills the list the next keys move in): keys
# typed meanwhile wait for it (pos_app.typeahead). The payment itself is not one: keys
# typed while it is with the bank go to the processing screen. A UPI payment's QR is:
# the keys typed meanwhile (the demo phone's) wait for the QR and the phone's payers.
SCREEN_CHANGING_WORK = frozenset(
    {"navigation", "login", "void", "console", "merchant-action", "today", UPI_START, UPI_PAYERS}
    | {CASH_START, CASH_PAYMENT, SHIFT_START, SPLIT_START}
)


class TerminalRuntime(Protocol):
    """What the terminal needs of a runtime: an open data dir (`Runtime`) or a gateway
    served by `paygate serve` (the CLI's remote runtime)."""

    settings: Settings
    clock: Clock

    async def aclose(self) -> None: ...


def default_config_dir() -> Path:
    """Where keys.toml, ui.toml and the user's themes live."""
    return user_config_path("paygate")


class PaygateApp(App[int]):
    """The terminal."""

    CSS_PATH = ["styles/paygate.tcss", "styles/merchant.tcss"]
    TITLE = "paygate"
    COMMANDS = App.COMMANDS | {PaygateCommands}
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help", tooltip="Every key, and the demo test cards"),
        Binding(
            "f2",
            "today",
            "Today",
            id="app.today",
            tooltip="Today's payments on this terminal, with their receipts",
        ),
        Binding(
            "f3",
            "inspector",
            "Frames",
            id="app.inspector",
            tooltip="The ISO 8583 frames of the last authorization",
        ),
        Binding(
            "f4",
            "merchant",
            "Merchant",
            show=False,
            id="app.merchant",
            tooltip="The merchant console (a manager's or admin's PIN)",
        ),
        Binding(
            "ctrl+t",
            "next_theme",
            "Theme",
            show=False,
            id="app.theme",
            tooltip="Switch to the next theme (remembered)",
        ),
        Binding(
            "ctrl+l",
            "logout",
            "Log out",
            show=False,
            id="app.logout",
            tooltip="Sign out; the next cashier signs in",
        ),
        Binding(
            "ctrl+q",
            "quit_terminal",
            "Quit",
            show=False,
            id="app.quit",
            tooltip="Close the terminal (not while a payment is with the bank)",
        ),
    ]

    def __init__(
        self,
        runtime: TerminalRuntime,
        *,
        wiring: Wiring,
        demo: bool = False,
        config_dir: Path | None = None,
        animate: bool = True,
        result_delay: float = 1.5,
        startup: bool = True,
    ) -> None:
        self.rt = runtime
        self.remote = not isinstance(runtime, Runtime)  # a RemoteRuntime: `paygate serve`
        self.settings: Settings = runtime.settings
        self.demo = demo
        self.wiring = wiring
        self.config_dir = config_dir if config_dir is not None else default_config_dir()
        self.run_startup = startup
        self.nav = Navigator(self)
        self.flow = SaleFlow(
            self,
            self.nav,
            wiring,
            self.settings,
            self.now,
            demo=demo,
            remote=self.remote,
            result_delay=result_delay,
            settlement=self._settlement,
        )
        self.office: BackOffice | None = None  # a terminal on a server has no console
        if isinstance(runtime, Runtime):
            self.office = BackOffice(self, runtime, wiring, self.flow.operator)
        self.keys = Keys(self, self.config_dir, wiring.test_cards)
        self.typeahead = TypeAhead(self, self._screen_changing)
        self.startup_notes: list[str] = []
        super().__init__()
        if not animate:
            self.animation_level = "none"
        self._load_themes()

    # -- set-up ---------------------------------------------------------------------------
    @property
    def gateway(self) -> Gateway:
        return self.wiring.gateway()

    @property
    def user(self) -> User | None:
        """The cashier signed in, if any."""
        return self.flow.user

    def now(self) -> datetime:
        return self.rt.clock.now().astimezone(self.settings.tz)

    def _settlement(self) -> Settlement:
        assert self.office is not None  # asked only of a terminal on its own data dir
        return self.office.settlement()

    def _load_themes(self) -> None:
        found = load_themes(self.config_dir)
        self.theme_names: list[str] = []
        for theme in found.themes.values():
            self.register_theme(theme.to_theme())
            self.theme_names.append(theme.name)
        self.startup_notes += [f"{p}; it was skipped" for p in found.problems]
        wanted = load_ui_prefs(self.config_dir).get("theme", DEFAULT_THEME)
        if wanted not in found.themes:
            if wanted != DEFAULT_THEME:
                self.startup_notes.append(
                    f"theme {wanted!r} is not available: using the default theme"
                )
            wanted = DEFAULT_THEME if DEFAULT_THEME in found.themes else "textual-dark"
        self.theme = wanted

    def on_mount(self) -> None:
        self.startup_notes += self.keys.load()
        for note in self.startup_notes:
            self.notify(note, title="Settings", severity="warning", timeout=8)
        self.nav.watch()
        self.push_screen(LoginScreen(self))
        if self.run_startup:  # after the first frame: building the gateway takes a while
            left_open = (
                self.rt.records.open_payments.ids() if isinstance(self.rt, Runtime) else None
            )
            self.call_after_refresh(self.startup, left_open)

    def watch_theme(self, theme: str) -> None:
        if theme in getattr(self, "theme_names", ()):
            try:
                save_ui_prefs(self.config_dir, theme=theme)
            except OSError as exc:
                log.warning("cannot remember the theme: %s", exc)

    async def sign_in(self, user_id: str, pin: str) -> User:
        """Check a user's PIN: on the server when the gateway is one, else locally."""
        if isinstance(self.rt, Runtime):
            return self.rt.access.login(user_id, pin)
        user: User = await self.rt.gateway.login(user_id, pin)  # type: ignore[attr-defined]  # a RemoteRuntime's gateway
        return user

    def signed_in(self, user: User) -> None:
        self.flow.begin(user)

    @work(exclusive=True, group="startup", exit_on_error=False)
    async def startup(self, left_open: list[str] | None) -> None:
        """Settle what an earlier run left open (`left_open`, read before any sale could
        start; None: the server decides). What building the gateway imports (the bank
        app: FastAPI, uvicorn; its client: httpx; 0.4 s) is imported in a thread first,
        so the first screen stays live meanwhile."""
        if isinstance(self.rt, Runtime):
            await asyncio.to_thread(self.rt.preload_gateway)
        try:
            if left_open is None:
                notes = await self.gateway.repair()
            else:
                notes = await self.gateway.repair(only=left_open)
            notes += await self.gateway.bills.repair()  # a bill left canceling or paid
        except PaygateError as exc:
            self.notify(f"Could not settle open payments: {exc}", severity="warning")
            notes = []
        if notes:
            self.notify(
                "\n".join(notes[:4]) + ("\n…" if len(notes) > 4 else ""),
                title=f"Settled {len(notes)} payment(s) left open",
                timeout=10,
            )

    # -- keys, the palette and the sale's messages ------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        """Typed keys go in one at a time (pos_app.typeahead)."""
        if (
            isinstance(event, (events.Key, events.Paste))
            and not event.is_forwarded
            and not self.typeahead.admit(event)
        ):
            return
        await super().on_event(event)

    def _screen_changing(self) -> bool:
        """A screen change, or work that ends in one, is under way (not one that waits
        for the cashier to close help or a dialog first)."""
        for worker in self.workers:
            if worker.group not in SCREEN_CHANGING_WORK or worker.is_finished:
                continue
            if worker.group == "navigation" and self.nav.parked:
                continue
            return True
        return False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed unexpectedly: say so (its type only: never card data)."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            log.error("worker %s failed: %s", event.worker.name, type(error).__name__)
            self.notify(
                f"Something went wrong ({type(error).__name__}); the terminal goes on.",
                severity="error",
            )

    def on_route_update(self, message: RouteUpdate) -> None:
        self.flow.route_update(message)

    def on_flow_failed(self, message: FlowFailed) -> None:
        self.flow.flow_failed(message)

    def on_flow_done(self, message: FlowDone) -> None:
        self.flow.flow_done(message)

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        commands: list[tuple[str, str, Any]] = [
            ("Help: keys and test cards", "F1", self.action_help),
        ]
        if self.user is not None:
            commands += [
                ("New sale", "Back to the amount", self.flow.new_sale),
                ("Today's payments", "F2", self.action_today),
                ("Frame inspector", "F3: ISO 8583 frames", self.action_inspector),
                (
                    "Shift: open or close",
                    "o: the float, the drawer counted",
                    self.flow.open_shift_screens,
                ),
                (
                    "Drawer: paid in / paid out",
                    "m: a reason, a manager",
                    self.flow.open_drawer_move,
                ),
            ]
            if not self.remote:  # the console runs where the gateway runs
                commands.append(
                    (
                        "Merchant console",
                        "F4: dashboard, transactions, settlement, audit, risk (manager PIN)",
                        self.action_merchant,
                    )
                )
            commands.append(("Log out", "Sign out of the terminal", self.action_logout))
        for name in self.theme_names:
            switch = partial(setattr, self, "theme", name)
            commands.append((f"Theme: {name}", "Switch theme (remembered)", switch))
        return commands

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own palette entries, less those a terminal must not offer: quitting
        past the payment-in-progress check, and screenshots written to the working dir."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Quit", "Screenshot", "Bell"):
                yield command

    def action_quit(self) -> None:
        self.action_quit_terminal()

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(TerminalPalette(id="--command-palette"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if isinstance(self.screen, CommandPalette) and action != "quit_terminal":
            return False  # the palette runs these itself, once it is closed
        if action in ("today", "inspector", "merchant", "logout") and self.user is None:
            return False
        here = {
            "help": HelpScreen,
            "today": TodayScreen,
            "inspector": InspectorScreen,
            "merchant": MerchantScreen,
        }
        if action in here and isinstance(self.screen, here[action]):
            return False  # already there
        if action == "inspector" and isinstance(self.screen, TodayScreen):
            return False  # Today has its own key for the frames of the chosen payment
        if action in ("today", "inspector", "merchant", "logout") and self.flow.busy:
            return None  # shown, but not while a payment is with the bank
        return True

    # -- global actions -------------------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.keys))

    def action_today(self) -> None:
        if self.user is None or isinstance(self.screen, TodayScreen):
            return
        if self.flow.busy:
            self.notify("A payment is with the bank: Today opens after its answer.")
            return
        today = next((s for s in self.screen_stack if isinstance(s, TodayScreen)), None)
        if today is not None:
            today.pop_until_active()  # back to the list already open underneath
            return
        self.push_screen(TodayScreen(self.flow))

    def action_inspector(self) -> None:
        if self.user is None or isinstance(self.screen, InspectorScreen):
            return
        if self.flow.busy:
            self.notify("A payment is with the bank: the frames come after its answer.")
            return
        self.flow.open_inspector(self.flow.last_payment_id)

    def action_merchant(self) -> None:
        if self.user is None or isinstance(self.screen, (MerchantScreen, ConsoleApproval)):
            return
        if self.flow.busy:
            self.notify("A payment is with the bank: the console opens after its answer.")
            return
        office = self.office
        if self.remote or office is None:
            self.notify(
                "The merchant console runs where the gateway runs: on the machine of "
                "paygate serve, not on a terminal connected to it.",
                timeout=6,
            )
            return
        console = next((s for s in self.screen_stack if isinstance(s, MerchantScreen)), None)
        if console is not None:
            console.pop_until_active()  # back to the console already open underneath
            return

        def approved(manager: User | None) -> None:
            if manager is not None:
                self.gateway  # noqa: B018  # built here: the console reads in threads
                self.push_screen(MerchantScreen(office, manager))

        self.push_screen(ConsoleApproval(office), approved)

    def action_next_theme(self) -> None:
        names = self.theme_names or [self.theme]
        index = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(index + 1) % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def action_logout(self) -> None:
        if self.user is None:
            return
        if self.flow.busy:
            self.notify("A payment is with the bank: log out after its answer.", severity="warning")
            return
        self.flow.end()
        self.nav.restart_with(LoginScreen(self))

    def action_quit_terminal(self) -> None:
        if self.flow.busy and not self.flow.quit_armed:
            self.flow.quit_armed = True
            self.notify(
                "A payment is with the bank. Wait for its answer, or press ctrl+q again to "
                "quit anyway: the payment is then settled (reversed if held) at the next start.",
                title="Payment in progress",
                severity="warning",
                timeout=8,
            )
            return
        self.exit(0)


__all__ = ["PaygateApp", "TerminalRuntime"]
