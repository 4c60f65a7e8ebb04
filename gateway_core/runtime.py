"""Everything a command needs, opened from Settings in one place and closed together."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from gateway_core.access import Access
from gateway_core.audit import AuditLog
from gateway_core.clock import Clock, SystemClock
from gateway_core.errors import SystemFailure
from gateway_core.gateway import Gateway
from gateway_core.keys import Keyring
from gateway_core.payment_records import load_payment
from gateway_core.payments import Payment
from gateway_core.ports import BanksFactory, EmbeddedBanks, PayerApp, Records
from gateway_core.ports.connectors import Connector
from gateway_core.risk import unknown_country
from gateway_core.routing import check_routing
from gateway_core.settings import Settings
from gateway_core.store import DataStore
from gateway_core.store.records import TinyRecords
from gateway_core.tenders.defaults import routed_tenders
from gateway_core.tenders.processors import Processors
from gateway_core.vault import Vault

if TYPE_CHECKING:  # httpx: imported when the gateway is first used
    from gateway_core.bank_client import HttpBank
    from gateway_core.upi_client import PayerClient

HttpBankT = TypeVar("HttpBankT", bound="HttpBank")


def import_gateway_modules(banks: BanksFactory | None = None) -> None:
    """Import what building the gateway needs (`Runtime.gateway`: the bank client with
    httpx, and what `banks` opens the embedded banks with: FastAPI; 0.4 s), e.g. in a
    thread while a terminal draws its first screen."""
    importlib.import_module("gateway_core.bank_client")
    if banks is not None:
        banks.preload()


@dataclass
class Runtime:
    """An open data dir: store, keys, vault and audit log."""

    settings: Settings
    store: DataStore | None  # None: the records are in a database (`database_url`)
    records: Records
    keyring: Keyring
    vault: Vault
    audit: AuditLog
    clock: Clock
    banks: EmbeddedBanks | None = None
    banks_factory: BanksFactory | None = None
    processors: Processors | None = None  # the real processors, with the gateway
    _gateway: Gateway | None = None
    _access: Access | None = None
    _payer: PayerClient | None = None

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        read_only: bool = False,
        create: bool = True,
        clock: Clock | None = None,
        banks: BanksFactory | None = None,
    ) -> Runtime:
        """Open the data dir (taking the writer lock unless `read_only`).

        `banks` opens the embedded banks when the gateway is first used and the settings
        name no `bank_url` (the composition root passes the simulator's).

        `create=False` refuses a data dir with no paygate data instead of starting one.
        The key file is made only with a new data dir, before its first data file (a
        crash in between leaves a key and no data: the next start goes on with it);
        for a data dir with data a missing key file is an error, never a new key.
        """
        clock = clock or SystemClock()
        check_routing(settings)  # a processor not set up: one line, before anything is made
        if settings.database_url:
            return cls._on_database(settings, settings.database_url, read_only, clock, banks)
        new = create and not read_only and not DataStore.has_data(settings.data_dir)
        if new:
            Keyring.open(settings.resolved_key_file, create=True)
        store = DataStore(settings.data_dir, read_only=read_only, create=create)
        try:
            records = TinyRecords(store, home=settings.merchant_id, fees=settings.fees)
            keyring = Keyring.open(settings.resolved_key_file, create=False)
            vault = Vault(records.tokens, keyring, clock=clock)
            audit = AuditLog(records.audit, keyring, clock=clock, tz=settings.tz)
            for note in [] if read_only else store.recovered:
                audit.record("system", "store.recovered", note=note)
        except BaseException:
            store.close()
            raise
        return cls(settings, store, records, keyring, vault, audit, clock, banks_factory=banks)

    @classmethod
    def _on_database(
        cls, settings: Settings, url: str, read_only: bool, clock: Clock, banks: BanksFactory | None
    ) -> Runtime:
        """The records in the PostgreSQL database `url` (`PgRecords`); the data dir
        keeps the key file (made for a merchant with nothing in the database yet) and
        no store (`store` is None)."""
        from gateway_core.pgstore import PgRecords  # psycopg: only with a database

        records = PgRecords(url, settings.merchant_id, read_only=read_only, fees=settings.fees)
        try:
            new = not read_only and records.audit.head() is None
            keyring = Keyring.open(settings.resolved_key_file, create=new)
            vault = Vault(records.tokens, keyring, clock=clock)
            audit = AuditLog(records.audit, keyring, clock=clock, tz=settings.tz)
        except BaseException:
            records.close()
            raise
        return cls(settings, None, records, keyring, vault, audit, clock, banks_factory=banks)

    def preload_gateway(self) -> None:
        """`import_gateway_modules` for this runtime's banks."""
        import_gateway_modules(self.banks_factory)

    def payment(self, payment_id: str) -> Payment:
        """A payment by id as stored: a lookup, so a read-only runtime will do (no lock,
        no bank, no repair) and a day with no data is not opened."""
        return load_payment(self.records.payments, payment_id, self.records.refunds)

    @property
    def access(self) -> Access:
        """Users and approvals; the demo users are seeded into an empty user list."""
        if self._access is None:
            s = self.settings
            self._access = Access(
                self.records.users, self.audit, self.clock, tz=s.tz, home=s.merchant_id
            )
            if not self.records.read_only and not self._access.list():
                self._access.seed_demo()
        return self._access

    @property
    def gateway(self) -> Gateway:
        """The gateway, with the banks embedded unless `bank_url` points elsewhere. Built
        when first used: the bank app (FastAPI) is 0.4 s of imports that a terminal's
        first screen should not wait for."""
        if self._gateway is None:
            from gateway_core.bank_client import BankClient
            from gateway_core.fraud.hook import attach_model
            from gateway_core.netbanking_client import NbClient
            from gateway_core.upi_client import UpiClient

            s = self.settings
            bank, upi = self._client(BankClient), self._client(UpiClient)
            country_of = self.banks_factory.country_of if self.banks_factory else unknown_country
            self._gateway = Gateway(
                self.records,
                self.vault,
                self.audit,
                bank,
                s,
                clock=self.clock,
                access=self.access,
                country_of=country_of,
                upi=upi,
                netbanking=self._client(NbClient),
            )
            attach_model(self._gateway.risk, s, country_of=country_of)  # a model file: scores
            if self.processors is None:
                self.processors = Processors(self._connector, self.records.idempotency)
            tenders = routed_tenders(self._gateway.tenders, s, self.processors)
            self._gateway.tenders.update(tenders)
        return self._gateway

    def _connector(self, name: str) -> Connector:
        """The real processor `name` (checked by `check_routing`), on its `base_url` or
        on its local fake: at `bank_url` with remote banks, else served by the embedded
        banks."""
        from gateway_core.connectors import open_connector  # an SDK: imported when used

        conf = self.settings.processors[name]
        fakes = ""
        if conf.base_url is None:
            fakes = self.settings.bank_url or self._embedded().processors_url()
        return open_connector(name, conf, fakes)

    def _client(self, kind: type[HttpBankT]) -> HttpBankT:
        """A client of `kind` on the banks: remote on `bank_url`, else embedded (the
        embedded banks are opened by the first)."""
        s = self.settings
        if s.bank_url:
            return kind.remote(s.bank_url, timeout_s=s.bank_timeout_s)
        banks = self._embedded()
        app, acquiring = banks.asgi_app(), banks.acquiring()
        return kind.embedded(app, timeout_s=s.bank_timeout_s, acquiring=acquiring)

    def _embedded(self) -> EmbeddedBanks:
        """The embedded banks, opened by the first who asks."""
        if self.banks is None and self.banks_factory is not None:
            self.banks = self.banks_factory.open(self.settings, self.clock)
        if self.banks is None:
            raise SystemFailure(
                "no banks to reach: set bank_url (PAYGATE_BANK_URL) or open the data dir "
                "with the embedded banks"
            )
        return self.banks

    @property
    def payer(self) -> PayerApp:
        """A customer's UPI app on the same banks (the CLI's `upi pay`, the terminal's
        demo phone)."""
        if self._payer is None:
            from gateway_core.upi_client import PayerClient

            self._payer = self._client(PayerClient)
        return self._payer

    async def aclose(self) -> None:
        """Close the bank connection, then everything `close` closes."""
        if self._gateway is not None:
            await self._gateway.bank.close()
            if self._gateway.upi is not None:
                await self._gateway.upi.close()
            if self._gateway.netbanking is not None:
                await self._gateway.netbanking.close()
        if self._payer is not None:
            await self._payer.close()
        if self.processors is not None:
            await self.processors.aclose()
        self.close()

    def close(self) -> None:
        """Compact and close the stores, releasing the writer locks."""
        try:
            if self.banks is not None:
                self.banks.close()
        finally:
            self.records.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
