"""The cashier's terminal: a Textual app on the gateway core.

`run_app(settings, demo=..., reset=...)` opens the data dir and runs the terminal;
`PaygateApp` takes an open `Runtime` (tests inject one with a frozen clock and seeded
ids). The app never blocks on the bank: every gateway call runs in a worker (an
async worker: the gateway is async) that posts its result back as a message.

Screens: sign in → sale → card → processing → (OTP) → result; Today (F2), help (F1),
frame inspector (F3), the merchant console (F4, a manager's PIN). Keys can be remapped
in `<config dir>/keys.toml` (binding id → key); themes come from `themes/` and
`<config dir>/themes/`; the chosen theme is remembered in `<config dir>/ui.toml`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sys
import tomllib
from collections.abc import Iterable
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platformdirs import user_config_path
from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from gateway_core.access import AccessError, User
from gateway_core.cards import CardError, CardInput
from gateway_core.errors import InputError, PaygateError
from gateway_core.gateway import ChargeRequest, Gateway, IdempotencyConflict, open_payment_ids
from gateway_core.money import Money, MoneyError
from gateway_core.payments import Payment
from gateway_core.ports import Approval
from gateway_core.presentation import format_money, mask_phone
from gateway_core.runtime import Runtime, import_gateway_modules
from gateway_core.settings import Settings
from gateway_core.settlement import Settlement, match
from gateway_core.store.files import make_private_dir, write_atomically
from gateway_core.store.lock import WriterLock
from pos_app.screens.base import DismissOnce
from pos_app.screens.card import CardScreen, DemoCardsScreen
from pos_app.screens.help import HelpScreen
from pos_app.screens.inspector import InspectorScreen
from pos_app.screens.login import LoginScreen
from pos_app.screens.merchant import (
    AuditPane,
    ConsoleApproval,
    MerchantScreen,
    SettlementPane,
    TransactionsPane,
)
from pos_app.screens.merchant_payment import ActionApproval, AmountScreen, PaymentScreen
from pos_app.screens.messages import (
    ROUTE_REPORT,
    FlowDone,
    FlowFailed,
    RouteEvent,
    RouteTap,
    RouteUpdate,
)
from pos_app.screens.modals import (
    ConfirmScreen,
    ManagerApprovalScreen,
    ReceiptDialog,
    void_kind,
)
from pos_app.screens.otp import OtpScreen
from pos_app.screens.processing import ProcessingScreen
from pos_app.screens.result import ResultScreen
from pos_app.screens.sale import SaleScreen
from pos_app.screens.state import TIP_LABELS, SaleDraft, SaleExtras
from pos_app.screens.today import TodayScreen
from pos_app.themes import DEFAULT_THEME, load_themes, load_ui_prefs, save_ui_prefs
from pos_app.typeahead import TypeAhead

if TYPE_CHECKING:  # httpx and the service client: only a terminal on a server needs them
    from paygate_cli.remote import RemoteRuntime

log = logging.getLogger("paygate.terminal")

DEMO_LATENCY_MS = 120.0
# A fresh demo's history: a week at 60 payments a day seeds in about 5 s on first start
# (500 a day, `paygate demo seed`'s default, takes about a minute).
DEMO_DAYS = 7
DEMO_PER_DAY = 60
# Work whose end changes the screen (or fills the list the next keys move in): keys
# typed meanwhile wait for it (pos_app.typeahead). The payment itself is not one: keys
# typed while it is with the bank go to the processing screen.
SCREEN_CHANGING_WORK = frozenset(
    {"navigation", "login", "void", "console", "merchant-action", "today"}
)


def default_config_dir() -> Path:
    """Where keys.toml, ui.toml and the user's themes live."""
    return user_config_path("paygate")


class PaygateCommands(Provider):
    """The command palette: the terminal's main actions and every theme."""

    def _commands(self) -> list[tuple[str, str, Any]]:
        app = self.app
        assert isinstance(app, PaygateApp)
        return app.palette_commands()

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class TerminalPalette(DismissOnce, CommandPalette):
    """Textual's command palette, closed once (an Enter typed twice in a row must not
    close the screen under it as well); a page key on a list still being filled does
    nothing instead of failing."""

    def _action_command_list(self, action: str) -> None:
        # Textual's list fails on a page key while it has no lines yet (KeyError 0).
        commands = self.query(CommandList)
        if commands and commands.first().option_count == 0:
            return
        try:
            super()._action_command_list(action)
        except KeyError:
            return  # the same, while the list is being filled


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
        runtime: Runtime | RemoteRuntime,
        *,
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
        self.config_dir = config_dir if config_dir is not None else default_config_dir()
        self.animate = animate
        self.result_delay = result_delay
        self.run_startup = startup
        self.user: User | None = None
        self.draft = self._new_draft()
        self.extras: dict[str, SaleExtras] = {}
        self.pending_extras: SaleExtras | None = None
        self.last_payment_id: str | None = None
        self.route_log: list[RouteEvent] = []  # the route of the payment on screen
        self._busy: str | None = None  # the payment step with the bank right now
        self._quit_armed = False
        self._navigation = asyncio.Lock()
        self._navigation_parked = False  # a screen change waits for an overlay to close
        self.typeahead = TypeAhead(self, self._screen_changing)
        self.startup_notes: list[str] = []
        self.keymap: dict[str, str] = {}
        super().__init__()
        if not animate:
            self.animation_level = "none"
        self._load_themes()

    # -- set-up ---------------------------------------------------------------------------
    @property
    def busy(self) -> str | None:
        """The payment step that is with the bank right now, if any."""
        return self._busy

    @busy.setter
    def busy(self, step: str | None) -> None:
        self._busy = step
        if self.is_running:
            self.refresh_bindings()

    @property
    def gateway(self) -> Gateway:
        if self.remote:
            return self.rt.gateway  # type: ignore[return-value]  # same interface
        gateway = self.rt.gateway
        if not isinstance(gateway.bank, RouteTap):
            gateway.bank = RouteTap(gateway.bank)  # type: ignore[assignment]
        return gateway

    @property
    def keys_file(self) -> Path:
        return self.config_dir / "keys.toml"

    @property
    def user_themes_dir(self) -> Path:
        return self.config_dir / "themes"

    def now(self) -> datetime:
        return self.rt.clock.now().astimezone(self.settings.tz)

    def _new_draft(self) -> SaleDraft:
        return SaleDraft(self.settings.currency, self.settings.max_minor(self.settings.currency))

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

    def _load_keymap(self) -> None:
        path = self.keys_file
        if not path.is_file():
            return
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            self.startup_notes.append(f"{path.name} is not valid TOML ({exc}); keys unchanged")
            return
        data = data.get("keys", data) if isinstance(data.get("keys"), dict) else data
        known = {b.id for _, bindings in self.binding_groups() for b in bindings}
        keymap: dict[str, str] = {}
        for binding_id, key in data.items():
            if binding_id not in known:
                self.startup_notes.append(f"{path.name}: no binding {binding_id!r}; ignored")
            elif not isinstance(key, str) or not key.strip():
                self.startup_notes.append(f"{path.name}: {binding_id} needs a key as text")
            else:
                keymap[binding_id] = key.strip()
        self.keymap = keymap
        if keymap:
            self.set_keymap(keymap)

    def on_mount(self) -> None:
        self._load_keymap()
        for note in self.startup_notes:
            self.notify(note, title="Settings", severity="warning", timeout=8)
        self.push_screen(LoginScreen())
        if self.run_startup:  # after the first frame: building the gateway takes a while
            left_open = None if self.remote else open_payment_ids(self.rt.store)
            self.call_after_refresh(self.startup, left_open)

    def watch_theme(self, theme: str) -> None:
        if theme in getattr(self, "theme_names", ()):
            try:
                save_ui_prefs(self.config_dir, theme=theme)
            except OSError as exc:
                log.warning("cannot remember the theme: %s", exc)

    async def sign_in(self, user_id: str, pin: str) -> User:
        """Check a user's PIN: on the server when the gateway is one, else locally."""
        if self.remote:
            return await self.rt.gateway.login(user_id, pin)
        return self.rt.access.login(user_id, pin)

    async def read(self, method: Any, *args: Any) -> Any:
        """A read of the gateway (`get`, `list_day`): a blocking HTTP call in a thread when
        the gateway is a server; in place otherwise (the local store is one-thread)."""
        if self.remote:
            return await asyncio.to_thread(method, *args)
        return method(*args)

    @work(exclusive=True, group="startup", exit_on_error=False)
    async def startup(self, left_open: list[str] | None) -> None:
        """Settle what an earlier run left open (`left_open`, read before any sale could
        start; None: the server decides). What building the gateway imports (the bank
        app: FastAPI, uvicorn; its client: httpx; 0.4 s) is imported in a thread first,
        so the first screen stays live meanwhile."""
        if left_open is not None:
            await asyncio.to_thread(import_gateway_modules)
        try:
            if left_open is None:
                notes = await self.gateway.repair()
            else:
                notes = await self.gateway.repair(only=left_open)
        except PaygateError as exc:
            self.notify(f"Could not settle open payments: {exc}", severity="warning")
            notes = []
        if notes:
            self.notify(
                "\n".join(notes[:4]) + ("\n…" if len(notes) > 4 else ""),
                title=f"Settled {len(notes)} payment(s) left open",
                timeout=10,
            )

    # -- keys, help and the palette ---------------------------------------------------------
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
            if worker.group == "navigation" and self._navigation_parked:
                continue
            return True
        return False

    def binding_groups(self) -> list[tuple[str, list[Binding]]]:
        """Every binding with an id, by where it works (for help and keys.toml)."""
        from pos_app.widgets.card_number import CardNumberField

        owners: list[tuple[str, Iterable[Any]]] = [
            ("Everywhere", PaygateApp.BINDINGS),
            ("Sign in", LoginScreen.BINDINGS),
            ("Sale", SaleScreen.BINDINGS),
            ("Card", [*CardScreen.BINDINGS, *CardNumberField.BINDINGS]),
            ("Demo cards", DemoCardsScreen.BINDINGS),
            ("Processing", ProcessingScreen.BINDINGS),
            ("OTP", OtpScreen.BINDINGS),
            ("Result", ResultScreen.BINDINGS),
            ("Manager approval", ManagerApprovalScreen.BINDINGS),
            ("Confirm", ConfirmScreen.BINDINGS),
            ("Receipt (reprint)", ReceiptDialog.BINDINGS),
            ("Today", TodayScreen.BINDINGS),
            ("Help", HelpScreen.BINDINGS),
            ("Inspector", InspectorScreen.BINDINGS),
            (
                "Merchant console",
                [
                    *MerchantScreen.BINDINGS,
                    *TransactionsPane.BINDINGS,
                    *SettlementPane.BINDINGS,
                    *AuditPane.BINDINGS,
                ],
            ),
            ("Payment (console)", PaymentScreen.BINDINGS),
            ("Amount (console)", AmountScreen.BINDINGS),
        ]
        return [
            (name, [b for b in bindings if isinstance(b, Binding) and b.id])
            for name, bindings in owners
        ]

    def keys_for(self, binding: Binding) -> str:
        """The key(s) of a binding as the user has them (keys.toml applied)."""
        keys = self.keymap.get(binding.id or "", binding.key)
        shown = []
        for key in keys.split(","):
            key = key.strip()
            display = binding.key_display if key == binding.key and binding.key_display else None
            shown.append(display or self.get_key_display(Binding(key, "")))
        return " / ".join(shown)

    def palette_commands(self) -> list[tuple[str, str, Any]]:
        commands: list[tuple[str, str, Any]] = [
            ("Help: keys and test cards", "F1", self.action_help),
        ]
        if self.user is not None:
            commands += [
                ("New sale", "Back to the amount", self.new_sale),
                ("Today's payments", "F2", self.action_today),
                ("Frame inspector", "F3: ISO 8583 frames", self.action_inspector),
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
            switch = partial(self._set_theme, name)
            commands.append((f"Theme: {name}", "Switch theme (remembered)", switch))
        return commands

    def _set_theme(self, name: str) -> None:
        self.theme = name

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
        if action in ("today", "inspector", "merchant", "logout") and self.busy:
            return None  # shown, but not while a payment is with the bank
        return True

    # -- global actions -------------------------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_today(self) -> None:
        if self.user is None or isinstance(self.screen, TodayScreen):
            return
        if self.busy:
            self.notify("A payment is with the bank: Today opens after its answer.")
            return
        today = next((s for s in self.screen_stack if isinstance(s, TodayScreen)), None)
        if today is not None:
            today.pop_until_active()  # back to the list already open underneath
            return
        self.push_screen(TodayScreen())

    def action_inspector(self) -> None:
        if self.user is None or isinstance(self.screen, InspectorScreen):
            return
        if self.busy:
            self.notify("A payment is with the bank: the frames come after its answer.")
            return
        self.open_inspector(self.last_payment_id)

    def open_inspector(self, payment_id: str | None) -> None:
        self.push_screen(InspectorScreen(payment_id))

    def action_merchant(self) -> None:
        if self.user is None or isinstance(self.screen, (MerchantScreen, ConsoleApproval)):
            return
        if self.busy:
            self.notify("A payment is with the bank: the console opens after its answer.")
            return
        if self.remote:
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
                self.push_screen(MerchantScreen(manager))

        self.push_screen(ConsoleApproval(), approved)

    def action_next_theme(self) -> None:
        names = self.theme_names or [self.theme]
        index = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(index + 1) % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def action_logout(self) -> None:
        if self.user is None:
            return
        if self.busy:
            self.notify("A payment is with the bank: log out after its answer.", severity="warning")
            return
        self.user = None
        self.draft = self._new_draft()
        self._restart_with(LoginScreen())

    def action_quit_terminal(self) -> None:
        if self.busy and not self._quit_armed:
            self._quit_armed = True
            self.notify(
                "A payment is with the bank. Wait for its answer, or press ctrl+q again to "
                "quit anyway: the payment is then settled (reversed if held) at the next start.",
                title="Payment in progress",
                severity="warning",
                timeout=8,
            )
            return
        self.exit(0)

    # -- screen stack helpers ---------------------------------------------------------------
    def _navigate(self, job) -> None:
        """Change screens in a task of its own, one change after the other, so that
        waiting for an overlay to close never holds up the app's own messages."""

        async def run() -> None:
            async with self._navigation:
                try:
                    await job()
                except Exception as exc:  # a screen change must never take the app down
                    log.error("screen change failed: %s", type(exc).__name__)

        self.run_worker(run(), group="navigation", exit_on_error=False)

    async def _overlays_closed(self, *, flow: bool) -> None:
        """Wait while the cashier has help, the palette or a dialog open on top: the
        next screen comes when they close it, not from under their fingers."""
        try:
            while True:
                top = self.screen
                if flow:
                    if len(self.screen_stack) <= 2 or isinstance(top, (SaleScreen, *FLOW_SCREENS)):
                        return
                elif not isinstance(top, (CommandPalette, HelpScreen, ModalScreen)):
                    return
                self._navigation_parked = True  # the keys meanwhile are the overlay's
                await asyncio.sleep(0.05)
        finally:
            self._navigation_parked = False

    def _restart_with(self, screen: Screen) -> None:
        """Replace the whole stack above the base screen with `screen`."""

        async def swap() -> None:
            await self._overlays_closed(flow=False)
            while len(self.screen_stack) > 1:
                await self.pop_screen()
            await self.push_screen(screen)

        self._navigate(swap)

    def _flow_to(self, screen: Screen) -> None:
        """Show the next step of the sale (card, processing, OTP or result) in place of
        the step on screen, in one switch: nothing flickers in between. When help, Today
        or a dialog is open on top, the step changes once it is closed."""

        async def swap() -> None:
            await self._overlays_closed(flow=True)
            if isinstance(self.screen, FLOW_SCREENS):
                await self.switch_screen(screen)
            else:
                await self.push_screen(screen)

        self._navigate(swap)

    def _card_screen(self) -> CardScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, CardScreen):
                return screen
        return None

    # -- the flow ---------------------------------------------------------------------------
    def signed_in(self, user: User) -> None:
        self.user = user
        self.draft = self._new_draft()
        self._restart_with(SaleScreen())

    def open_card(self) -> None:
        self.push_screen(CardScreen())

    def new_sale(self) -> None:
        if self.busy:
            return
        self.draft = self._new_draft()
        if self.user is None:
            return

        async def back() -> None:
            while len(self.screen_stack) > 2:
                await self.pop_screen()
            sale = self.screen
            if isinstance(sale, SaleScreen):
                sale.reset()

        self._navigate(back)

    def try_again(self) -> None:
        """The same sale again (after a decline): back to the card screen."""
        if self.busy:
            return
        self._flow_to(CardScreen())

    def start_charge(self, card: CardInput, *, masked: str) -> None:
        """Send the sale; the card screen stays underneath until the answer comes."""
        if self.busy or self.user is None:
            self.notify("A payment is already with the bank.", severity="warning")
            return
        draft = self.draft
        try:
            amount, tip, total = draft.amount(), draft.tip_amount(), draft.total()
        except MoneyError as exc:
            self.notify(str(exc), severity="error")
            return
        tip_label = TIP_LABELS[draft.tip] if draft.tip not in ("none", "custom") else ""
        self.pending_extras = SaleExtras(amount.minor, tip.minor, draft.reference, tip_label)
        request = ChargeRequest(
            amount=total.minor,
            tip=tip.minor,
            currency=total.currency,
            card=card,
            capture=draft.capture,
            terminal_id=self.settings.terminal_id,
            idempotency_key=draft.idempotency_key,
            operator=self.user.id,
        )
        verb = "Pre-authorizing" if draft.capture == "manual" else "Authorizing"
        self.busy = "charge"
        self._quit_armed = False
        self.route_log = []
        self._flow_to(ProcessingScreen(f"{verb} {format_money(total)}", masked))
        self.run_worker(self._charge(request), name="charge", group="payment", exit_on_error=False)

    def _report(self, event: RouteEvent) -> None:
        self.post_message(RouteUpdate(event))

    async def _charge(self, request: ChargeRequest) -> None:
        ROUTE_REPORT.set(self._report)
        try:
            payment = await self.gateway.charge(request)
        except IdempotencyConflict:
            self.draft.new_attempt()
            self.post_message(
                FlowFailed(
                    "This sale was sent before with other details; press Enter to send it "
                    "as a new payment.",
                    "charge",
                )
            )
        except CardError as exc:
            self.post_message(FlowFailed(str(exc), "charge", exc.field))
        except PaygateError as exc:
            self.post_message(FlowFailed(str(exc), "charge"))
        except Exception as exc:  # never a traceback on the cashier's screen
            log.error("charge failed: %s", type(exc).__name__)
            self.post_message(
                FlowFailed(
                    f"Something went wrong ({type(exc).__name__}); the payment is checked "
                    "and settled at the next start.",
                    "charge",
                )
            )
        else:
            self.post_message(FlowDone(payment, "charge"))
        finally:
            del request  # the card's last reference in this worker
            self.draft.clear_card()
            card_screen = self._card_screen()
            if card_screen is not None:
                card_screen.clear_card()
            self.busy = None

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
        self.route_log.append(message.event)
        if isinstance(self.screen, ProcessingScreen):
            self.screen.route_event(message.event)

    def on_flow_failed(self, message: FlowFailed) -> None:
        """Back to the step it started from, with the reason under its field."""
        payment = message.payment
        if message.step == "charge":
            self._flow_to(CardScreen(error=(message.field, message.message)))
        elif payment is not None and payment.status == "requires_action":
            self._flow_to(OtpScreen(payment, note=message.message))
        elif payment is not None:
            self._flow_to(ResultScreen(payment))
        else:
            self.notify(message.message, severity="error", timeout=8)
            self.new_sale()

    def on_flow_done(self, message: FlowDone) -> None:
        payment = message.payment
        self.last_payment_id = payment.id
        if message.step == "charge" and self.pending_extras is not None:
            self.extras[payment.id] = self.pending_extras
            self.pending_extras = None
        if payment.status == "requires_action":
            self._finish_processing(payment, partial(self._flow_to, OtpScreen(payment)))
            return
        if payment.status != "unknown":
            self.draft.new_attempt()  # a final answer: a retry is a new payment
        self._finish_processing(payment, partial(self._flow_to, ResultScreen(payment)))

    def _finish_processing(self, payment: Payment, then) -> None:
        screen = self.screen
        if isinstance(screen, ProcessingScreen):
            screen.finished(payment)
            if self.result_delay > 0:
                self.set_timer(self.result_delay, then)
                return
        then()

    # -- OTP ----------------------------------------------------------------------------
    def confirm_otp(self, payment: Payment, code: str) -> None:
        if self.busy or self.user is None:
            return
        self.busy = "otp"
        self.route_log = []
        self._flow_to(ProcessingScreen("Checking the code", payment.card.masked, step="otp"))
        self.run_worker(
            self._confirm(payment.id, code), name="otp", group="payment", exit_on_error=False
        )

    async def _confirm(self, payment_id: str, code: str) -> None:
        ROUTE_REPORT.set(self._report)
        assert self.user is not None
        try:
            payment = await self.gateway.confirm_otp(payment_id, code, operator=self.user.id)
        except Exception as exc:
            if isinstance(exc, PaygateError):
                why = str(exc).removeprefix("the bank refused: ")
            else:
                log.error("OTP confirm failed: %s", type(exc).__name__)
                why = f"Something went wrong ({type(exc).__name__})"
            fresh = None
            with contextlib.suppress(PaygateError):
                fresh = await self.read(self.gateway.get, payment_id)
            self.post_message(FlowFailed(why, "otp", payment=fresh))
        else:
            self.post_message(FlowDone(payment, "otp"))
        finally:
            self.busy = None

    @work(exclusive=True, group="otp-resend", exit_on_error=False)
    async def resend_otp(self, screen: OtpScreen) -> None:
        try:
            payment = await self.gateway.resend_otp(screen.payment.id, operator=self._operator())
        except PaygateError as exc:
            screen.note(str(exc).removeprefix("the bank refused: "))
            return
        screen.update_payment(payment)
        screen.note("A new code was sent", "ok")
        if self.demo:
            await self._fetch_outbox(screen)

    def fetch_outbox(self, screen: OtpScreen) -> None:
        self.run_worker(
            self._fetch_outbox(screen), group="outbox", exclusive=True, exit_on_error=False
        )

    async def _fetch_outbox(self, screen: OtpScreen) -> None:
        challenge = screen.payment.challenge
        if challenge is None:
            return
        try:
            messages = await self.gateway.bank.outbox()
        except PaygateError as exc:
            screen.note(f"The simulated phone is not reachable: {exc}", "info")
            return
        since = screen.payment.created_at
        mine = [m for m in messages if mask_phone(m.phone) == challenge.phone and m.at >= since]
        screen.show_sms(mine[:3])

    def abandon_otp(self, payment: Payment) -> None:
        self.notify(
            "The payment waits for its code until it expires, then it is canceled; nothing "
            "is charged. Open it from Today (F2) to enter the code after all.",
            title="Stopped waiting",
            timeout=6,
        )
        self.draft.new_attempt()
        self.new_sale()

    def _operator(self) -> str:
        return self.user.id if self.user else "terminal"

    # -- after the result -------------------------------------------------------------------
    def open_payment(self, payment: Payment) -> None:
        if payment.status == "requires_action":
            self.push_screen(OtpScreen(payment))
        else:
            self.push_screen(ResultScreen(payment, from_today=True))

    @work(exclusive=True, group="void", exit_on_error=False)
    async def void_payment(
        self, payment: Payment, approval: Approval, modal: ManagerApprovalScreen
    ) -> None:
        operator = self._operator()
        try:
            if void_kind(payment) == "refund":
                done = await self.gateway.refund(payment.id, operator=operator, approval=approval)
            else:
                done = await self.gateway.void(payment.id, operator=operator, approval=approval)
        except AccessError as exc:
            modal.show_error(str(exc))
            return
        except PaygateError as exc:
            modal.show_error(str(exc))
            return
        except Exception as exc:
            log.error("void failed: %s", type(exc).__name__)
            modal.show_error(f"Something went wrong ({type(exc).__name__})")
            return
        self.last_payment_id = done.id
        word = "refunded" if void_kind(payment) == "refund" else "voided"
        self.notify(f"{format_money(payment.money)} {word} (approved by {approval.user_id})")
        modal.dismiss(done)

    @work(exclusive=True, group="capture", exit_on_error=False)
    async def capture_payment(self, payment: Payment, screen: TodayScreen) -> None:
        try:
            done = await self.gateway.capture(payment.id, operator=self._operator())
        except PaygateError as exc:
            self.notify(str(exc), severity="error")
            return
        captured = Money(done.amount_captured, done.currency)
        self.notify(f"Captured {format_money(captured)}")
        screen.action_reload()

    @work(exclusive=True, group="check", exit_on_error=False)
    async def check_payment(self, payment: Payment) -> None:
        try:
            await self.gateway.repair()
            fresh = await self.read(self.gateway.get, payment.id)
        except PaygateError as exc:
            self.notify(f"Still no answer: {exc}", severity="warning")
            return
        if fresh.status == "unknown":
            self.notify("The bank still does not answer; try again in a moment.")
        else:
            self.draft.new_attempt()
        screen = self.screen
        if isinstance(screen, ResultScreen) and screen.payment.id == fresh.id:
            screen.show(fresh)

    @work(group="receipt", exit_on_error=False)
    async def save_receipt(self, payment: Payment, text: str) -> None:
        folder = self.settings.data_dir / "receipts"
        path = folder / f"{payment.id}.txt"
        try:
            await asyncio.to_thread(_write_text, path, text + "\n")
        except OSError as exc:
            self.notify(f"Receipt not saved: {exc.strerror or exc}", severity="error")
            return
        self.notify(f"Saved {path}", title="Receipt saved", timeout=6)

    @work(exclusive=True, group="today", exit_on_error=False)
    async def load_today(self, screen: TodayScreen) -> None:
        try:
            payments = await self.read(self.gateway.list_day)
            payments = [p for p in payments if p.merchant_id == self.settings.merchant_id]
        except PaygateError as exc:
            self.notify(f"Cannot read today's payments: {exc}", severity="error")
            return
        if screen.is_attached:
            screen.show_payments(payments)

    def day_note(self) -> str:
        """Once today's Z report is taken, the Sale screen says that sales count for the
        next business day. (A terminal on a server: the server decides; nothing said.)"""
        if self.remote:
            return ""
        settlement = self.settlement()
        calendar, business = self.now().date(), settlement.today()
        if business == calendar:
            return ""
        closing = settlement.closing(calendar)
        z = f" (Z report {closing.number})" if closing else ""
        return f"Business day {calendar:%d %b} is closed{z}: sales now count for {business:%d %b}"

    # -- the merchant console ---------------------------------------------------------------
    def settlement(self) -> Settlement:
        """Reports, closing, reconciliation and export over the open data dir."""
        rt = self.rt
        return Settlement(rt.store, rt.settings, audit=rt.audit, clock=rt.clock)

    @work(exclusive=True, group="console", exit_on_error=False)
    async def approve_console(self, approval: Approval, modal: ConsoleApproval) -> None:
        """A manager's or admin's PIN opens the console; anyone else gets one line."""
        try:
            manager = await asyncio.to_thread(
                self.rt.access.approve,
                approval.user_id,
                approval.pin,
                action="merchant_console",
                subject=self.settings.merchant_id,
                operator=self._operator(),
            )
        except AccessError as exc:
            modal.show_error(str(exc))
            return
        modal.dismiss(manager)

    @work(exclusive=True, group="merchant-action", exit_on_error=False)
    async def merchant_action(
        self,
        kind: str,
        payment: Payment,
        amount: int | None,
        approval: Approval,
        modal: ActionApproval,
    ) -> None:
        """Capture, void or refund from the console, once a manager approves. A wrong
        PIN stays in the dialog; any other refusal is one line under the payment."""
        screen = modal.payment_screen
        operator = self._operator()
        try:
            if kind == "capture":  # the gateway asks no approval to capture: the console does
                approver = await asyncio.to_thread(
                    self.rt.access.approve,
                    approval.user_id,
                    approval.pin,
                    action="capture",
                    subject=payment.id,
                    operator=operator,
                )
                # the manager who approved captures (approval.granted names who asked)
                done = await self.gateway.capture(payment.id, amount, operator=approver.id)
            elif kind == "void":
                done = await self.gateway.void(payment.id, operator=operator, approval=approval)
            else:
                done = await self.gateway.refund(
                    payment.id, amount, operator=operator, approval=approval
                )
        except AccessError as exc:
            modal.show_error(str(exc))
            return
        except PaygateError as exc:
            modal.dismiss(None)
            screen.note(f"{exc}; nothing was changed", "error")
            return
        except Exception as exc:
            log.error("%s failed: %s", kind, type(exc).__name__)
            modal.dismiss(None)
            screen.note(f"Something went wrong ({type(exc).__name__})", "error")
            return
        modal.dismiss(done)
        done_amount = {"capture": done.amount_captured, "void": done.amount}.get(kind, amount)
        word = {"capture": "Captured", "void": "Voided", "refund": "Refunded"}[kind]
        screen.note(
            f"{word} {format_money(Money(done_amount or 0, done.currency))} "
            f"(approved by {approval.user_id})",
            "ok",
        )

    @work(thread=True, exclusive=True, group="close-day", exit_on_error=False)
    def close_day(self, screen: MerchantScreen, day: date, manager_id: str) -> None:
        """Take the Z report (in a thread: the store and the audit log write)."""
        try:
            z, _already = self.settlement().close_day(day, closed_by=manager_id)
        except PaygateError as exc:
            self.call_from_thread(screen.query_one(SettlementPane).note, str(exc), "error")
            return
        self.call_from_thread(screen.day_closed, z)

    @work(exclusive=True, group="reconcile", exit_on_error=False)
    async def reconcile_day(self, pane: SettlementPane, day: date) -> None:
        """The day against the acquirer's clearing file (the bank over the client, the
        gateway's side read in a thread)."""
        settlement = self.settlement()
        try:
            cleared = settlement.cleared(await self.gateway.bank.clearing(day))
            expected = await asyncio.to_thread(settlement.expected_clearing, day)
        except PaygateError as exc:
            pane.note(f"Cannot reconcile: {exc}", "error")
            return
        pane.show_reconciliation(match(day, expected, cleared))

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def export_day(self, pane: SettlementPane, day: date) -> None:
        """The day as CSV under `<data dir>/exports/`; the path is shown."""
        path = self.settings.data_dir / "exports" / f"paygate-{day.isoformat()}.csv"
        try:
            text = self.settlement().export(day, "csv")
            _write_text(path, text)
        except PaygateError as exc:
            self.call_from_thread(pane.note, str(exc), "error")
            return
        except OSError as exc:
            self.call_from_thread(pane.note, f"Not exported: {exc.strerror or exc}", "error")
            return
        rows = text.count("\n") - 1
        self.call_from_thread(pane.note, f"Exported {rows} rows to {path}", "ok")

    @work(exclusive=True, group="frames", exit_on_error=False)
    async def load_frames(self, screen: InspectorScreen, payment_id: str) -> None:
        try:
            frames = await self.gateway.bank.frames(payment_id)
        except PaygateError as exc:
            screen.show_error(f"The bank's frames cannot be read: {exc}")
            return
        if screen.is_attached:
            screen.show_frames(frames)


FLOW_SCREENS = (CardScreen, ProcessingScreen, OtpScreen, ResultScreen)


def _write_text(path: Path, text: str) -> None:
    """A receipt or export, whole or not at all: 0600 in a 0700 folder, whatever the umask."""
    make_private_dir(path.parent)
    write_atomically(path, text.encode(), replace=True)


# ---------------------------------------------------------------------------- running it
DEMO_MARKER = ".paygate-demo"


def reset_demo_dir(data_dir: Path) -> None:
    """Empty a demo data dir (holding its writer lock). Refuses anything else."""
    from paygate_cli.common import demo_data_dir

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
    if demo and settings.gateway_url is None:  # a served gateway keeps its own demo
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
    return asyncio.run(_run(settings, demo=demo))


def _interactive() -> bool:
    """Keys come from a terminal and Textual can draw on one (it draws on stderr)."""
    err = sys.__stderr__
    return sys.stdin.isatty() and err is not None and err.isatty()


def _seed_history(settings: Settings) -> None:
    """A new demo data dir gets a week of history (bank_sim.demo), before it opens:
    DEMO_DAYS business days of about DEMO_PER_DAY payments, today's so far included."""
    from bank_sim import demo

    print(
        f"paygate: preparing {DEMO_DAYS} days of demo history (first start only)…",
        file=sys.stderr,
    )
    try:
        demo.seed_demo_history(
            settings,
            days=DEMO_DAYS,
            per_day=DEMO_PER_DAY,
            progress=lambda line: print(f"paygate:   {line}", file=sys.stderr),
        )
    except PaygateError as exc:
        print(f"paygate: warning: demo history not loaded: {exc}", file=sys.stderr)


async def _run(settings: Settings, *, demo: bool) -> int:
    from paygate_cli.common import open_runtime

    if settings.gateway_url:  # httpx and the client only when there is a server to reach
        from paygate_cli.remote import RemoteRuntime

        rt = await RemoteRuntime.connect(settings) or open_runtime(settings)
    else:
        rt = open_runtime(settings)
    try:
        app = PaygateApp(rt, demo=demo)
        code = await app.run_async()
    finally:
        await rt.aclose()
    return code or 0


__all__ = ["PaygateApp", "reset_demo_dir", "run_app"]
