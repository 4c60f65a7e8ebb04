"""The QR a UPI sale draws in the terminal decodes, with a real decoder (zxing-cpp), to
the payment's link: the widget's cells rasterized as they are drawn (each cell one
module wide and two tall, each half dark or light by the colour it is drawn in)."""

from __future__ import annotations

import zxingcpp
from PIL import Image
from rich.color import Color
from textual.app import App, ComposeResult
from textual.geometry import Region

from gateway_core.upi_link import PaymentLink
from pos_app.widgets.qr import QrCode

SCALE = 4  # pixels a module
TOP, BOTTOM = "▀█", "▄█"  # the glyphs whose upper / lower half is drawn in the foreground


def _dark(color: Color | None, default: bool) -> bool:
    if color is None:
        return default
    r, g, b = color.get_truecolor()
    return (r * 299 + g * 587 + b * 114) / 1000 < 128


def raster(widget: QrCode, surround: int = 0) -> Image.Image:
    """The widget as drawn: its strips' cells as pixels, on a ground of `surround` (a
    dark terminal by default) four modules wide."""
    width, height = widget.size
    strips = widget.render_lines(Region(0, 0, width, height))
    margin = 4
    image = Image.new("L", ((width + 2 * margin) * SCALE, (height * 2 + 2 * margin) * SCALE))
    image.paste(surround, (0, 0, *image.size))
    for y, strip in enumerate(strips):
        x = 0
        for segment in strip:
            style = segment.style
            ink = _dark(style.color if style else None, True)
            ground = _dark(style.bgcolor if style else None, False)
            for char in segment.text:
                for half, drawn in ((0, TOP), (1, BOTTOM)):
                    dark = ink if char in drawn else ground
                    left, top = (x + margin) * SCALE, (2 * y + half + margin) * SCALE
                    image.paste(0 if dark else 255, (left, top, left + SCALE, top + SCALE))
                x += 1
    return image


def decode(image: Image.Image) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(image)]


class QrApp(App[None]):
    def __init__(self, link: str) -> None:
        super().__init__()
        self.link = link

    def compose(self) -> ComposeResult:
        yield QrCode(self.link, id="qr")


LINK = PaymentLink(
    "demostore@pgbank", "Paygate Demo Store", 25000, "pay_20261128_0000000001"
).link()


async def test_the_drawn_qr_decodes_to_the_link() -> None:
    async with QrApp(LINK).run_test(size=(80, 24)) as pilot:
        widget = pilot.app.query_one(QrCode)
        assert (widget.size.width, widget.size.height) == (43, 22)  # version 6, quiet zone 1
        assert decode(raster(widget)) == [LINK]
        assert decode(raster(widget, surround=255)) == [LINK]


async def test_dark_modules_are_black_on_white_whatever_the_theme() -> None:
    app = QrApp(LINK)
    async with app.run_test(size=(80, 24)) as pilot:
        for theme in ("textual-dark", "textual-light"):
            app.theme = theme
            await pilot.pause()
            widget = app.query_one(QrCode)
            strip = widget.render_lines(Region(0, 0, widget.size.width, 1))[0]
            styles = {(s.style.color.name, s.style.bgcolor.name) for s in strip if s.style}
            assert styles == {("#000000", "#ffffff")}
            assert decode(raster(widget)) == [LINK]
