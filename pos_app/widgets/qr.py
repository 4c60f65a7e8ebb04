"""`QrCode`: a UPI link's QR code drawn in half blocks, dark modules on a light ground.

Each cell is one module wide and two tall (`gateway_core.qr.qr_text`), with a quiet zone
of one module: a terminal sale's link (version 6) is 22 rows × 43 columns. The colours
are the code's own, black on white whatever the theme: a phone's camera reads dark
modules on light, and a theme's dark background would invert it.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from gateway_core.qr import qr_text

QUIET_ZONE = 1  # modules of light around the code
INK = Style(color="#000000", bgcolor="#ffffff")


class QrCode(Static):
    """The QR code of a link (nothing drawn before `show`)."""

    DEFAULT_CSS = """
    QrCode { width: auto; height: auto; }
    """

    def __init__(self, link: str = "", **kwargs) -> None:
        super().__init__("", **kwargs)
        self.link = ""
        self.lines: list[str] = []
        if link:
            self.show(link)

    def show(self, link: str) -> None:
        """Draw the code of `link` (the same link again: nothing to do)."""
        if link == self.link:
            return
        self.link = link
        self.lines = qr_text(link, border=QUIET_ZONE) if link else []
        self.update(Text("\n".join(self.lines), style=INK, no_wrap=True, overflow="crop"))
