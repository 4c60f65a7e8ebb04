"""The refusals of a method that cannot do a step: a tender inherits `Refusals` to
leave out what its method does not have."""

from __future__ import annotations

from datetime import date, datetime

from gateway_core.payments import NotAllowed, Payment
from gateway_core.ports import Refunded, TenderHost


class Refusals:
    """The steps a method without them refuses: OTP, capture, void, asking for status."""

    method: str

    async def confirm(
        self, host: TenderHost, payment: Payment, answer: str, operator: str
    ) -> Payment:
        raise NotAllowed(f"a {self.method} payment has nothing to confirm")

    async def resend(self, host: TenderHost, payment: Payment, operator: str) -> Payment:
        raise NotAllowed(f"a {self.method} payment has no code to send again")

    async def capture(
        self, host: TenderHost, payment: Payment, amount: int, operator: str
    ) -> Payment:
        raise NotAllowed(f"a {self.method} payment cannot be captured")

    async def void(
        self, host: TenderHost, payment: Payment, operator: str, approver: str | None
    ) -> Payment:
        raise NotAllowed(f"a {self.method} payment cannot be voided: refund it instead")

    async def refund(
        self, host: TenderHost, payment: Payment, refund_id: str, amount: int, day: date
    ) -> Refunded:
        raise NotAllowed(f"a {self.method} payment cannot be refunded")

    async def status(self, host: TenderHost, payment: Payment, now: datetime) -> str | None:
        return None
