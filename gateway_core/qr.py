"""QR codes of UPI links (segno): as half-block text for a terminal, as PNG and as SVG.

Error correction L (the link of a terminal sale fits version 6, 41 modules), never
boosted, so that the code stays small enough for an 80×24 terminal: with a one-module
quiet zone it is 22 text rows of two modules each.
"""

from __future__ import annotations

import io

import segno

# Upper half, lower half, both, neither: the glyph for two stacked modules (dark = True).
_GLYPHS = {(True, False): "▀", (False, True): "▄", (True, True): "█", (False, False): " "}


def qr_code(link: str) -> segno.QRCode:
    """The QR code of `link` (error correction L, not boosted)."""
    return segno.make_qr(link, error="l", boost_error=False)


def qr_modules(link: str, border: int = 2) -> list[list[bool]]:
    """The code's modules, dark = True, with a light quiet zone of `border` modules."""
    return [[bool(m) for m in row] for row in qr_code(link).matrix_iter(border=border)]


def qr_text(link: str, border: int = 2, *, dark_glyphs: bool = True) -> list[str]:
    """The code as half-block lines, two module rows a line. `dark_glyphs`: the glyphs
    draw the dark modules (for dark text on a light background, as a widget styles it);
    False draws the light ones (a plain terminal's light text on a dark background)."""
    rows = qr_modules(link, border)
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    lines = []
    for top, bottom in zip(rows[::2], rows[1::2], strict=True):
        pairs = zip(top, bottom, strict=True)
        lines.append("".join(_GLYPHS[(t, b) if dark_glyphs else (not t, not b)] for t, b in pairs))
    return lines


def qr_png(link: str, scale: int = 8, border: int = 4) -> bytes:
    """The code as a PNG (black on white, a four-module quiet zone by default)."""
    out = io.BytesIO()
    qr_code(link).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_svg(link: str, scale: int = 8, border: int = 4) -> bytes:
    """The code as an SVG document."""
    out = io.BytesIO()
    qr_code(link).save(out, kind="svg", scale=scale, border=border, xmldecl=True)
    return out.getvalue()
