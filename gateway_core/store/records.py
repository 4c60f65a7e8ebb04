"""`TinyRecords`: every repository of a data dir's `DataStore` (`ports.Records`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from functools import cached_property

from gateway_core.fees import FeeSchedule
from gateway_core.payments import payment_day
from gateway_core.ports import Record
from gateway_core.settlement.running import Tallying
from gateway_core.store.auth_failures import TinyFailedAuthRepository
from gateway_core.store.bills import TinyBillRepository
from gateway_core.store.database import DataStore
from gateway_core.store.journal import collector_paused
from gateway_core.store.repos import (
    TinyAuditRepository,
    TinyClosingRepository,
    TinyPaymentRepository,
    TinyRefundRepository,
    TinyTokenRepository,
)
from gateway_core.store.shifts import TinyShiftRepository
from gateway_core.store.state import (
    TinyApiKeyRepository,
    TinyIdempotencyRepository,
    TinyOpenPaymentRepository,
    TinyRiskRepository,
    TinyUserRepository,
)
from gateway_core.store.tallies import TinyTallyRepository
from gateway_core.store.webhooks import TinyWebhookRepository


class TinyRecords:
    """The repositories of one data dir, each made when first used; `home` is the
    settings' merchant (whose records are untagged: see `documents.tagged`). With `fees`
    (the settings' schedule), each payment saved and refund added updates the day's
    running totals in its unit of work (`settlement.running.Tallying`)."""

    def __init__(
        self, store: DataStore, *, home: str | None = None, fees: FeeSchedule | None = None
    ) -> None:
        self.store = store
        self.home = home
        self._tallying = None if fees is None else Tallying(self.tallies, fees, self._payment)
        self._closings: dict[str | None, TinyClosingRepository] = {}

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    @cached_property
    def payments(self) -> TinyPaymentRepository:
        saved = None if self._tallying is None else self._tallying.payment_saved
        return TinyPaymentRepository(self.store, saved=saved)

    @cached_property
    def refunds(self) -> TinyRefundRepository:
        added = None if self._tallying is None else self._tallying.refund_added
        return TinyRefundRepository(self.store, added=added)

    @cached_property
    def tallies(self) -> TinyTallyRepository:
        return TinyTallyRepository(self.store)

    def _payment(self, payment_id: str) -> Record | None:
        day = payment_day(payment_id)
        return None if day is None else self.payments.get(day, payment_id)

    @cached_property
    def audit(self) -> TinyAuditRepository:
        return TinyAuditRepository(self.store)

    @cached_property
    def tokens(self) -> TinyTokenRepository:
        return TinyTokenRepository(self.store)

    @cached_property
    def users(self) -> TinyUserRepository:
        return TinyUserRepository(self.store, home=self.home)

    @cached_property
    def api_keys(self) -> TinyApiKeyRepository:
        return TinyApiKeyRepository(self.store)

    @cached_property
    def risk(self) -> TinyRiskRepository:
        return TinyRiskRepository(self.store, home=self.home)

    @cached_property
    def idempotency(self) -> TinyIdempotencyRepository:
        return TinyIdempotencyRepository(self.store)

    @cached_property
    def open_payments(self) -> TinyOpenPaymentRepository:
        return TinyOpenPaymentRepository(self.store)

    @cached_property
    def shifts(self) -> TinyShiftRepository:
        return TinyShiftRepository(self.store)

    @cached_property
    def bills(self) -> TinyBillRepository:
        return TinyBillRepository(self.store)

    @cached_property
    def failed_auth(self) -> TinyFailedAuthRepository:
        return TinyFailedAuthRepository(self.store)

    @cached_property
    def webhooks(self) -> TinyWebhookRepository:
        return TinyWebhookRepository(self.store)

    def closings(self, merchant_id: str | None = None) -> TinyClosingRepository:
        """A merchant's Z reports (the home merchant's by default)."""
        key = None if merchant_id == self.home else merchant_id
        if key not in self._closings:
            self._closings[key] = TinyClosingRepository(self.store, key, home=self.home)
        return self._closings[key]

    def days(self) -> list[date]:
        return self.store.days()

    @contextlib.contextmanager
    def unit(self, *days: date, durable: bool = True) -> Iterator[None]:
        """The block's writes as one entry of the data dir's write-ahead log
        (`DataStore.unit`: the main database and `days` joined at once, any other day
        when first written). When it raises, nothing of it is stored and the in-memory
        indexes are rebuilt when next used."""
        try:
            with self.store.unit(*days, durable=durable):
                yield
        except BaseException:
            if "payments" in self.__dict__:
                self.payments.forget_indexes()
            if "bills" in self.__dict__:
                self.bills.forget_indexes()
            if "webhooks" in self.__dict__:
                self.webhooks.forget_indexes()
            raise

    @contextlib.contextmanager
    def reading(self, day: date | None = None) -> Iterator[None]:
        """Reads under the database's lock (the day's, else the main one's); a day with
        no data is not opened."""
        db = self.store.main if day is None else self.store.existing_day(day)
        if db is None:
            yield
            return
        with db.journal.lock, collector_paused():  # many new dicts: see documents()
            yield

    def sync(self) -> None:
        """Block until every entry written so far is durable (group commit)."""
        self.store.sync()

    async def synced(self) -> None:
        """`sync` without blocking the event loop."""
        await self.store.synced()

    def close(self) -> None:
        self.store.close()
