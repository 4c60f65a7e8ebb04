"""Receipts and exports the terminal writes: 0600 files in 0700 folders, whole or not at all."""

from __future__ import annotations

from pathlib import Path

from gateway_core.store.files import make_private_dir, write_atomically


def write_private_text(path: Path, text: str) -> None:
    """A receipt or export, whole or not at all: 0600 in a 0700 folder, whatever the umask."""
    make_private_dir(path.parent)
    write_atomically(path, text.encode(), replace=True)
