"""Files the store, the keys and the exports make: private modes whatever the umask,
durable names, and writes that land whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (created, renamed files) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_private_dir(path: Path) -> None:
    """Create a directory and its missing parents with mode 0700 whatever the umask
    (an existing one is left as it is), making each new entry durable."""
    path = Path(path)
    missing = []
    while not path.is_dir():
        missing.append(path)
        path = path.parent
    for new in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(new, 0o700)
            os.chmod(new, 0o700)
        fsync_dir(new.parent)


def write_atomically(path: Path, data: bytes, *, replace: bool = False) -> None:
    """Write a file whole or not at all, mode 0600: a temp file beside it, fsynced, then
    named `path` and the directory fsynced. Without `replace` an existing file is never
    overwritten (`FileExistsError`), not even one made meanwhile."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    fsync_dir(path.parent)
