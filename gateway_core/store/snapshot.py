"""Snapshot files: every table of a database as of one journal entry.

Format 2 holds one document per line, table after table, then an index line (each
table's ids, the size of its lines and their CRC-32) and a footer line that checks the
index (`snapshot_chunks`); a table is read when first asked for (`Snapshot.load`), so a
day's payments open without its audit events. Format 1 (one JSON object) is still read.
See docs/STORAGE.md.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

Doc = dict[str, Any] | bytes  # bytes in a packed database
Tables = dict[str, dict[str, Doc]]

SNAPSHOT_FORMAT = 2
_CHUNK = 8 << 20  # snapshot bytes read or written at a time


def pack(doc: Doc) -> bytes:
    """A document as a packed database holds it: its JSON bytes."""
    return doc if type(doc) is bytes else orjson.dumps(doc)


def unpack(doc: Doc) -> dict[str, Any]:
    """A document as a dict (decoded when packed)."""
    if isinstance(doc, bytes):
        loaded: dict[str, Any] = orjson.loads(doc)
        return loaded
    return doc


def snapshot_chunks(seq: int, tables: Tables) -> Iterator[bytes]:
    """A snapshot's bytes, a few MB at a time: one line per document (its JSON), table
    after table; an index line giving each table's document ids in line order, the size
    of its lines and their CRC-32; then a footer line with the format, the entry number
    `n`, the number of documents, where the index starts and a CRC-32 of the index line
    and of those numbers."""
    index: dict[str, dict[str, Any]] = {}
    offset = 0
    for name, docs in tables.items():
        crc = size = 0
        for chunk in _line_chunks(docs.values()):
            crc, size = zlib.crc32(chunk, crc), size + len(chunk)
            yield chunk
        index[name] = {"ids": list(docs), "bytes": size, "crc": crc}
        offset += size
    line = orjson.dumps(index) + b"\n"
    count = sum(len(docs) for docs in tables.values())
    footer = {"format": SNAPSHOT_FORMAT, "n": seq, "docs": count, "index": offset}
    yield line + orjson.dumps({**footer, "crc": _footer_crc(line, footer)}) + b"\n"


def _line_chunks(docs: Iterable[Doc]) -> Iterator[bytes]:
    buf: list[bytes] = []
    size = 0
    for doc in docs:
        buf.append(packed := pack(doc))
        size += len(packed)
        if size >= _CHUNK:
            yield b"\n".join(buf) + b"\n"
            buf, size = [], 0
    if buf:
        yield b"\n".join(buf) + b"\n"


def _footer_crc(index_line: bytes, footer: dict[str, Any]) -> int:
    numbers = b"%d %d %d" % (footer["n"], footer["docs"], footer["index"])
    return zlib.crc32(numbers, zlib.crc32(index_line))


SNAPSHOT_DAMAGE = (KeyError, TypeError, ValueError, IndexError, AttributeError, OSError)


class Snapshot:
    """An open snapshot file: its entry number, and each table read when first asked
    for (`load`), checked against its CRC then. Format 1 (one JSON object) is read whole
    at once; the next compaction writes format 2.

    Reading a table splits its lines in C and zips the index's ids onto them: a Python
    step per document cost twice the whole load. The file stays open until every table
    is read, so a compaction that replaces it meanwhile cannot mix two snapshots.
    Raises one of `SNAPSHOT_DAMAGE` when the file is damaged."""

    def __init__(self, path: Path, keep: Callable[[Doc], Doc] = unpack) -> None:
        self._keep = keep
        self._fd: int | None = os.open(path, os.O_RDONLY)
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    @property
    def _file(self) -> int:
        """The open file's descriptor (read only while some table is unread)."""
        assert self._fd is not None, "the snapshot is closed"
        return self._fd

    def _open(self) -> None:
        size = os.fstat(self._file).st_size
        footer = _footer(os.pread(self._file, 4096, max(0, size - 4096)))
        self._sections: dict[str, tuple[int, int, int, list[str]]] = {}
        self.loaded: Tables = {}
        if footer is None:
            snap = orjson.loads(os.pread(self._file, size, 0))
            self.n = int(snap["n"])
            for name, docs in snap["tables"].items():
                self.loaded[name] = {key: self._keep(doc) for key, doc in docs.items()}
            self.close()
            return
        head, length = footer
        line = os.pread(self._file, size - length - head["index"], head["index"])
        if not line.endswith(b"\n") or _footer_crc(line, head) != head["crc"]:
            raise ValueError("snapshot index does not match its footer")
        self.n = int(head["n"])
        offset = count = 0
        for name, meta in orjson.loads(line).items():
            self._sections[name] = (offset, meta["bytes"], meta["crc"], list(meta["ids"]))
            offset += meta["bytes"]
            count += len(meta["ids"])
        if offset != head["index"] or count != head["docs"]:
            raise ValueError("snapshot index does not match its lines")
        if not self._sections:
            self.close()

    @property
    def pending(self) -> list[str]:
        """Tables not read yet."""
        return list(self._sections)

    def unread(self, name: str) -> bool:
        """Whether table `name` is still to be read."""
        return name in self._sections

    def load(self, name: str) -> dict[str, Doc]:
        """Read one table (its documents by id)."""
        offset, size, crc, ids = self._sections.pop(name)
        lines, got = _read_lines(self._file, offset, size)
        if not self._sections:
            self.close()
        if got != crc:
            raise ValueError(f"snapshot table {name} does not match its CRC")
        return dict(zip(ids, lines if self._keep is pack else map(self._keep, lines), strict=True))

    def last(self, name: str) -> Doc | None:
        """The last document of a table not read yet, read alone from the end of its
        lines (the audit log's newest event at open, without its 300k others)."""
        offset, size, _crc, ids = self._sections[name]
        if not ids:
            return None
        tail = min(size, 4096)
        while True:
            chunk = os.pread(self._file, tail, offset + size - tail)
            start = chunk.rfind(b"\n", 0, len(chunk) - 1) + 1
            if start or tail == size:
                break
            tail = min(size, tail * 16)
        if not chunk.endswith(b"\n"):
            raise ValueError(f"snapshot table {name} does not end with a whole line")
        doc = chunk[start:-1]
        orjson.loads(doc)  # damage is refused here, not later by whoever reads it
        return self._keep(doc)

    def close(self) -> None:
        """Release the file (every table read, or the database closed)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_snapshot(path: Path, keep: Callable[[Doc], Doc] = unpack) -> tuple[int, Tables]:
    """A whole snapshot file at once: its entry number and tables."""
    snap = Snapshot(path, keep)
    tables = snap.loaded
    for name in snap.pending:
        tables[name] = snap.load(name)
    return snap.n, tables


def _footer(tail: bytes) -> tuple[dict[str, Any], int] | None:
    """The footer line of a format-2 snapshot and its length; None when there is none."""
    if not tail.endswith(b"\n"):
        return None
    line = tail[tail.rfind(b"\n", 0, -1) + 1 :]
    try:
        head = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(head, dict) or head.get("format") != SNAPSHOT_FORMAT:
        return None
    return head, len(line)


def _read_lines(fd: int, offset: int, length: int) -> tuple[list[bytes], int]:
    """`length` bytes of a file from `offset` as lines, read in chunks: (lines, CRC-32)."""
    crc = 0
    rest = b""
    lines: list[bytes] = []
    while length > 0:
        chunk = os.pread(fd, min(_CHUNK, length), offset)
        if not chunk:
            raise ValueError("snapshot is shorter than its index says")
        offset, length = offset + len(chunk), length - len(chunk)
        crc = zlib.crc32(chunk, crc)
        parts = chunk.split(b"\n")
        parts[0] = rest + parts[0]  # the line the last chunk ended in
        rest = parts.pop()
        lines += parts
    if rest:
        raise ValueError("snapshot table ends inside a line")
    return lines, crc
