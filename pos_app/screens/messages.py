"""Messages the sale flow's workers post back to the app."""

from __future__ import annotations

from textual.message import Message

from gateway_core.payments import Payment
from pos_app.route import RouteEvent


class RouteUpdate(Message):
    """A step of the payment on screen."""

    def __init__(self, event: RouteEvent) -> None:
        super().__init__()
        self.event = event


class FlowDone(Message):
    """The gateway answered: the payment as stored."""

    def __init__(self, payment: Payment, step: str) -> None:
        super().__init__()
        self.payment = payment
        self.step = step  # "charge", "otp", "void", "refund", "capture", "check"


class FlowFailed(Message):
    """The gateway refused or failed; `field` names the card field at fault, if any."""

    def __init__(
        self,
        message: str,
        step: str,
        field: str | None = None,
        *,
        payment: Payment | None = None,
    ) -> None:
        super().__init__()
        self.message = message
        self.step = step
        self.field = field
        self.payment = payment  # as stored now, when the step was about one
