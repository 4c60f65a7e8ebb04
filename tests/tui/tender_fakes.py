"""A stand-in for the payment link tender while it is not on main yet (installed only
when the gateway takes no `link` payments): the link pending with its checkout page,
refreshed to expired past its deadline, canceled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gateway_core.payments import ChargeRequest, LinkDetail, Payment


class FakeLinks:
    def __init__(self, settings: Any, clock: Any) -> None:
        self.settings, self.clock = settings, clock
        self.payments: dict[str, Payment] = {}

    def link(self, req: ChargeRequest) -> Payment:
        now = self.clock.now()
        pid = f"pay_20261128_l{len(self.payments) + 1:09d}"
        payment = Payment(
            id=pid,
            status="pending",
            method="link",
            amount=req.amount,
            currency=req.currency,
            link=LinkDetail(
                url=f"http://127.0.0.1:8765/checkout/{pid}",
                expires_at=now + timedelta(seconds=900),
                methods=["netbanking", "upi", "card"],
            ),
            merchant_id=self.settings.merchant_id,
            terminal_id=req.terminal_id,
            operator=req.operator,
            message="Waiting for the customer",
            created_at=now,
            updated_at=now,
        )
        self.payments[pid] = payment
        return payment

    def refresh(self, pid: str) -> Payment:
        payment = self.payments[pid]
        if payment.status == "pending" and self.clock.now() >= payment.link.expires_at:
            payment = self.payments[pid] = payment.model_copy(update={"status": "expired"})
        return payment

    def cancel(self, pid: str) -> Payment:
        payment = self.payments[pid].model_copy(update={"status": "canceled"})
        self.payments[pid] = payment
        return payment


def install(app: Any) -> None:
    """The stand-in on the app's gateway, unless it takes links itself."""
    gateway = app.wiring.gateway()
    if "link" in gateway.tenders:
        return
    fake = FakeLinks(app.settings, app.rt.clock)
    app.fake_links = fake
    real_charge, real_get, real_refresh, real_cancel = (
        gateway.charge,
        gateway.get,
        gateway.refresh,
        gateway.cancel,
    )

    async def charge(req):
        return fake.link(req) if req.method == "link" else await real_charge(req)

    async def refresh(pid):
        return fake.refresh(pid) if pid in fake.payments else await real_refresh(pid)

    async def cancel(pid, **kw):
        return fake.cancel(pid) if pid in fake.payments else await real_cancel(pid, **kw)

    gateway.charge, gateway.refresh, gateway.cancel = charge, refresh, cancel
    gateway.get = lambda pid: fake.payments.get(pid) or real_get(pid)
