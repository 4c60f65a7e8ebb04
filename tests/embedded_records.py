"""The embedded repositories as one bundle, shaped like `PgRecords` (until the store's
own `TinyRecords` lands)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date

from gateway_core.store import DataStore
from gateway_core.store.auth_failures import TinyFailedAuthRepository
from gateway_core.store.bills import TinyBillRepository
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


class EmbeddedRecords:
    def __init__(self, store: DataStore, home: str) -> None:
        self.store, self.home = store, home
        self.payments = TinyPaymentRepository(store)
        self.refunds = TinyRefundRepository(store)
        self.audit = TinyAuditRepository(store)
        self.tokens = TinyTokenRepository(store)
        self.users = TinyUserRepository(store, home=home)
        self.api_keys = TinyApiKeyRepository(store)
        self.risk = TinyRiskRepository(store, home=home)
        self.idempotency = TinyIdempotencyRepository(store)
        self.open_payments = TinyOpenPaymentRepository(store)
        self.shifts = TinyShiftRepository(store)
        self.bills = TinyBillRepository(store)
        self.failed_auth = TinyFailedAuthRepository(store)

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    def closings(self, merchant_id: str | None = None) -> TinyClosingRepository:
        return TinyClosingRepository(self.store, merchant_id, home=self.home)

    def days(self) -> list[date]:
        return list(self.store.days())

    @contextlib.contextmanager
    def unit(self, *days: date, durable: bool = True) -> Iterator[None]:
        try:
            with contextlib.ExitStack() as stack:
                stack.enter_context(self.store.main.journal.atomic())
                for day in sorted(set(days), reverse=True):
                    stack.enter_context(self.store.day(day).journal.atomic())
                yield
        except BaseException:
            self.payments.forget_indexes()
            raise

    def sync(self) -> None:
        """Every unit is durable when it returns."""

    def close(self) -> None:
        self.store.close()
