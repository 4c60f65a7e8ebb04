"""The QR a UPI sale draws in the terminal decodes, with a real decoder (zxing-cpp), to
the payment's link: the widget's cells rasterized as they are drawn (each cell one
module wide and two tall, each half dark or light by the colour it is drawn in)."""

from __future__ import annotations

from app_support import decode, raster
from textual.app import App, ComposeResult
from textual.geometry import Region

from gateway_core.upi_link import PaymentLink
from pos_app.widgets.qr import QrCode


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
