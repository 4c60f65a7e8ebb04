"""`PgRecords`: every repository of the gateway on one PostgreSQL database, for one
merchant (the owner of the rows: the settings' merchant_id), with units of work."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from datetime import date
from functools import cached_property

from gateway_core.fees import FeeSchedule
from gateway_core.payments import payment_day
from gateway_core.pgstore.db import Database, redacted
from gateway_core.pgstore.repos import (
    Days,
    PgAuditRepository,
    PgClosingRepository,
    PgPaymentRepository,
    PgRefundRepository,
    PgTokenRepository,
)
from gateway_core.pgstore.schema import check as check_schema
from gateway_core.pgstore.schema import upgrade as upgrade_schema
from gateway_core.pgstore.state import (
    OWNER_LOCK,
    PgApiKeyRepository,
    PgFailedAuthRepository,
    PgIdempotencyRepository,
    PgOpenPaymentRepository,
    PgRiskRepository,
    PgUserRepository,
)
from gateway_core.pgstore.tallies import PgTallyRepository
from gateway_core.pgstore.webhooks import PgWebhookRepository
from gateway_core.pgstore.work import PgBillRepository, PgShiftRepository
from gateway_core.ports import Record
from gateway_core.settlement.running import Tallying


class PgRecords:
    """The `Records` of one merchant on PostgreSQL.

    `unit(*days)` is one transaction: every repository call inside uses its connection
    (found through a context variable), all or nothing, durable at COMMIT
    (synchronous_commit on), so `sync()` and `synced()` have nothing left to wait for.
    Outside a unit each call is a transaction of its own. The schema is brought up to
    date at open (`schema.upgrade`) unless `read_only`; a schema older (read-only) or
    newer than this paygate's is refused.
    """

    def __init__(
        self,
        url: str,
        merchant: str,
        *,
        read_only: bool = False,
        pool_size: int = 8,
        fees: FeeSchedule | None = None,
    ) -> None:
        self.db = Database(url, read_only=read_only, size=pool_size)
        self.owner = secrets.token_hex(8)  # this process, as the owner of open payments
        try:
            if not read_only:
                upgrade_schema(self.db)
            check_schema(self.db)
            self._alive = None if read_only else self.db.hold_lock(OWNER_LOCK, self.owner)
        except BaseException:
            self.db.close()
            raise
        self.merchant = merchant
        self._days = Days(self.db, merchant)
        self._tallying = None if fees is None else Tallying(self.tallies, fees, self._payment)
        self._where = redacted(url)

    @cached_property
    def payments(self) -> PgPaymentRepository:
        saved = None if self._tallying is None else self._tallying.payment_saved
        return PgPaymentRepository(self.db, self.merchant, self._days, saved=saved)

    @cached_property
    def refunds(self) -> PgRefundRepository:
        added = None if self._tallying is None else self._tallying.refund_added
        return PgRefundRepository(self.db, self.merchant, self._days, added=added)

    @cached_property
    def tallies(self) -> PgTallyRepository:
        return PgTallyRepository(self.db, self.merchant, self._days)

    def _payment(self, payment_id: str) -> Record | None:
        day = payment_day(payment_id)
        return None if day is None else self.payments.get(day, payment_id)

    @cached_property
    def audit(self) -> PgAuditRepository:
        return PgAuditRepository(self.db, self.merchant, self._days, where=self._where)

    @cached_property
    def tokens(self) -> PgTokenRepository:
        return PgTokenRepository(self.db, self.merchant, self._days)

    @cached_property
    def users(self) -> PgUserRepository:
        return PgUserRepository(self.db, self.merchant, self._days)

    @cached_property
    def api_keys(self) -> PgApiKeyRepository:
        return PgApiKeyRepository(self.db, self.merchant, self._days)

    @cached_property
    def risk(self) -> PgRiskRepository:
        return PgRiskRepository(self.db, self.merchant, self._days)

    @cached_property
    def idempotency(self) -> PgIdempotencyRepository:
        return PgIdempotencyRepository(self.db, self.merchant, self._days)

    @cached_property
    def open_payments(self) -> PgOpenPaymentRepository:
        return PgOpenPaymentRepository(self.db, self.merchant, self._days, self.owner)

    @cached_property
    def shifts(self) -> PgShiftRepository:
        return PgShiftRepository(self.db, self.merchant, self._days)

    @cached_property
    def bills(self) -> PgBillRepository:
        return PgBillRepository(self.db, self.merchant, self._days)

    @cached_property
    def failed_auth(self) -> PgFailedAuthRepository:
        return PgFailedAuthRepository(self.db, self.merchant, self._days)

    @cached_property
    def webhooks(self) -> PgWebhookRepository:
        return PgWebhookRepository(self.db, self.merchant, self._days)

    @property
    def read_only(self) -> bool:
        return self.db.read_only

    def closings(self, merchant_id: str | None = None) -> PgClosingRepository:
        """A merchant's Z reports (None: the home merchant's)."""
        return PgClosingRepository(self.db, self.merchant, self._days, merchant_id or self.merchant)

    def days(self) -> list[date]:
        """The business days that hold records, oldest first."""
        return self._days.all()

    @contextlib.contextmanager
    def unit(self, *days: date, durable: bool = True) -> Iterator[None]:
        """Every write of the block as one transaction (a savepoint inside another
        unit). Always durable at COMMIT: `durable=False` changes nothing here."""
        with self.db.unit():
            yield

    @contextlib.contextmanager
    def reading(self, day: date | None = None) -> Iterator[None]:
        """The block's reads in one transaction."""
        with self.db.unit():
            yield

    def sync(self) -> None:
        """Every unit is durable when it returns: nothing to wait for."""

    async def synced(self) -> None:
        """Every unit is durable when it returns: nothing to wait for."""

    def close(self) -> None:
        if "webhooks" in self.__dict__:
            self.webhooks.close()  # another process may deliver now
        if self._alive is not None:
            self._alive.close()  # the owner's lock goes with it: its payments are free
        self.db.close()

    def __enter__(self) -> PgRecords:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
