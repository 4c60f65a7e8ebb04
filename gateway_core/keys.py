"""The key file: versioned secret keys, kept apart from the data files.

Each version holds three independent 256-bit keys: `enc` (AES-GCM for PANs in the
vault), `fp` (HMAC-SHA256 card fingerprints) and `audit` (HMAC-SHA256 audit chain).
The file is created with mode 0600 and refused when group or others can read it.
Versions are only ever added (`rotate`), never removed, so everything written under
an old version can still be read and checked.

A key file is made only with a new data dir (or by `paygate keys init`): a missing,
damaged or unsafe one is an error naming the file, never a new key, since a new key
can read no card of the vault and check no event of the audit log.
"""

from __future__ import annotations

import base64
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from gateway_core.errors import SystemFailure
from gateway_core.store.files import make_private_dir, write_atomically

KEY_FILE_FORMAT = 1


class KeyFileError(SystemFailure):
    """The key file is missing, unsafe or damaged."""


@dataclass(frozen=True, repr=False)
class KeyVersion:
    """One generation of keys. repr never shows key material."""

    version: int
    created: str
    enc: bytes
    fp: bytes
    audit: bytes

    def __repr__(self) -> str:
        return f"KeyVersion(version={self.version}, created={self.created!r})"

    @classmethod
    def generate(cls, version: int) -> KeyVersion:
        """Fresh random keys for `version`."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        return cls(version, now, *(secrets.token_bytes(32) for _ in range(3)))

    def to_json(self) -> dict[str, object]:
        b64 = base64.b64encode
        return {
            "version": self.version,
            "created": self.created,
            **{name: b64(getattr(self, name)).decode() for name in ("enc", "fp", "audit")},
        }


class Keyring:
    """All key versions of one installation; `current` signs and encrypts new data."""

    def __init__(self, path: Path, versions: list[KeyVersion]) -> None:
        self.path = Path(path)
        self._versions = {v.version: v for v in versions}

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> Keyring:
        """Load the key file; when `create` and there is none, make one with a fresh
        version (never over one that appeared meanwhile: that one is loaded)."""
        path = Path(path)
        if not path.exists():
            if not create:
                raise KeyFileError(
                    f"key file {path} does not exist: {_RESTORE}; paygate makes a key only "
                    "for a new data dir (`paygate keys init` makes one, but a new key cannot "
                    "read the vault's cards nor verify the audit log)"
                )
            ring = cls(path, [KeyVersion.generate(1)])
            if ring._save(replace=False):
                return ring
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise KeyFileError(
                    f"key file {path} is open to other users (mode {mode:04o}); "
                    f"run: chmod 600 {path}"
                )
            data = orjson.loads(path.read_bytes())
            versions = [
                KeyVersion(
                    int(item["version"]),
                    str(item["created"]),
                    *(
                        base64.b64decode(item[name], validate=True)
                        for name in ("enc", "fp", "audit")
                    ),
                )
                for item in data["keys"]
            ]
        except OSError as exc:
            raise KeyFileError(f"key file {path} cannot be read ({exc.strerror})") from exc
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise KeyFileError(f"key file {path} is damaged: {_RESTORE}") from exc
        lengths_ok = all(len(k) == 32 for v in versions for k in (v.enc, v.fp, v.audit))
        if not versions or not lengths_ok or len({v.version for v in versions}) < len(versions):
            raise KeyFileError(f"key file {path} holds no usable key: {_RESTORE}")
        return cls(path, versions)

    @property
    def current(self) -> KeyVersion:
        """The newest version: used for everything written from now on."""
        return self._versions[max(self._versions)]

    @property
    def versions(self) -> list[KeyVersion]:
        """Every version, oldest first."""
        return [self._versions[v] for v in sorted(self._versions)]

    def get(self, version: int) -> KeyVersion:
        """One version by number; a missing version means the wrong key file."""
        try:
            return self._versions[version]
        except KeyError:
            raise KeyFileError(
                f"key version {version} is not in {self.path}; is this the right key file?"
            ) from None

    def rotate(self) -> KeyVersion:
        """Add a new current version and save the file durably before returning it."""
        new = KeyVersion.generate(self.current.version + 1)
        self._versions[new.version] = new
        try:
            self._save()
        except OSError:
            del self._versions[new.version]
            raise
        return new

    def _save(self, *, replace: bool = True) -> bool:
        """Write the file atomically with mode 0600 in a 0700 directory. With
        `replace=False` an existing file is kept: False then, and nothing written."""
        make_private_dir(self.path.parent)
        payload = orjson.dumps(
            {"format": KEY_FILE_FORMAT, "keys": [v.to_json() for v in self.versions]},
            option=orjson.OPT_INDENT_2,
        )
        try:
            write_atomically(self.path, payload, replace=replace)
        except FileExistsError:
            return False
        return True


_RESTORE = "restore it from your backup of the key file"
