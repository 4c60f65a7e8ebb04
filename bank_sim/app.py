"""The simulated banks as one FastAPI app, over their own store.

Embedded, the gateway reaches it through `httpx.ASGITransport` (no sockets);
`paygate banks serve` runs the same app under uvicorn. The banks keep their data in
`<data_dir>/banks/`, apart from the gateway's, with their own writer lock and keys.
"""

from __future__ import annotations

import contextlib
from datetime import date
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from bank_sim.acquirer import Acquirer
from bank_sim.config import BankConfig
from bank_sim.direct import DirectAcquirer
from bank_sim.issuer import Issuers, IssuerUnavailable
from bank_sim.ledger import Ledger
from bank_sim.netbanking.api import netbanking_router
from bank_sim.netbanking.banks import NetBanking
from bank_sim.netbanking.errors import NbNotFound
from bank_sim.netbanking.pages import pages_router
from bank_sim.otp import OtpService, Outbox
from bank_sim.processors.app import Fakes
from bank_sim.telemetry import BankTelemetry
from bank_sim.upi.errors import UpiNotFound
from bank_sim.upi.network import UpiNetwork
from bank_sim.upi.routes import upi_router
from gateway_core.acquirer_api import (
    Account,
    AuthorizationRequest,
    AuthorizationResponse,
    Boarding,
    CaptureRequest,
    Challenge,
    LedgerCheck,
    OperationResponse,
    OtpVerifyRequest,
    OtpVerifyResponse,
    RefundRequest,
    ReversalRequest,
    Sms,
)
from gateway_core.errors import InputError, PaygateError, SystemFailure
from gateway_core.keys import Keyring
from gateway_core.observe.metrics import metrics_endpoint
from gateway_core.store import DataStore, StorageCorrupt
from gateway_core.store.documents import Documents

if TYPE_CHECKING:  # uvicorn: imported when the fakes are first served
    from bank_sim.processors.server import LoopbackServer


class Banks:
    """The whole simulated world: store, ledger, issuers, the acquirer, UPI and net
    banking."""

    def __init__(self, config: BankConfig) -> None:
        self.config = config
        self._fakes_server: LoopbackServer | None = None  # the fakes on a port, once asked
        self.data_dir = config.data_dir / "banks"
        self.store = DataStore(self.data_dir)
        try:
            db = self.store.main
            if not Documents(db, "accounts") and self.store.days():
                raise StorageCorrupt(  # else the accounts would be opened afresh, with money
                    f"the banks' main database in {self.store.db_dir} is missing but their "
                    "clearing days are there; restore it from a backup"
                )
            keys = Keyring.open(self.data_dir / "keys" / "keyring.json").current
            self.outbox = Outbox(Documents(db, "outbox"), config.clock, home=config.merchant_id)
            otp = OtpService(
                Documents(db, "otp", key="id"),
                self.outbox,
                keys.audit,
                clock=config.clock,
                policy=config.otp,
            )
            self.ledger = Ledger(db)
            self.issuers = Issuers(db, self.ledger, otp, keys.fp, config)
            self.acquirer = Acquirer(db, self.store, self.issuers, config)
            self.upi = UpiNetwork(db, self.ledger, keys, config)
            self.nb = NetBanking(db, self.ledger, keys, config)
            self.processors = Fakes(self.data_dir / "processors", config.clock)
        except BaseException:
            self.store.close()
            raise

    def asgi_app(self) -> FastAPI:
        """Their HTTP face (`create_app`), for an in-process client."""
        return create_app(self)

    def acquiring(self) -> DirectAcquirer:
        """The acquirer's card handlers, for the gateway's card calls without HTTP."""
        return DirectAcquirer(self.acquirer)

    def processors_url(self) -> str:
        """Where the processors' fakes (`self.processors`) answer for the providers'
        SDKs, which speak HTTP: on a loopback port, started on the first call."""
        if self._fakes_server is None:
            from bank_sim.processors.server import LoopbackServer  # uvicorn

            server = LoopbackServer(self.processors.app())
            server.start()
            self._fakes_server = server
        return self._fakes_server.url

    def check(self) -> LedgerCheck:
        """Whether the books balance (see `Ledger.check`), every live hold belongs to an
        authorization the acquirer still has open (approved, or awaiting its answer),
        every clearing day holds the lines written to it (`Acquirer.check_clearing`), the
        UPI books balance (`UpiNetwork.ledger_check`) and the net banking books do
        (`NetBanking.ledger_check`)."""
        verdict = self.ledger.check(self.issuers.live_holds())
        if not verdict.ok:
            return verdict
        open_auths = self.acquirer.statuses_by_rrn()
        for rrn, account in self.issuers.live_rrns().items():
            status = open_auths.get(rrn, "unknown to the acquirer")
            if status not in ("approved", "pending"):
                problem = f"hold:{account} keeps authorization {rrn}, which is {status}"
                return verdict.model_copy(update={"ok": False, "problem": problem})
        problem = self.acquirer.check_clearing()
        if problem:
            return verdict.model_copy(update={"ok": False, "problem": problem})
        upi = self.upi.ledger_check()
        if not upi.ok:
            return verdict.model_copy(update={"ok": False, "problem": f"UPI: {upi.problem}"})
        nb = self.nb.ledger_check()
        if not nb.ok:
            problem = f"net banking: {'; '.join(nb.problems)}"
            return verdict.model_copy(update={"ok": False, "problem": problem})
        return verdict

    def close(self) -> None:
        """Copy the owed clearing lines into their days, then compact and close the
        banks' store (and stop the processors' fakes, if served)."""
        try:
            with contextlib.suppress(SystemFailure, OSError):  # left owed: paid at the next open
                self.acquirer.clearing_files.pay()
        finally:
            if self._fakes_server is not None:
                self._fakes_server.stop()
            self.store.close()


def create_app(banks: Banks) -> FastAPI:
    """The HTTP face of `banks`."""
    app = FastAPI(title="paygate simulated banks", version="1")
    app.state.banks = banks
    app.add_middleware(BankTelemetry)  # server spans, the UPI and net banking hops timed
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)  # no key
    acquirer, issuers = banks.acquirer, banks.issuers

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())[1:]) or "body"
        return JSONResponse({"error": f"{where}: {err.get('msg', 'invalid')}"}, status_code=422)

    @app.exception_handler(PaygateError)
    async def _refused(request: Request, exc: PaygateError) -> JSONResponse:
        status = 409 if isinstance(exc, InputError) else 500
        return JSONResponse({"error": exc.message}, status_code=status)

    @app.exception_handler(UpiNotFound)
    @app.exception_handler(NbNotFound)
    async def _unknown(request: Request, exc: UpiNotFound | NbNotFound) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=404)

    @app.exception_handler(IssuerUnavailable)
    async def _issuer_down(request: Request, exc: IssuerUnavailable) -> JSONResponse:
        return JSONResponse({"error": f"issuer {exc} unavailable"}, status_code=502)

    @app.post("/acquirer/v1/authorizations")
    async def authorize(req: AuthorizationRequest) -> AuthorizationResponse:
        return await acquirer.authorize(req)

    @app.post("/acquirer/v1/merchants")
    async def board(req: Boarding) -> Boarding:
        acquirer.board(req.merchant_id, req.terminal_ids)
        terminals = sorted(acquirer.terminals(req.merchant_id))
        return Boarding(merchant_id=req.merchant_id, terminal_ids=terminals)

    @app.post("/acquirer/v1/reversals")
    async def reverse(req: ReversalRequest) -> OperationResponse:
        return await acquirer.reverse(req)

    @app.post("/acquirer/v1/captures")
    async def capture(req: CaptureRequest) -> OperationResponse:
        return await acquirer.capture(req)

    @app.post("/acquirer/v1/refunds")
    async def refund(req: RefundRequest) -> OperationResponse:
        return await acquirer.refund(req)

    @app.post("/acquirer/v1/challenges/{challenge_id}/verify")
    async def verify(challenge_id: str, req: OtpVerifyRequest) -> OtpVerifyResponse:
        return issuers.otp.verify(challenge_id, req.otp)

    @app.post("/acquirer/v1/challenges/{challenge_id}/resend")
    async def resend(challenge_id: str) -> Challenge:
        return issuers.otp.resend(challenge_id)

    @app.get("/acquirer/v1/payments/{payment_id}/frames")
    async def frames(payment_id: str) -> list[dict]:
        record = acquirer.record(payment_id)
        return record["frames"] if record else []

    @app.get("/acquirer/v1/clearing/{day}")
    async def clearing(day: date) -> list[dict]:
        return acquirer.clearing(day)

    @app.get("/banks/v1/outbox")
    async def outbox(
        phone: str | None = None, limit: int = 50, merchant_id: str | None = None
    ) -> list[Sms]:
        return banks.outbox.messages(phone, limit=limit, merchant_id=merchant_id)

    @app.get("/banks/v1/accounts")
    async def accounts() -> list[Account]:
        return [
            Account(**{k: v for k, v in a.items() if k in Account.model_fields})
            for a in issuers.accounts()
        ]

    @app.get("/banks/v1/ledger/check")
    async def ledger_check() -> LedgerCheck:
        return banks.check()

    @app.get("/banks/v1/health")
    @app.get("/healthz")  # the load balancers' usual name
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(upi_router(banks.upi))
    app.include_router(netbanking_router(banks.nb))
    app.include_router(pages_router(banks.nb))
    app.include_router(banks.processors.router())  # the processors' fakes: /stripe/v1, ...
    return app
