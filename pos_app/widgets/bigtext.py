"""Large type for the outcome (APPROVED, DECLINED, ...): a 3×3 box-drawing font.

Textual's `Digits` covers numbers and a few letters; this covers the words the result
screen needs. Unknown characters fall back to the plain character on the middle row.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

_FONT: dict[str, tuple[str, str, str]] = {
    "A": ("╭─╮", "├─┤", "╵ ╵"),
    "B": ("┌─╮", "├─┤", "└─╯"),
    "C": ("╭─╴", "│  ", "╰─╴"),
    "D": ("┌─╮", "│ │", "└─╯"),
    "E": ("┌─╴", "├─ ", "└─╴"),
    "F": ("┌─╴", "├─ ", "╵  "),
    "G": ("╭─╴", "│╶┐", "╰─╯"),
    "H": ("╷ ╷", "├─┤", "╵ ╵"),
    "I": ("╶┬╴", " │ ", "╶┴╴"),
    "K": ("╷ ╱", "├┤ ", "╵ ╲"),
    "L": ("╷  ", "│  ", "└─╴"),
    "M": ("┌┬╮", "│││", "╵╵╵"),
    "N": ("┌╮╷", "│││", "╵╰┘"),
    "O": ("╭─╮", "│ │", "╰─╯"),
    "P": ("┌─╮", "├─╯", "╵  "),
    "R": ("┌─╮", "├┬╯", "╵╰╴"),
    "S": ("╭─╴", "╰─╮", "╶─╯"),
    "T": ("╶┬╴", " │ ", " ╵ "),
    "U": ("╷ ╷", "│ │", "╰─╯"),
    "V": ("╷ ╷", "╲ ╱", " ╵ "),
    "W": ("╷ ╷", "│││", "╰┴╯"),
    "Y": ("╷ ╷", "╰┬╯", " ╵ "),
    "Z": ("╶─┐", " ╱ ", "└─╴"),
    " ": ("  ", "  ", "  "),
}


def render_big(word: str) -> list[str]:
    """Three lines of large type for `word` (letters joined by one space)."""
    rows: list[list[str]] = [[], [], []]
    for ch in word.upper():
        glyph = _FONT.get(ch, (" ", ch, " "))
        for row, part in zip(rows, glyph, strict=True):
            row.append(part)
    return [" ".join(row).rstrip() for row in rows]


def big_width(word: str) -> int:
    """How many columns `render_big(word)` takes."""
    return max((len(line) for line in render_big(word)), default=0)


class BigText(Widget):
    """A word in large type; falls back to plain bold text when it does not fit."""

    DEFAULT_CSS = """
    BigText { height: 3; width: 1fr; }
    """

    def __init__(self, word: str = "", *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self._word = word

    @property
    def word(self) -> str:
        return self._word

    def update(self, word: str) -> None:
        self._word = word
        self.refresh()

    def render(self) -> Text:
        width = self.content_region.width or self.size.width
        if big_width(self._word) <= width:
            return Text("\n".join(render_big(self._word)), style="bold")
        return Text(f"\n{self._word}", style="bold")
