"""`paygate keys rotate|list|init` and `paygate audit verify`."""

from __future__ import annotations

import argparse
import sys

from gateway_core.keys import KeyFileError, Keyring
from gateway_core.settings import Settings
from gateway_core.store import DataStore
from paygate_cli.common import open_runtime


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    """Add a key version, then re-encrypt every token under it."""
    with open_runtime(settings, create=False) as rt:
        new = rt.keyring.rotate()
        count = rt.vault.rekey()
        rt.audit.record("cli", "keys.rotate", f"key v{new.version}", reencrypted=count)
    print(f"key version {new.version} is now current; {count} vault tokens re-encrypted")
    return 0


def cmd_keys_init(args: argparse.Namespace, settings: Settings) -> int:
    """Make the key file when there is none. A data dir with data needs --force: what
    the lost key protected (vault cards, audit MACs) stays unreadable under a new one."""
    path = settings.resolved_key_file
    if path.exists():
        raise KeyFileError(f"key file {path} already exists; paygate never replaces a key")
    if DataStore.has_data(settings.data_dir) and not args.force:
        raise KeyFileError(
            f"{settings.data_dir} holds data made under the lost key: restore {path} from "
            "your backup; `paygate keys init --force` makes a new key anyway (the vault's "
            "cards cannot be read and the audit log no longer verifies with it)"
        )
    Keyring.open(path, create=True)
    print(f"key file {path} made; keep a backup of it apart from the data dir")
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print the key versions (never the keys)."""
    with open_runtime(settings, read_only=True) as rt:
        for key in rt.keyring.versions:
            mark = "  (current)" if key is rt.keyring.current else ""
            print(f"v{key.version}  created {key.created}{mark}")
    return 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    """Check the data files and walk the audit chain: exit 0 when both are intact, 1
    naming each missing or damaged file and the first bad seq."""
    with open_runtime(settings, read_only=True) as rt:
        problems = rt.store.check() if rt.store else []
        verdict = rt.audit.verify()
    for problem in problems:
        print(f"paygate: {problem}", file=sys.stderr)
    print(verdict, file=sys.stdout if verdict.ok else sys.stderr)
    return 0 if verdict.ok and not problems else 1
