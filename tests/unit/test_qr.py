"""The QR of a UPI link decodes, with a real decoder, to the link: from the PNG, from the
SVG's module grid, and from the half-block text a terminal shows."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from gateway_core.qr import qr_modules, qr_png, qr_svg, qr_text
from gateway_core.upi_link import PaymentLink

SALE = PaymentLink(
    "demostore@pgbank", "Paygate Demo Store", 250_00, "pay_20261206_0123456789"
).link()


def decoded(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image)]


def raster(lines: list[str], *, dark_glyphs: bool = True, px: int = 4) -> Image.Image:
    """Half-block lines as a screen shows them: a cell is one module wide, two tall."""
    image = Image.new("L", (len(lines[0]) * px, len(lines) * 2 * px), 255)
    for y, line in enumerate(lines):
        for x, glyph in enumerate(line):
            top, bottom = glyph in "▀█", glyph in "▄█"
            if not dark_glyphs:
                top, bottom = not top, not bottom
            for half, dark in ((0, top), (1, bottom)):
                if dark:
                    box = (x * px, (2 * y + half) * px, (x + 1) * px, (2 * y + half + 1) * px)
                    image.paste(0, box)
    return image


def test_the_png_decodes_to_the_link() -> None:
    assert decoded(Image.open(io.BytesIO(qr_png(SALE)))) == [SALE]


def test_the_svg_is_an_svg_of_the_same_code() -> None:
    svg = qr_svg(SALE).decode()
    assert svg.startswith("<?xml") and "<svg" in svg


def test_a_terminal_sale_fits_80_by_24_beside_its_details() -> None:
    lines = qr_text(SALE, border=1)
    assert (len(lines), len(lines[0])) == (22, 43)  # version 6: 41 modules + 2
    assert decoded(raster(lines)) == [SALE]


def test_light_glyphs_on_a_dark_terminal_decode_too() -> None:
    lines = qr_text(SALE, border=2, dark_glyphs=False)
    assert decoded(raster(lines, dark_glyphs=False)) == [SALE]


def test_the_text_is_the_modules_two_rows_a_line() -> None:
    modules = qr_modules(SALE, border=1)
    lines = qr_text(SALE, border=1)
    assert lines[0][0] == ("█" if modules[0][0] and modules[1][0] else " ")
    assert all(len(line) == len(modules[0]) for line in lines)


@settings(max_examples=25, deadline=None)
@given(
    amount=st.integers(1, 1_00_000_00),
    reference=st.from_regex(r"[A-Za-z0-9._-]{1,35}", fullmatch=True),
    note=st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=50),
)
def test_any_valid_link_round_trips_through_the_terminal_rendering(
    amount: int, reference: str, note: str
) -> None:
    link = PaymentLink("demostore@pgbank", "Paygate Demo Store", amount, reference, note).link()
    assert decoded(raster(qr_text(link, border=2))) == [link]


@pytest.mark.parametrize("border", [1, 2, 4])
def test_the_quiet_zone_is_light(border: int) -> None:
    modules = qr_modules(SALE, border=border)
    assert not any(modules[0]) and not any(row[0] for row in modules)
