"""`Line`: a Static that repaints only when its text changes.

Every `Static.update` reflows the whole screen; the terminal updates its notes, totals
and clocks on every key and every tick, mostly with the same text. A `Line` skips
those, so a key costs one repaint, not a dozen.
"""

from __future__ import annotations

from textual.visual import VisualType
from textual.widgets import Static


class Line(Static):
    """Static text that ignores an update to the text it already shows."""

    _shown: str | None = None

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        if isinstance(content, str):
            if content == self._shown:
                return
            self._shown = content
        else:
            self._shown = None
        super().update(content, layout=layout)
