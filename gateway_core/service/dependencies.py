"""What a route asks FastAPI for (`Depends`): the runtime, its gateway and clock, the
calling terminal (authenticated by its API key), and the checked query and headers.

The app holds one `Service` (in `app.state`); every dependency reads from it, so a
route names what it needs and nothing is captured in closures. All are `async` except
the pure parameter checks: the store is used from the event loop's thread only. (No
`from __future__ import annotations` here: FastAPI reads these annotations.)
"""

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway_core.access import ADMINS
from gateway_core.clock import Clock
from gateway_core.errors import InputError
from gateway_core.gateway import Gateway, UnknownPayment
from gateway_core.logs import bind_log_context
from gateway_core.payments import Payment
from gateway_core.ports import Approval
from gateway_core.runtime import Runtime
from gateway_core.service.auth import Authenticator
from gateway_core.service.keys import ApiKey, ApiKeys
from gateway_core.service.models import (
    IDEMPOTENCY_KEY_RULE,
    ApprovalBody,
    Operated,
    PaymentView,
    VoidBody,
    check_idempotency_key,
)
from gateway_core.service.responses import invalid
from gateway_core.settlement import parse_day


@dataclass(frozen=True)
class Service:
    """What the app serves: an open writer runtime, its terminals' keys, their check."""

    rt: Runtime
    keys: ApiKeys
    auth: Authenticator


async def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def _runtime(service: Annotated[Service, Depends(_service)]) -> Runtime:
    return service.rt


async def _keys(service: Annotated[Service, Depends(_service)]) -> ApiKeys:
    return service.keys


Rt = Annotated[Runtime, Depends(_runtime)]
Keys = Annotated[ApiKeys, Depends(_keys)]


async def _gateway(rt: Rt) -> Gateway:
    return rt.gateway


async def _clock(rt: Rt) -> Clock:
    return rt.clock


GatewayDep = Annotated[Gateway, Depends(_gateway)]
ClockDep = Annotated[Clock, Depends(_clock)]
bearer = HTTPBearer(auto_error=False, description="a terminal's key: pk_...")


@dataclass(frozen=True)
class Terminal:
    """The terminal a request comes from (its API key), and what it may see: only its
    merchant's payments, users and keys."""

    key: ApiKey
    rt: Runtime

    @property
    def merchant_id(self) -> str:
        return self.key.merchant_id

    def shown(self, payment: Payment) -> PaymentView:
        """The payment as its merchant sent it (idempotency keys are scoped per merchant),
        with its `next_action`."""
        sent = payment.idempotency_key
        if sent is not None:
            payment = payment.model_copy(
                update={"idempotency_key": sent.removeprefix(f"{self.merchant_id}/")}
            )
        return PaymentView.of(payment)

    def owned(self, payment_id: str) -> Payment:
        """The merchant's payment; another merchant's is unknown, as if it did not exist."""
        payment = self.rt.gateway.get(payment_id)
        if payment.merchant_id != self.merchant_id:
            raise UnknownPayment(f"no payment {payment_id}")
        return payment

    def operator(self, body: Operated | None) -> str:
        """Who operates: the body's user of this merchant, else the terminal itself."""
        if body is None or body.operator is None:
            return f"terminal:{self.key.terminal_id}"
        if body.operator not in {user.id for user in self.rt.access.of(self.merchant_id).list()}:
            raise InputError(f"operator: no user {body.operator!r}")
        return body.operator

    def admin(self, approval: ApprovalBody, action: str, subject: str) -> str:
        """The id of the merchant admin who approves `action` (their PIN checked)."""
        users = self.rt.access.of(self.merchant_id)  # the key's merchant's admins only
        return users.approve(
            approval.approver_id,
            approval.pin.get_secret_value(),
            action=action,
            subject=subject,
            operator=f"terminal:{self.key.terminal_id}",
            roles=ADMINS,
        ).id


async def _caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    service: Annotated[Service, Depends(_service)],
) -> Terminal:
    address = request.client.host if request.client else "unknown"
    key = service.auth.check(credentials.credentials if credentials else None, address)
    bind_log_context(merchant_id=key.merchant_id, terminal_id=key.terminal_id)  # the request's
    return Terminal(key, service.rt)


Caller = Annotated[Terminal, Depends(_caller)]


def approval(body: VoidBody) -> Approval:
    """The manager's approval a void or refund body carries."""
    return Approval(body.approval.approver_id, body.approval.pin.get_secret_value())


def _day(
    text: Annotated[
        str | None, Query(alias="date", max_length=20, description="YYYY-MM-DD (default: today)")
    ] = None,
) -> date | None:
    """`?date=`, read by the parser the CLI's `--date` uses (range included)."""
    try:
        return None if text is None else parse_day(text)
    except InputError as exc:
        raise invalid("query", "date", exc.message) from None


def _idempotency_key(
    key: Annotated[
        str | None, Header(alias="Idempotency-Key", description=IDEMPOTENCY_KEY_RULE)
    ] = None,
) -> str | None:
    """The Idempotency-Key header: printable ASCII (other bytes would come back garbled)."""
    try:
        return None if key is None else check_idempotency_key(key)
    except InputError as exc:
        raise invalid("header", "Idempotency-Key", exc.message) from None


Day = Annotated[date | None, Depends(_day)]
IdempotencyKey = Annotated[str | None, Depends(_idempotency_key)]
PaymentId = Annotated[str, Path(min_length=1, max_length=64)]
