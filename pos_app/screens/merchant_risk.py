"""The console's risk tab: blocks in force, the rules that fired today and, when a fraud
model scores, the day's score distribution, its decisions and a drift warning."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import VerticalScroll

from gateway_core.fraud.monitor import BANDS, ScoreWatch
from gateway_core.presentation import until_text
from pos_app.screens.hosts import DayData
from pos_app.screens.merchant_parts import ConsolePart
from pos_app.widgets.line import Line


class RiskPane(ConsolePart, VerticalScroll):
    """Blocks in force and the rules that fired today."""

    def compose(self) -> ComposeResult:
        yield Line("", id="risk-blocks")
        yield Line("", id="risk-rules")
        model = Line("", id="risk-model")
        model.display = False  # shown once a model has scored the day
        yield model

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
        model = self.query_one("#risk-model", Line)
        model.display = data.stats.fraud is not None
        if data.stats.fraud is not None:
            model.update(model_table(data.stats.fraud))


def model_table(watch: ScoreWatch) -> Table:
    """The fraud model's day: payments per score band, its decisions, drift."""
    drift = "" if watch.drift is None else f", drift (PSI) {watch.drift:.2f}"
    if watch.drifted:
        drift += ": WARNING, scores moved from the model's test days; retrain or check"
    table = Table(
        box=None,
        expand=True,
        pad_edge=False,
        title=f"Fraud model today: {watch.scored:,} scored{drift}",
        title_justify="left",
    )
    table.add_column("Score", no_wrap=True)
    table.add_column("Payments", justify="right")
    table.add_column("Share", justify="right")
    for (low, high), n in zip(BANDS, watch.bands, strict=True):
        table.add_row(f"{low}-{high}", f"{n:,}", f"{n / watch.scored:.0%}")
    for action, n in watch.decisions.items():
        table.add_row(f"model says {action}", f"{n:,}", f"{n / watch.scored:.0%}")
    return table
