"""The console's dashboard tab: today at a glance, a line per tender (card brands, UPI,
net banking per bank, cash and its rounding), and, while there are any, the payments
still waiting for their payer (UPI, net banking, payment links), with their next status
check."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Sparkline

from gateway_core.dashboard import opening_hours
from gateway_core.presentation import money_text
from pos_app.screens.hosts import DayData
from pos_app.screens.merchant_parts import ConsolePart, clock_time
from pos_app.widgets.line import Line


class DashboardPane(ConsolePart, VerticalScroll):
    """Today at a glance."""

    hours: range = range(9, 22)

    def on_resize(self) -> None:
        self._axis()

    def _axis(self) -> None:
        """Hour labels under the chart, each under the start of its hour's bars."""
        width = self.query_one(Sparkline).content_size.width
        if width <= 0:
            return
        cells = [" "] * width
        for n, hour in enumerate(self.hours):
            col = -(-n * width // len(self.hours))  # where the chart starts the hour
            if col + 2 <= width and cells[max(col - 1, 0)] == " ":
                cells[col : col + 2] = f"{hour:02d}"
        self.query_one("#hour-axis", Line).update("".join(cells))

    def compose(self) -> ComposeResult:
        with Horizontal(id="figures"):
            for name in ("gross", "net", "count", "rate", "average"):
                yield Line("", id=f"fig-{name}", classes="figure")
        notices = Line("", id="notices")
        notices.display = False  # shown while there are any
        yield notices
        yield Line("", id="attempts")
        yield Line("", id="pending-upi")
        yield Line("Sales by hour", id="hour-caption", classes="caption")
        yield Sparkline([], id="by-hour", summary_function=max)
        yield Line("", id="hour-axis")
        with Horizontal(id="splits"):
            yield Line("", id="brand-split", classes="split")
            yield Line("", id="decline-split", classes="split")

    def show(self, data: DayData) -> None:
        s, f = data.stats, data.stats.figures
        cur = f.currency
        figures = {  # the X report's words for the X report's figures
            "gross": ("Gross sales", money_text(f.gross, cur)),
            "net": ("Net sales", money_text(f.net, cur)),
            "count": ("Sales", f"{f.sales:,}"),
            "rate": ("Approval rate", f.rate),
            "average": ("Average sale", money_text(f.average, cur)),
        }
        for name, (label, value) in figures.items():
            self.query_one(f"#fig-{name}", Line).update(
                Text.assemble((label, "dim"), "\n", (value, "bold"))
            )
        notices = self.query_one("#notices", Line)
        notices.display = bool(data.notices)
        notices.update(Text("\n".join(data.notices), style="bold"))
        self.query_one("#attempts", Line).update(f.attempts)
        self._pending(data)
        self.hours = hours = opening_hours(s.by_hour)
        self.query_one(Sparkline).data = [s.by_hour[h] for h in hours]
        best = max(hours, key=lambda h: s.by_hour[h])
        self.query_one("#hour-caption", Line).update(
            f"Sales by hour · busiest {best:02d}:00-{best + 1:02d}:00 "
            f"({money_text(s.by_hour[best], cur)})"
        )
        self._axis()
        brands = Table(
            box=None, expand=True, pad_edge=False, title="By brand", title_justify="left"
        )
        brands.add_column("Brand", no_wrap=True)
        brands.add_column("Sales", justify="right")
        brands.add_column("Amount", justify="right", no_wrap=True)
        brands.add_column("Share", ratio=1, no_wrap=True, overflow="crop")
        for tender, count, amount in s.brands:
            share = max(amount * 12 // f.gross, 1) if amount > 0 and f.gross else 0
            brands.add_row(tender, str(count), money_text(amount, cur), "█" * share)
        if not s.brands:
            brands.add_row("no sales yet", "", "", "")
        declines = Table(
            box=None, expand=True, pad_edge=False, title="Declines", title_justify="left"
        )
        declines.add_column("Code", no_wrap=True)
        declines.add_column("N", justify="right")
        declines.add_column("Reason", ratio=1)
        for code, n, meaning in s.declines:
            declines.add_row(code, str(n), meaning)
        if not s.declines:
            declines.add_row("", "", "none today")
        self.query_one("#brand-split", Line).update(brands)
        self.query_one("#decline-split", Line).update(declines)

    def _pending(self, data: DayData) -> None:
        """The day's payments waiting for their payer (UPI, net banking, payment links):
        when each expires and when the gateway checks it next (hidden when none)."""
        line = self.query_one("#pending-upi", Line)
        waiting = data.waiting
        line.display = bool(waiting)
        if not waiting:
            return
        tz = self.console.office.settings.tz
        table = Table(
            box=None,
            expand=True,
            pad_edge=False,
            title=f"Waiting for the payer ({len(waiting)})",
            title_justify="left",
        )
        for column in ("Time", "Amount", "Payment id", "Checks", "Next check", "Expires"):
            table.add_column(column, no_wrap=True)
        for r in sorted(waiting, key=lambda r: r["created_at"]):
            detail = r.get("upi") or r.get("netbanking") or r.get("link") or {}
            due = detail.get("next_check_at")
            table.add_row(
                clock_time(r["created_at"], tz),
                money_text(r["amount"], r["currency"]),
                r["id"],
                str(detail.get("checks", 0)),
                clock_time(due, tz) if due else "none due",
                clock_time(detail["expires_at"], tz) if detail.get("expires_at") else "--",
            )
        line.update(table)
