"""Where secret keys come from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from gateway_core.keys import KeyVersion

if TYPE_CHECKING:
    pass


# Where secret keys come from: the file keyring now; a KMS-style envelope provider later.


class KeyProvider(Protocol):
    """Versioned secret keys: the current version signs and encrypts what is written
    now; older versions stay readable. `Keyring` (the key file) implements it."""

    @property
    def current(self) -> KeyVersion: ...
    @property
    def versions(self) -> list[KeyVersion]: ...
    def get(self, version: int) -> KeyVersion: ...
    def rotate(self) -> KeyVersion: ...
