"""The Health view (from the merchant console, `h`): this terminal's payment rate over
the last minute, the approval rate per issuer, each hop's p50 and p99 (the gateway's
whole charge, the acquirer, the card network, the issuer, the UPI switch), reversals,
timeouts, the store's syncs and the readiness checks of `/readyz`. Read from the
in-process recorders (`gateway_core.observe`) in a worker every `REFRESH_S` seconds:
the screen never waits."""

from __future__ import annotations

from collections import deque

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll

from gateway_core.observe.health import Health, HopFigures
from pos_app.screens.base import PosScreen, while_shown
from pos_app.screens.hosts import BackOffice
from pos_app.widgets.line import Line

REFRESH_S = 2.0
RATE_WINDOW_S = 60.0  # the payment rate: over the readings of the last minute


def duration(seconds: float | None) -> str:
    """A latency as people read it: µs, ms or s (-- when nothing was measured)."""
    if seconds is None:
        return "--"
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


class HealthScreen(PosScreen):
    """Live figures of this process, refreshed on their own."""

    TITLE_TEXT = "Health"
    BINDINGS = [
        Binding("escape", "back", "Back", id="health.back", tooltip="Back to the console"),
        Binding("f5", "reload", "Refresh", id="health.refresh", tooltip="Read the figures now"),
    ]
    DEFAULT_CSS = """
    #health { height: 1fr; padding: 0 1; }
    #health Line { height: auto; margin-bottom: 1; }
    """

    def __init__(self, office: BackOffice) -> None:
        super().__init__()
        self.office = office
        self.health: Health | None = None
        self.readings: deque[Health] = deque()  # those of the last RATE_WINDOW_S

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="health"):
            yield Line("Reading the figures…", id="health-summary")
            yield Line("", id="health-issuers")
            yield Line("", id="health-hops")
            yield Line("", id="health-checks")

    @while_shown
    def on_mount(self) -> None:
        self.query_one("#health").focus()
        self.action_reload()
        self.set_interval(REFRESH_S, self.action_reload)

    def action_reload(self) -> None:
        self.read()

    @work(exclusive=True, group="health", exit_on_error=False)
    async def read(self) -> None:
        """One reading, in a worker on the app's loop (the bank ping is awaited); the
        rate is since the oldest reading of the last minute."""
        health = await self.office.health(self.readings[0] if self.readings else None)
        self.readings.append(health)
        while (health.at - self.readings[0].at).total_seconds() > RATE_WINDOW_S:
            self.readings.popleft()
        self.show(health)

    @while_shown
    def show(self, health: Health) -> None:
        self.health = health
        rate = "--" if health.per_minute is None else f"{health.per_minute:.1f}"
        self.query_one("#health-summary", Line).update(
            Text.assemble(
                ("Payments decided ", "dim"),
                (f"{health.decided:,}", "bold"),
                ("   per minute ", "dim"),
                (rate, "bold"),
                ("   reversals ", "dim"),
                (f"{health.reversals:,}", "bold"),
                ("   bank timeouts ", "dim"),
                (f"{health.timeouts:,}", "bold"),
            )
        )
        self.query_one("#health-issuers", Line).update(issuer_table(health))
        self.query_one("#health-hops", Line).update(hop_table(health))
        self.query_one("#health-checks", Line).update(check_table(health))

    def action_back(self) -> None:
        self.dismiss()


def _table(title: str) -> Table:
    return Table(box=None, expand=True, pad_edge=False, title=title, title_justify="left")


def issuer_table(health: Health) -> Table:
    table = _table("Approval rate per issuer")
    for column in ("Issuer", "Approved", "Declined", "Rate"):
        table.add_column(column, justify="left" if column == "Issuer" else "right")
    for issuer in health.issuers:
        rate = "--" if issuer.rate is None else f"{issuer.rate:.0%}"
        name = "(none named)" if issuer.issuer == "none" else issuer.issuer
        table.add_row(name, f"{issuer.approved:,}", f"{issuer.declined:,}", rate)
    if not health.issuers:
        table.add_row("no payment decided yet", "", "", "")
    return table


def hop_table(health: Health) -> Table:
    table = _table("Latency per hop")
    for column in ("Hop", "Count", "p50", "p99"):
        table.add_column(column, justify="left" if column == "Hop" else "right")
    for hop in [*health.hops, health.syncs]:
        table.add_row(*_hop_row(hop))
    return table


def _hop_row(hop: HopFigures) -> tuple[str, str, str, str]:
    name = {"upi_switch": "UPI switch", "fdatasync": "store fdatasync"}.get(hop.hop, hop.hop)
    return name, f"{hop.count:,}", duration(hop.p50), duration(hop.p99)


def check_table(health: Health) -> Table:
    table = _table("Ready (/readyz)")
    table.add_column("Check", no_wrap=True)
    table.add_column("Answer", ratio=1)
    for name, answer in health.checks.items():
        table.add_row(name, Text(answer, style="green" if answer == "ok" else "bold red"))
    return table
