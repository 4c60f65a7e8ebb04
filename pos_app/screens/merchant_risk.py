"""The console's risk tab: blocks in force and the rules that fired today."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import VerticalScroll

from gateway_core.presentation import until_text
from pos_app.screens.hosts import DayData
from pos_app.screens.merchant_parts import ConsolePart
from pos_app.widgets.line import Line


class RiskPane(ConsolePart, VerticalScroll):
    """Blocks in force and the rules that fired today."""

    def compose(self) -> ComposeResult:
        yield Line("", id="risk-blocks")
        yield Line("", id="risk-rules")

    def show(self, data: DayData) -> None:
        tz = self.console.office.settings.tz
        blocks = Table(
            box=None, expand=True, pad_edge=False, title="Blocked now", title_justify="left"
        )
        for column in ("Scope", "What", "Until", "Rule", "Why"):
            blocks.add_column(column, no_wrap=column != "Why", ratio=1 if column == "Why" else None)
        for b in data.blocks:
            what = b.key if b.scope == "terminal" else f"card {b.key[:12]}…"
            until = until_text(b.until, tz)
            blocks.add_row(b.scope, what, until, b.rule, b.reason)
        if not data.blocks:
            blocks.add_row("", "nothing is blocked now", "", "", "")
        rules = Table(
            box=None, expand=True, pad_edge=False, title="Rules fired today", title_justify="left"
        )
        rules.add_column("Rule", no_wrap=True)
        rules.add_column("Payments", justify="right")
        for rule, n in data.stats.rules:
            rules.add_row(rule, f"{n:,}")
        if not data.stats.rules:
            rules.add_row("no rule fired today", "")
        self.query_one("#risk-blocks", Line).update(blocks)
        self.query_one("#risk-rules", Line).update(rules)
