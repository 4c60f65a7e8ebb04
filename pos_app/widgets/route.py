"""The authorization route, drawn as five boxes lit hop by hop.

Terminal → Gateway → Acquirer → Card network → Issuer. Each stop is `idle`, `active`
(the message is there now), `done` (with the hop's time) or `failed`. Colours come
from the theme through component classes; nothing here names a colour.
"""

from __future__ import annotations

from typing import Literal

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

Stop = Literal["terminal", "gateway", "acquirer", "network", "issuer"]
State = Literal["idle", "active", "done", "failed"]

STOPS: tuple[tuple[Stop, str], ...] = (
    ("terminal", "Terminal"),
    ("gateway", "Gateway"),
    ("acquirer", "Acquirer"),
    ("network", "Card network"),
    ("issuer", "Issuer"),
)
CONNECTOR = "──▶"
MARK = {"idle": " ", "active": "…", "done": "✓", "failed": "✗"}


def format_ms(ms: float) -> str:
    """A hop time for people: "<1 ms", "12 ms", "1.2 s"."""
    if ms < 1:
        return "<1 ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s"


class RouteMap(Widget):
    """Five stops and the hops between them."""

    COMPONENT_CLASSES = {"route--idle", "route--active", "route--done", "route--failed"}

    DEFAULT_CSS = """
    RouteMap { height: 4; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self.states: dict[str, State] = {stop: "idle" for stop, _ in STOPS}
        self.notes: dict[str, str] = {stop: "" for stop, _ in STOPS}

    def reset(self) -> None:
        for stop, _ in STOPS:
            self.states[stop], self.notes[stop] = "idle", ""
        self.refresh()

    def set_stop(self, stop: str, state: State, note: str | None = None) -> None:
        self.states[stop] = state
        if note is not None:
            self.notes[stop] = note
        self.refresh()

    def text_lines(self) -> list[str]:
        """The route as plain lines (for tests and narrow terminals)."""
        return self.render().plain.splitlines()

    def _style(self, stop: str) -> Style:
        return self.get_component_rich_style(f"route--{self.states[stop]}")

    def render(self) -> Text:
        width = self.content_region.width or 80
        full = sum(len(label) + 4 for _, label in STOPS) + len(CONNECTOR) * (len(STOPS) - 1)
        if width < full:
            return self._compact()
        top, mid, bottom, notes = Text(), Text(), Text(), Text()
        for index, (stop, label) in enumerate(STOPS):
            style = self._style(stop)
            inner = len(label) + 2
            top.append("╭" + "─" * inner + "╮", style)
            mid.append("│ ", style)
            mid.append(label, style + Style(bold=self.states[stop] != "idle"))
            mid.append(" │", style)
            bottom.append("╰" + "─" * inner + "╯", style)
            note = self.notes[stop]
            mark = MARK[self.states[stop]]
            shown = f"{mark} {note}".strip() if self.states[stop] != "idle" else ""
            last = index == len(STOPS) - 1
            # a note may run on under the arrow (or the room after the last box)
            slot = inner + 2 + (max(0, width - full) if last else len(CONNECTOR))
            if len(shown) <= inner + 2:
                notes.append(shown.center(inner + 2), style)
                notes.append(" " * (slot - inner - 2))
            else:
                notes.append(shown[:slot].ljust(slot), style)
            if not last:
                link = self._style(STOPS[index + 1][0])
                top.append(" " * len(CONNECTOR))
                mid.append(CONNECTOR, link)
                bottom.append(" " * len(CONNECTOR))
        return Text("\n").join([top, mid, bottom, notes])

    def _compact(self) -> Text:
        line = Text()
        for index, (stop, label) in enumerate(STOPS):
            line.append(f"{MARK[self.states[stop]]}{label}", self._style(stop))
            if self.notes[stop]:
                line.append(f" {self.notes[stop]}", self._style(stop))
            if index < len(STOPS) - 1:
                line.append(" → ")
        return line
