"""Help (F1): every key of every screen (as remapped), and the demo test cards."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll

from pos_app.screens.base import PosScreen, while_shown
from pos_app.screens.hosts import KeyGuide
from pos_app.widgets.line import Line


class HelpScreen(PosScreen):
    """Keys and test cards."""

    TITLE_TEXT = "Help"
    BINDINGS = [
        Binding("escape", "back", "Back", id="help.back", tooltip="Close the help"),
    ]

    def __init__(self, guide: KeyGuide) -> None:
        super().__init__()
        self.guide = guide

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="panel") as box:
            box.border_title = "Keys (remap them in keys.toml) · ↑↓ PgUp PgDn scroll"
            box.can_focus = True
            yield Line(self._keys(), id="help-keys")
            yield Line(self._cards(), id="help-cards")
            yield Line(self._notes(), id="help-notes")

    @while_shown
    def on_mount(self) -> None:
        self.query_one("#help").focus()

    def _table(self, title: str) -> Table:
        table = Table(
            title=title,
            title_justify="left",
            title_style="bold underline",
            box=None,
            expand=True,
            show_header=False,
            pad_edge=False,
        )
        table.add_column("Key", no_wrap=True, style="bold", width=12)
        table.add_column("Does", ratio=1)
        table.add_column("Binding id", no_wrap=True, style="dim", width=22)
        return table

    def _keys(self) -> Group:
        tables = []
        for group, bindings in self.guide.binding_groups():
            table = self._table(group)
            for binding in bindings:
                keys = self.guide.keys_for(binding)
                what = binding.tooltip or binding.description
                table.add_row(keys, what, binding.id or "")
            if group == "Everywhere":
                table.add_row("^p", "Command palette: main actions and themes", "")
                table.add_row("tab", "Next field (shift+tab: previous)", "")
            tables.append(table)
        return Group(*tables)

    def _cards(self) -> Table:
        table = Table(
            title="Demo test cards (expiry 12/30, CVV 123, Amex 1234)",
            title_justify="left",
            box=None,
            expand=True,
            pad_edge=False,
        )
        table.add_column("Card", no_wrap=True)
        table.add_column("Number", no_wrap=True)
        table.add_column("What it does", ratio=1)
        for card in self.guide.test_cards:
            table.add_row(card.label, card.pan, card.behaviour)
        return table

    def _notes(self) -> str:
        return (
            "Large payments ask for an OTP (the issuer's and the risk rules' limits). In demo "
            "mode the card screen's ctrl+d picks a test card, and the OTP screen shows the "
            "cardholder's phone.\n"
            f"Keys: {self.guide.keys_file}\nThemes: {self.guide.user_themes_dir}"
        )

    def action_back(self) -> None:
        self.dismiss()
