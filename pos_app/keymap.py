"""The terminal's keys: every binding with an id, by where it works (for the help and
`<config dir>/keys.toml`), the user's remapping read from keys.toml, and a binding's
keys as the user has them. Satisfies `pos_app.screens.hosts.KeyGuide`."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding

from pos_app.screens.card import CardScreen, DemoCardsScreen
from pos_app.screens.cash import CashScreen
from pos_app.screens.health import HealthScreen
from pos_app.screens.help import HelpScreen
from pos_app.screens.inspector import InspectorScreen
from pos_app.screens.login import LoginScreen
from pos_app.screens.merchant import MerchantScreen
from pos_app.screens.merchant_audit import AuditPane
from pos_app.screens.merchant_payment import AmountScreen, PaymentScreen
from pos_app.screens.merchant_settlement import SettlementPane
from pos_app.screens.merchant_transactions import TransactionsPane
from pos_app.screens.modals import ConfirmScreen, ManagerApprovalScreen, ReceiptDialog
from pos_app.screens.otp import OtpScreen
from pos_app.screens.phone import PhonePanel
from pos_app.screens.processing import ProcessingScreen
from pos_app.screens.result import ResultScreen
from pos_app.screens.sale import SaleScreen
from pos_app.screens.shift import CountScreen, DrawerMoveDialog, ShiftReportScreen
from pos_app.screens.split import SplitScreen
from pos_app.screens.today import TodayScreen
from pos_app.screens.upi import UpiScreen
from pos_app.widgets.card_number import CardNumberField
from pos_app.wiring import CardHint


class Keys:
    """The bindings of the terminal and the user's keys for them."""

    def __init__(self, app: App[int], config_dir: Path, test_cards: Sequence[CardHint]) -> None:
        self.app = app
        self.keys_file = config_dir / "keys.toml"
        self.user_themes_dir = config_dir / "themes"
        self.test_cards = test_cards
        self.keymap: dict[str, str] = {}

    def binding_groups(self) -> list[tuple[str, list[Binding]]]:
        """Every binding with an id, by where it works (for help and keys.toml)."""
        owners: list[tuple[str, Iterable[Any]]] = [
            ("Everywhere", type(self.app).BINDINGS),
            ("Sign in", LoginScreen.BINDINGS),
            ("Sale", SaleScreen.BINDINGS),
            ("Card", [*CardScreen.BINDINGS, *CardNumberField.BINDINGS]),
            ("Demo cards", DemoCardsScreen.BINDINGS),
            ("UPI", [*UpiScreen.BINDINGS, *PhonePanel.BINDINGS]),
            ("Cash", CashScreen.BINDINGS),
            ("Shift count (open, close)", CountScreen.BINDINGS),
            ("Shift report", ShiftReportScreen.BINDINGS),
            ("Paid in / paid out", DrawerMoveDialog.BINDINGS),
            ("Split bill", SplitScreen.BINDINGS),
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
            ("Health (console)", HealthScreen.BINDINGS),
            ("Payment (console)", PaymentScreen.BINDINGS),
            ("Amount (console)", AmountScreen.BINDINGS),
        ]
        return [
            (name, [b for b in bindings if isinstance(b, Binding) and b.id])
            for name, bindings in owners
        ]

    def load(self) -> list[str]:
        """Read keys.toml (if any) and remap the app's keys; what was wrong in it."""
        path = self.keys_file
        if not path.is_file():
            return []
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return [f"{path.name} is not valid TOML ({exc}); keys unchanged"]
        data = data.get("keys", data) if isinstance(data.get("keys"), dict) else data
        known = {b.id for _, bindings in self.binding_groups() for b in bindings}
        notes: list[str] = []
        keymap: dict[str, str] = {}
        for binding_id, key in data.items():
            if binding_id not in known:
                notes.append(f"{path.name}: no binding {binding_id!r}; ignored")
            elif not isinstance(key, str) or not key.strip():
                notes.append(f"{path.name}: {binding_id} needs a key as text")
            else:
                keymap[binding_id] = key.strip()
        self.keymap = keymap
        if keymap:
            self.app.set_keymap(keymap)
        return notes

    def keys_for(self, binding: Binding) -> str:
        """The key(s) of a binding as the user has them (keys.toml applied)."""
        keys = self.keymap.get(binding.id or "", binding.key)
        shown = []
        for key in keys.split(","):
            key = key.strip()
            display = binding.key_display if key == binding.key and binding.key_display else None
            shown.append(display or self.app.get_key_display(Binding(key, "")))
        return " / ".join(shown)
