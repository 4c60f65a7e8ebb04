"""The calls the payment path makes to be counted and traced: each a few dict updates
(`recorders.METRICS`, looked up at each call: a test may give it fresh ones) and, only
when tracing is on, a span (`tracing`)."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from gateway_core.logs import bound_log_context, context_trace_id
from gateway_core.observe import recorders, tracing

if TYPE_CHECKING:
    from gateway_core.payments import ChargeRequest, Payment

P = ParamSpec("P")
S = TypeVar("S")
# A payment is decided when it leaves one of these for an outcome.
UNDECIDED = frozenset({None, "unknown", "requires_action", "pending"})
OUTCOMES = {
    "requires_capture": "approved",  # authorized (a pre-authorization)
    "succeeded": "approved",
    "declined": "declined",
    "canceled": "canceled",  # OTP failed, the customer gave up
    "expired": "expired",
}
APIS = frozenset({"acquirer", "banks", "upi", "netbanking", "healthz"})  # a bank call's
BY_MODEL = "fraud_model"  # the rule name of a verdict the fraud model made stricter


def observed_charge(
    charge: Callable[Concatenate[S, ChargeRequest, P], Awaitable[Payment]],
) -> Callable[Concatenate[S, ChargeRequest, P], Awaitable[Payment]]:
    """A new payment's charge in a `gateway.charge` span (its trace id on the log lines
    meanwhile), timed as the `gateway` hop, its risk verdict counted."""

    @functools.wraps(charge)
    async def observed(
        self: S, req: ChargeRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> Payment:
        started = time.perf_counter()
        with (
            tracing.span("gateway.charge", {"payment.method": req.method}),
            bound_log_context(trace_id=tracing.trace_id()),  # the span's, entered first
        ):
            payment = await charge(self, req, *args, **kwargs)
        recorders.METRICS.hop("gateway").observe(time.perf_counter() - started)
        if (risk := payment.risk) is not None:
            action = "step_up" if risk.action == "otp" else risk.action
            recorders.METRICS.risk[
                payment.method, action, "model" if risk.rule == BY_MODEL else "rules"
            ] += 1
        return payment

    return observed


def trace_id() -> str | None:
    """The trace a payment is taken in: the current span's, else the request's (its
    `traceparent`'s, or the one made for it), None outside both."""
    return tracing.trace_id() or context_trace_id()


def payment_saved(payment: Payment) -> None:
    """Count a payment whose saved state is its outcome (approved, declined, blocked by
    risk, canceled, expired), once: when it leaves a state that waits for one."""
    outcome = OUTCOMES.get(payment.status)
    if outcome is None:
        return
    private = payment.__pydantic_private__ or {}  # pydantic's __getattr__ costs 5 µs
    if private.get("_stored_as") not in UNDECIDED:
        return
    if payment.decline_code == "blocked_by_risk":
        outcome = "blocked"
    code, issuer = payment.response_code or "none", payment.issuer or "none"
    recorders.METRICS.payments[payment.method, outcome, code, issuer] += 1


def bank_hop(name: str, seconds: float) -> None:
    """A hop of the banks (acquirer, network, issuer, UPI switch) took `seconds`."""
    recorders.METRICS.hop(name).observe(seconds)
    tracing.past_span(name, seconds)


def reversal(reason: str, response_code: str) -> None:
    """A reversal (0400) was answered."""
    recorders.METRICS.reversals[reason, response_code] += 1


def timed_out(api: str) -> None:
    """A bank call got no answer in time (`api`: the API's first path segment)."""
    recorders.METRICS.timeouts[api] += 1


def api_of(path: str) -> str:
    """The bank API of a path (`/upi/v1/...` → `upi`), from a short fixed list."""
    head = path.lstrip("/").split("/", 1)[0]
    return head if head in APIS else "other"
