"""The gateway's HTTP face: `create_app(runtime)` is the FastAPI app `paygate serve` runs.

Every `/v1` request carries a terminal's API key (`Authorization: Bearer pk_...`); the
key names a merchant and a terminal, and the request sees only that merchant's
payments, users, reports and OTP texts (another merchant's payment id is a 404, as if it
did not exist; another merchant's user is unknown). Errors are
`{"error": {...}}` (see `responses`); a declined payment is a 200 with the payment.

`create_app` only assembles: the routers of `routes` (payments, otp, admin, reports, shifts),
the dependencies they ask for (`dependencies`), the body limits (`limits`) and the error
handlers (`responses`). Handlers are all `async`: the store is used from the event
loop's thread only. While it runs, the app resolves pending payments (UPI) on its own
every few seconds (`Gateway.poll`: callbacks applied, status checks made when due),
takes over the open payments of gateway processes that died (on a shared database), and
delivers the merchants' webhooks every second (`routes.webhooks.delivering`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from gateway_core.bank_client import BankClient
from gateway_core.errors import BankRefused, BankUnavailable, PaygateError
from gateway_core.gateway import Gateway, UnknownPayment
from gateway_core.observe.metrics import watch_open_payments
from gateway_core.ports import OpenPaymentRepository
from gateway_core.runtime import Runtime
from gateway_core.service import checkout
from gateway_core.service.auth import Authenticator, FailedAuthLimiter
from gateway_core.service.dependencies import Service
from gateway_core.service.health import router as probes
from gateway_core.service.keys import ApiKeys
from gateway_core.service.limits import MAX_BODY_BYTES, BodyLimit
from gateway_core.service.models import Health
from gateway_core.service.request_log import RequestLog
from gateway_core.service.responses import ERROR_RESPONSES, install_error_handlers
from gateway_core.service.routes import (
    admin,
    bills,
    netbanking,
    otp,
    payments,
    reports,
    shifts,
    webhooks,
)
from gateway_core.service.routes import processors as processor_webhooks
from gateway_core.service.routes.stripe_api import stripe_app

log = logging.getLogger("paygate.service")
POLL_EVERY_S = 5.0  # how often `paygate serve` resolves pending payments by default
Resolve = Callable[[], Awaitable[list[str]]]


async def board_merchants(bank: BankClient, keys: ApiKeys) -> None:
    """Board at the acquirer every merchant that holds a live terminal key, with those
    terminals (when the server starts: keys issued while it was stopped)."""
    for merchant_id in sorted({key.merchant_id for key in keys.list()}):
        await bank.board(merchant_id, keys.terminals(merchant_id))


async def poll_forever(poll: Resolve, every_s: float) -> None:
    """Call `poll` every `every_s` seconds until cancelled; a round that fails is logged
    (one line) and the next goes on."""
    while True:
        await asyncio.sleep(every_s)
        try:
            for note in await poll():
                log.info("resolved: %s", note)
        except PaygateError as exc:
            log.warning("pending payments not resolved this round: %s", exc)
        except Exception as exc:  # a round's bug must not stop the server: logged, named
            log.error("pending payments not resolved this round: %s", type(exc).__name__)


def resolving(gateway: Gateway, open_payments: OpenPaymentRepository) -> Resolve:
    """What a running server settles on its own, a round at a time: the open payments of
    gateway processes that died (several on one database: taken over and repaired, a
    lost answer again each round until the bank answers), then the pending payments
    whose answers came or whose checks are due (`Gateway.poll`)."""
    adopted: set[str] = set()

    async def round_() -> list[str]:
        adopted.update(open_payments.take_over())
        notes = await gateway.repair(only=adopted) if adopted else []
        adopted.intersection_update(p for p in adopted if _unknown(gateway, p))
        return [*notes, *await gateway.poll()]

    return round_


def _unknown(gateway: Gateway, payment_id: str) -> bool:
    try:
        return gateway.get(payment_id).status == "unknown"
    except UnknownPayment:  # never stored: the repair dropped it
        return False


def create_app(
    rt: Runtime, *, repair_on_start: bool = True, poll_every_s: float | None = POLL_EVERY_S
) -> FastAPI:
    """The API over an open writer `Runtime` (its gateway, store and audit log); the
    server's start runs the gateway's repair unless `repair_on_start` is False, and while
    it runs pending payments are resolved every `poll_every_s` seconds (None or 0: not)."""
    gateway = rt.gateway  # built now: it decides whether the banks are the simulator
    keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
    limiter = FailedAuthLimiter(rt.records.failed_auth, rt.clock)
    watch_open_payments(rt.records, rt.clock)  # /metrics counts them at each scrape

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await board_merchants(gateway.bank, keys)
        except (BankRefused, BankUnavailable) as exc:
            log.warning("merchants not boarded at the acquirer: %s", exc)
        if repair_on_start:
            for note in [*await gateway.repair(), *await gateway.bills.repair()]:
                log.warning("repaired: %s", note)
        polling = None
        if poll_every_s:
            rounds = resolving(gateway, rt.records.open_payments)
            polling = asyncio.create_task(poll_forever(rounds, poll_every_s))
        async with webhooks.delivering(app, webhooks.DELIVER_EVERY_S if poll_every_s else None):
            yield
        if polling is not None:
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
        await gateway.bank.close()
        if rt.processors is not None:
            await rt.processors.aclose()

    app = FastAPI(
        title="paygate gateway",
        version="1",
        summary="Card and UPI payments for paygate terminals: sale, pre-authorization, "
        "OTP, UPI QR / intent / collect, capture, void, cancel, refund, reports.",
        lifespan=lifespan,
    )
    app.state.service = service = Service(rt, keys, Authenticator(keys, rt.audit, limiter))
    webhooks.attach(app, rt)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(RequestLog)  # outermost: the access line is in the request's context
    install_error_handlers(app)
    v1 = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
    for router in (
        payments.router,
        bills.router,
        otp.router,
        admin.router,
        reports.router,
        shifts.router,
        webhooks.router,
    ):
        v1.include_router(router)
    v1.include_router(netbanking.router)  # the banks' return: no API key
    if rt.banks is not None:
        v1.include_router(otp.demo)
    app.include_router(v1)
    app.include_router(checkout.router)  # the customers' pages: no key
    app.include_router(processor_webhooks.router)  # the processors' webhooks: signed, no key
    app.mount("/stripe", stripe_app(service))  # the Stripe-compatible API (its own errors)
    if rt.banks is not None:  # embedded: their pages (net banking's) on this server too
        app.mount("/sim", rt.banks.asgi_app())
    app.add_api_route("/health", health, methods=["GET"], summary=HEALTH)
    app.include_router(probes)  # /healthz, /readyz: no key
    return app


HEALTH = "The service answers (no key needed)"


async def health() -> Health:  # no docstring: it would become the OpenAPI description
    return Health()
