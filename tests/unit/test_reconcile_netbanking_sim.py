"""Net banking reconciled against the simulated banks' own settlement files: payments
paid at two banks through their pages, refunds, a late debit refunded automatically,
all matched; the X report has a line, fee and payout per bank."""

from __future__ import annotations

import httpx
from nb_sim_support import bank_return, through_bank
from support import MANAGER, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest
from gateway_core.payments import NetbankingInput, Payment
from gateway_core.settings import Settings
from gateway_core.settlement import Settlement, format_reconciliation


def nb(amount: int, bank: str) -> ChargeRequest:
    return ChargeRequest(
        amount=amount, currency="INR", method="netbanking", netbanking=NetbankingInput(bank=bank)
    )


async def test_each_banks_file_matches_the_days_net_banking(
    settings: Settings, clock: FixedClock
) -> None:
    rt = open_runtime(settings, clock=clock)
    gw = rt.gateway
    transport = httpx.ASGITransport(app=rt.banks.asgi_app())
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://banks") as browser:

            async def paid(payment: Payment) -> Payment:
                answer = await through_bank(browser, payment.netbanking.login_url)
                return await gw.returned(payment.id, bank_return(answer))

            a = await paid(await gw.charge(nb(1_000_00, "DEMOA")))
            b = await paid(await gw.charge(nb(300_00, "DEMOB")))
            await gw.refund(a.id, 250_00, approval=MANAGER)
            late = await gw.charge(nb(70_00, "DEMOA"))
            await gw.cancel(late.id)
            late = await paid(late)  # debited after the cashier canceled: refunded
            assert late.status == "canceled" and late.netbanking.late_refund
            svc = Settlement(rt.records, rt.settings, clock=rt.clock)
            day = svc.today()
            rec = await svc.reconcile(day, gw.bank, gw.upi, gw.netbanking, [])
            assert rec.ok, format_reconciliation(rec)
            assert rec.tenders() == {
                "netbanking DEMOA": {"matched": 4, "breaks": 0},  # a, its refund, late both
                "netbanking DEMOB": {"matched": 1, "breaks": 0},
            }
            assert {e.rrn for e in rec.matched if e.ref == a.id} == {a.netbanking.bank_ref}
            x = svc.x_report(day)
            lines = {ln.brand: ln for ln in x.brands if ln.method == "netbanking"}
            assert (lines["DEMOA"].gross, lines["DEMOA"].refunds, lines["DEMOA"].fees) == (
                1_000_00,
                250_00,
                10_00,
            )
            assert (lines["DEMOB"].fees, lines["DEMOB"].gst) == (12_00, 2_16)
            assert [(p.bank, p.amount) for p in x.payouts] == [
                ("DEMOA", 1_000_00 - 250_00 - 10_00 - 1_80),
                ("DEMOB", b.amount - 12_00 - 2_16),
            ]
    finally:
        await rt.aclose()
