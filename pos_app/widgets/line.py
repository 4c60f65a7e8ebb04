"""`Line`: a Static that repaints only when its text changes, and only itself.

Every `Static.update` reflows the whole screen; the terminal updates its notes, totals
and clocks on every key and every tick, mostly with the same text. A `Line` skips
those, and when its size is fixed in the CSS (a height in cells, a width that does not
follow the text) it repaints without a reflow: a key costs one repaint, not a layout.
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
        if layout and self.is_mounted and self._fixed_size():
            layout = False
        super().update(content, layout=layout)

    def _fixed_size(self) -> bool:
        height, width = self.styles.height, self.styles.width
        return height is not None and height.is_cells and width is not None and not width.is_auto
