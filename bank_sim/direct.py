"""The acquirer's handlers called in the gateway's process without HTTP (the embedded
banks' `Acquiring`): the API's models in and out, and the failures their HTTP face
answers (`bank_sim.app`) raised as the client would raise them: 5xx `BankUnavailable`,
4xx `BankRefused`. The ISO 8583 frames are built and parsed at every hop all the same.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from bank_sim.acquirer import Acquirer
from bank_sim.issuer import IssuerUnavailable
from gateway_core.acquirer_api import (
    AuthorizationRequest,
    AuthorizationResponse,
    CaptureRequest,
    OperationResponse,
    RefundRequest,
    ReversalRequest,
)
from gateway_core.errors import BankRefused, BankUnavailable, InputError

T = TypeVar("T")


class DirectAcquirer:
    """`Acquirer`'s card handlers as `gateway_core.ports.Acquiring`."""

    def __init__(self, acquirer: Acquirer) -> None:
        self._acquirer = acquirer

    async def authorize(self, req: AuthorizationRequest) -> AuthorizationResponse:
        return await _answered(self._acquirer.authorize(req))

    async def reverse(self, req: ReversalRequest) -> OperationResponse:
        return await _answered(self._acquirer.reverse(req))

    async def capture(self, req: CaptureRequest) -> OperationResponse:
        return await _answered(self._acquirer.capture(req))

    async def refund(self, req: RefundRequest) -> OperationResponse:
        return await _answered(self._acquirer.refund(req))


async def _answered(call: Awaitable[T]) -> T:
    """What `call` returns, or its failure as the HTTP face would answer it."""
    try:
        return await call
    except IssuerUnavailable:
        raise BankUnavailable("the bank failed (HTTP 502)") from None
    except InputError as exc:
        raise BankRefused(f"the bank refused: {exc.message}") from None
    except Exception:  # an HTTP 500 over the wire
        raise BankUnavailable("the bank failed (HTTP 500)") from None
