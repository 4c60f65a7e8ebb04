"""The PostgreSQL backend: `PgRecords`, every repository of `gateway_core.ports` on one
database (psycopg 3 with a connection pool), selected by `database_url`. The schema is
in versioned SQL migrations (`migrations/`, applied by `schema.upgrade`)."""

from gateway_core.pgstore.db import DatabaseUnavailable, RecordConflict, check_url
from gateway_core.pgstore.records import PgRecords

__all__ = ["DatabaseUnavailable", "PgRecords", "RecordConflict", "check_url"]
