"""The states of a payment, whatever its method, and the moves allowed between them.

A payment is stored `unknown` first (durable before any processor is asked), then its
tender moves it on. `requires_action`: a customer step (an OTP); `pending`: waiting for
an asynchronous answer (a UPI payer, a net banking redirect); `requires_capture`:
authorized, capture later; `succeeded`: captured. Terminal: `declined`, `canceled`
(voided, OTP failed or expired), `expired` (no answer in time). `unknown` also means the
processor may have acted and we do not know yet (repair resolves it). An open state may
be saved again (a new OTP, a capture to retry); a terminal one never changes.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from gateway_core.errors import SystemFailure

Status = Literal[
    "unknown",
    "requires_action",
    "pending",
    "requires_capture",
    "succeeded",
    "declined",
    "canceled",
    "expired",
]

ANY: Final[frozenset[Status]] = frozenset(get_args(Status))
TRANSITIONS: Final[dict[Status, frozenset[Status]]] = {
    "unknown": ANY,
    "requires_action": ANY,
    "pending": ANY - {"requires_action"},
    "requires_capture": frozenset({"requires_capture", "succeeded", "canceled"}),
    "succeeded": frozenset(),
    "declined": frozenset(),
    "canceled": frozenset(),
    "expired": frozenset(),
}
"""From a stored state, the states a payment may be saved in next."""

INITIAL: Final[Status] = "unknown"
OPEN_STATUSES: Final[frozenset[Status]] = frozenset(s for s, to in TRANSITIONS.items() if to)


class IllegalTransition(SystemFailure):
    """A payment saved in a state its stored state cannot move to (a bug, never input)."""


def check_transition(payment_id: str, before: Status | None, after: Status) -> None:
    """Raise `IllegalTransition` unless a payment stored as `before` (None: not stored
    yet) may be saved as `after`."""
    allowed = frozenset({INITIAL}) if before is None else TRANSITIONS[before]
    if after not in allowed:
        was = "new" if before is None else before
        raise IllegalTransition(f"payment {payment_id} cannot go from {was} to {after}")
