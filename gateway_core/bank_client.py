"""The gateway's only way to the banks: an `httpx.AsyncClient` on the acquirer's API.

Embedded (the default) it runs over `httpx.ASGITransport` on the bank app in this
process, with no sockets (and, as on a server, a request the gateway stopped waiting
for still runs to its end), and the card calls of a sale (authorize, capture, reverse,
refund) skip HTTP altogether: they go straight to the acquirer's handlers (`Acquiring`),
which still build and parse the ISO 8583 frames at every hop. With a bank URL it talks
to `paygate banks serve`. Every call has a deadline: a bank that does not answer in
time, answers 5xx or cannot be reached raises `BankUnavailable`, and the gateway then
reverses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from datetime import date
from typing import Any, Self, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import TypeAdapter

from gateway_core.acquirer_api import (
    Account,
    AuthorizationRequest,
    AuthorizationResponse,
    Boarding,
    CaptureRequest,
    Challenge,
    Frame,
    LedgerCheck,
    OperationResponse,
    OtpVerifyResponse,
    RefundRequest,
    ReversalReason,
    ReversalRequest,
    Sms,
)
from gateway_core.errors import BankNotReached, BankRefused, BankUnavailable
from gateway_core.observe import tracing
from gateway_core.observe.hooks import api_of, reversal, timed_out
from gateway_core.ports.processor import Acquiring

__all__ = ["BankClient", "BankNotReached", "BankRefused", "BankUnavailable", "HttpBank"]

T = TypeVar("T")
# Raised before a byte of the request was sent: no connection, no name, no pooled socket.
NEVER_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


class _ServerLikeTransport(httpx.AsyncBaseTransport):
    """`httpx.ASGITransport`, except that a request the caller stops waiting for still
    runs to its end, as it does on a real server: a deadline never stops the banks
    halfway between booking money and recording that they did."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._running: set[asyncio.Task[Any]] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        task = asyncio.ensure_future(self._inner.handle_async_request(request))
        self._running.add(task)
        task.add_done_callback(self._finished)
        return await asyncio.shield(task)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: an answer nobody waited for is dropped

    async def run(self, call: Coroutine[Any, Any, T], timeout_s: float) -> T:
        """`call` (an in-process handler) as the server would run it: in a task of its
        own that the caller's deadline does not cancel."""
        task = asyncio.ensure_future(call)
        self._running.add(task)
        task.add_done_callback(self._finished)
        try:
            async with asyncio.timeout(timeout_s):
                return await asyncio.shield(task)
        except TimeoutError:
            timed_out("acquirer")
            raise BankUnavailable("the bank did not answer in time") from None

    async def aclose(self) -> None:
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await self._inner.aclose()


class HttpBank:
    """An httpx client on the banks app, each call bounded by `timeout_s` and its
    failures mapped to `BankUnavailable` / `BankNotReached` / `BankRefused` (the
    acquirer client and the UPI clients share it)."""

    def __init__(self, client: httpx.AsyncClient, *, timeout_s: float = 8.0) -> None:
        self._client = client
        self.timeout_s = timeout_s
        self._direct: tuple[Acquiring, _ServerLikeTransport] | None = None

    @classmethod
    def embedded(
        cls, app: Any, *, timeout_s: float = 8.0, acquiring: Acquiring | None = None
    ) -> Self:
        """In process, no sockets; with `acquiring`, the card calls without HTTP."""
        transport = _ServerLikeTransport(app)
        bank = cls(
            httpx.AsyncClient(transport=transport, base_url="http://banks"), timeout_s=timeout_s
        )
        if acquiring is not None:
            bank._direct = (acquiring, transport)
        return bank

    @classmethod
    def remote(cls, url: str, *, timeout_s: float = 8.0) -> Self:
        """A `paygate banks serve` process at `url`. Connecting gets half the deadline, so
        that a bank that cannot be reached is told apart from one that does not answer."""
        timeout = httpx.Timeout(timeout_s, connect=timeout_s / 2)
        return cls(httpx.AsyncClient(base_url=url, timeout=timeout), timeout_s=timeout_s)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def ping(self, timeout_s: float) -> None:
        """The banks answer their health probe within `timeout_s` (else the call's error)."""
        await self._call("GET", "/healthz", dict, timeout_s=timeout_s)

    async def _call(
        self,
        method: str,
        path: str,
        answer: type[T] | Any,
        body: dict[str, Any] | None = None,
        timeout_s: float | None = None,
    ) -> T:
        try:
            async with asyncio.timeout(timeout_s or self.timeout_s):
                response = await self._client.request(
                    method, path, json=body, headers=tracing.headers()
                )
        except TimeoutError:
            timed_out(api_of(path))
            raise BankUnavailable("the bank did not answer in time") from None
        except NEVER_SENT as exc:
            raise BankNotReached(f"the bank cannot be reached ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise BankUnavailable(f"the link to the bank broke ({type(exc).__name__})") from None
        if response.status_code >= 500:
            raise BankUnavailable(f"the bank failed (HTTP {response.status_code})")
        if response.status_code >= 400:
            try:
                reason = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                reason = f"HTTP {response.status_code}"
            raise BankRefused(f"the bank refused: {reason}")
        answered: T = _adapter(answer).validate_python(response.json())
        return answered


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(answer: Any) -> TypeAdapter[Any]:
    """The validator of an answer type, built once (building one costs more than using it)."""
    if (adapter := _ADAPTERS.get(answer)) is None:
        adapter = _ADAPTERS[answer] = TypeAdapter(answer)
    return adapter


class BankClient(HttpBank):
    """Typed calls to the acquirer, each bounded by `timeout_s` (the card tender's
    `Processor`; also the simulator's own views: outbox, accounts, ledger check)."""

    async def authorize(self, req: AuthorizationRequest) -> AuthorizationResponse:
        """0100 → 0110; a sale (`req.capture`) 0200 → 0210, captured at once."""
        if self._direct:
            acquiring, runner = self._direct
            return await runner.run(acquiring.authorize(req), self.timeout_s)
        return await self._call(
            "POST", "/acquirer/v1/authorizations", AuthorizationResponse, req.wire()
        )

    async def reverse(self, payment_id: str, reason: ReversalReason) -> OperationResponse:
        """0400 → 0410: release whatever the issuer holds for this payment (a sale's
        money goes back)."""
        req = ReversalRequest(payment_id=payment_id, reason=reason)
        if self._direct:
            acquiring, runner = self._direct
            answer = await runner.run(acquiring.reverse(req), self.timeout_s)
        else:
            body = req.model_dump()
            answer = await self._call("POST", "/acquirer/v1/reversals", OperationResponse, body)
        reversal(reason, answer.response_code)
        return answer

    async def capture(
        self, payment_id: str, amount: int, day: date | None = None
    ) -> OperationResponse:
        """Completion of `amount` of the hold; the rest is released. It clears on the
        merchant's business day `day` (after a Z report, the next day)."""
        req = CaptureRequest(payment_id=payment_id, amount=amount, day=day)
        if self._direct:
            acquiring, runner = self._direct
            return await runner.run(acquiring.capture(req), self.timeout_s)
        body = req.model_dump(mode="json")
        return await self._call("POST", "/acquirer/v1/captures", OperationResponse, body)

    async def refund(
        self, payment_id: str, refund_id: str, amount: int, day: date | None = None
    ) -> OperationResponse:
        """Credit `amount` back to the card (clearing on business day `day`)."""
        req = RefundRequest(payment_id=payment_id, refund_id=refund_id, amount=amount, day=day)
        if self._direct:
            acquiring, runner = self._direct
            return await runner.run(acquiring.refund(req), self.timeout_s)
        body = req.model_dump(mode="json")
        return await self._call("POST", "/acquirer/v1/refunds", OperationResponse, body)

    async def verify_otp(self, challenge_id: str, otp: str) -> OtpVerifyResponse:
        """Check a code with the issuer's access control server."""
        return await self._call(
            "POST",
            f"/acquirer/v1/challenges/{challenge_id}/verify",
            OtpVerifyResponse,
            {"otp": otp},
        )

    async def resend_otp(self, challenge_id: str) -> Challenge:
        """Ask the issuer for a new code."""
        return await self._call("POST", f"/acquirer/v1/challenges/{challenge_id}/resend", Challenge)

    async def frames(self, payment_id: str) -> list[Frame]:
        """The ISO 8583 frames of a payment, masked."""
        return await self._call("GET", f"/acquirer/v1/payments/{payment_id}/frames", list[Frame])

    async def clearing(self, day: date) -> list[dict[str, Any]]:
        """The acquirer's clearing file for a business day."""
        return await self._call(
            "GET", f"/acquirer/v1/clearing/{day.isoformat()}", list[dict[str, Any]]
        )

    async def outbox(self, phone: str | None = None, merchant_id: str | None = None) -> list[Sms]:
        """Text messages on the cardholders' simulated phones, newest first (those about
        one merchant's payments when `merchant_id` is given)."""
        params = {k: v for k, v in (("phone", phone), ("merchant_id", merchant_id)) if v}
        query = f"?{urlencode(params)}" if params else ""
        return await self._call("GET", f"/banks/v1/outbox{query}", list[Sms])

    async def board(self, merchant_id: str, terminal_ids: Iterable[str]) -> Boarding:
        """Enrol a merchant and its terminals at the acquirer (again: adds terminals)."""
        body = Boarding(merchant_id=merchant_id, terminal_ids=sorted(terminal_ids))
        return await self._call("POST", "/acquirer/v1/merchants", Boarding, body.model_dump())

    async def accounts(self) -> list[Account]:
        """Cardholder accounts with their balances."""
        return await self._call("GET", "/banks/v1/accounts", list[Account])

    async def ledger_check(self) -> LedgerCheck:
        """Whether the banks' books balance."""
        return await self._call("GET", "/banks/v1/ledger/check", LedgerCheck)
