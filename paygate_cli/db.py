"""`paygate db upgrade|import|export`: the PostgreSQL database of `--database-url`
(PAYGATE_DATABASE_URL).

`upgrade` applies the schema's migrations not applied yet (they are also applied when
paygate first uses a database). `import --from DATA_DIR` copies the records of an
embedded data dir (every day, tokens, users, API keys, risk state, shifts, bills, Z
reports, the audit chain as it is) into the database, for the settings' merchant, as
one transaction; `export --to DATA_DIR` copies them back into a new data dir. The key
file stays a file: the imported records need the same one (`--data-dir`, `key_file`);
an export into a data dir without one gets a copy of it, so it opens as it is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway_core.errors import InputError
from gateway_core.settings import Settings
from gateway_core.store import DataStore
from gateway_core.store.files import make_private_dir, write_atomically


def _records(settings: Settings):  # -> PgRecords (psycopg is imported when a command runs)
    if not settings.database_url:
        raise InputError("no database: give --database-url or set PAYGATE_DATABASE_URL")
    from gateway_core.pgstore import PgRecords

    return PgRecords(settings.database_url, settings.merchant_id)


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Bring the schema up to date."""
    from gateway_core.pgstore import schema

    with _records(settings) as records:  # opening applies what is missing
        version = schema.current(records.db)
    print(f"database schema at version {version}")
    return 0


def cmd_db_import(args: argparse.Namespace, settings: Settings) -> int:
    """Copy a data dir's records into the database (which must hold none of the
    merchant's yet). The data dir is opened as its writer: nobody writes meanwhile."""
    from gateway_core.pgstore.transfer import TransferError, import_store

    source: Path = args.source
    if not DataStore.has_data(source):
        raise InputError(f"{source} holds no paygate data")
    with _records(settings) as records, DataStore(source, create=False) as store:
        try:
            moved = import_store(store, records)
        except TransferError as e:
            raise InputError(str(e)) from None
    print(f"imported from {source} for merchant {settings.merchant_id}: {moved}")
    return 0


def cmd_db_export(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the database's records into a new data dir (with a copy of the key file
    when it has none)."""
    from gateway_core.pgstore.transfer import TransferError, export_store

    target: Path = args.target
    if DataStore.has_data(target):
        raise InputError(f"{target} already holds paygate data; export into a new data dir")
    with _records(settings) as records:
        key = target / "keys" / "keyring.json"
        if not key.exists() and settings.resolved_key_file.is_file():  # the key before data
            make_private_dir(key.parent)
            write_atomically(key, settings.resolved_key_file.read_bytes())
        with DataStore(target) as store:
            try:
                moved = export_store(records, store)
            except TransferError as e:
                raise InputError(str(e)) from None
    print(f"exported merchant {settings.merchant_id} to {target}: {moved}")
    return 0


def add_db_commands(sub, common: argparse.ArgumentParser) -> None:
    db = sub.add_parser("db", help="the PostgreSQL database (--database-url)").add_subparsers(
        metavar="ACTION", required=True
    )
    db.add_parser("upgrade", parents=[common], help="apply the schema's migrations").set_defaults(
        handler=cmd_db_upgrade
    )
    imported = db.add_parser("import", parents=[common], help="copy a data dir into the database")
    imported.add_argument("--from", dest="source", type=Path, required=True, metavar="DATA_DIR")
    imported.set_defaults(handler=cmd_db_import)
    exported = db.add_parser("export", parents=[common], help="copy the database into a data dir")
    exported.add_argument("--to", dest="target", type=Path, required=True, metavar="DATA_DIR")
    exported.set_defaults(handler=cmd_db_export)
