"""Find card data where it must not be: full card numbers and CVV-looking fields.

`scan(path)` walks a file or folder and reports every Luhn-valid 13-19 digit
sequence (bare, or with single spaces or dashes between digit groups) and every
field that looks like it holds a CVV (`"cvv": "123"`, `CVV=123`, `cvc: 1234`).
`paygate pci-scan PATH` prints the findings (masked) and exits 1 when there are any.
`files_with_card_numbers` looks for known numbers in every usual spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from gateway_core.cards import group_digits, luhn_valid, mask_pan

# Digit runs standing alone: not inside a longer word such as a hex MAC or a token id.
_RUN = re.compile(rb"(?<![0-9A-Za-z_])[0-9](?:[ -]?[0-9]){12,18}(?![0-9A-Za-z_])")
_CVV = re.compile(
    rb"""(?ix)["']?\b(?:cvv2?|cvc2?|cid|security[_ ]?code)\b["']?\s*[:=]\s*["']?([0-9]{3,4})\b"""
)
MAX_FILE_BYTES = 64 * 1024 * 1024


class Finding(NamedTuple):
    """One piece of card data found: where, what kind, and a masked excerpt."""

    path: Path
    offset: int
    kind: str  # "pan" or "cvv"
    excerpt: str

    def __str__(self) -> str:
        return f"{self.path}:{self.offset}: {self.kind} {self.excerpt}"


def _files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
    elif root.is_dir():
        yield from (p for p in sorted(root.rglob("*")) if p.is_file())


def scan_bytes(data: bytes, path: Path) -> Iterator[Finding]:
    """Card numbers and CVV fields in one blob."""
    for match in _RUN.finditer(data):
        digits = re.sub(rb"[ -]", b"", match.group()).decode()
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            yield Finding(path, match.start(), "pan", mask_pan(digits))
    for match in _CVV.finditer(data):
        yield Finding(path, match.start(), "cvv", "CVV field with a value (***)")


def scan(root: Path) -> list[Finding]:
    """Everything found under `root` (a file or a folder)."""
    findings: list[Finding] = []
    for path in _files(root):
        if path.stat().st_size <= MAX_FILE_BYTES:
            findings.extend(scan_bytes(path.read_bytes(), path))
    return findings


def pan_spellings(pan: str) -> list[bytes]:
    """A card number as digits, and with spaces or dashes in groups of four, in the
    brand's own grouping (Amex 4-6-5) and as keyed."""
    digits = pan.replace(" ", "").replace("-", "")
    fours = " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))
    grouped = sorted({fours, group_digits(digits), pan.replace("-", " ")})
    return [digits.encode()] + [s.encode() for g in grouped for s in (g, g.replace(" ", "-"))]


def files_with_card_numbers(root: Path, pans: Iterable[str]) -> list[Path]:
    """Every file under `root` holding any of these numbers in any usual spelling."""
    needles = [s for pan in pans for s in pan_spellings(pan)]
    return [path for path in _files(root) if any(n in path.read_bytes() for n in needles)]
