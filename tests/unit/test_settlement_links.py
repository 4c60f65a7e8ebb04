"""Payment links in settlement, through the real link tender: the link moves no money
(no line, no attempt counted, no export row); its attempts are ordinary payments of
their methods (a declined card try, the net banking try that paid it, refunded in
part), each in its own tender's line and reconciled against its bank's file."""

from __future__ import annotations

import csv
import io

import httpx
from nb_sim_support import bank_return, through_bank
from support import MANAGER, card_input, open_runtime

from bank_sim.testcards import card_for
from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest
from gateway_core.links import pay_link
from gateway_core.payments import NetbankingInput
from gateway_core.settings import CheckoutSettings, Settings
from gateway_core.settlement import Settlement, format_reconciliation

DECLINED = card_for("4000 0000 0000 0002")


async def test_a_link_paid_by_net_banking_counts_as_net_banking(
    settings: Settings, clock: FixedClock
) -> None:
    checkout = CheckoutSettings(public_url="https://pay.example.in/")
    rt = open_runtime(settings.model_copy(update={"checkout": checkout}), clock=clock)
    gw = rt.gateway
    try:
        transport = httpx.ASGITransport(app=rt.banks.asgi_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://banks") as browser:
            link = await gw.charge(ChargeRequest(amount=700_00, currency="INR", method="link"))
            declined = await pay_link(gw, link.id, "card", card_input(DECLINED))
            attempt = await pay_link(gw, link.id, "netbanking", NetbankingInput(bank="DEMOC"))
            answer = await through_bank(browser, attempt.netbanking.login_url)
            attempt = await gw.returned(attempt.id, bank_return(answer))
            link = await gw.refresh(link.id)
            assert (link.status, link.link.paid_by) == ("succeeded", attempt.id)
            await gw.refund(attempt.id, 200_00, approval=MANAGER)
            svc = Settlement(rt.records, rt.settings, audit=rt.audit, clock=rt.clock)
            x = svc.x_report()
            assert [(ln.method, ln.brand) for ln in x.brands] == [("netbanking", "DEMOC")]
            (nb,) = x.brands
            assert (nb.gross, nb.refunds, nb.fees, nb.gst) == (700_00, 200_00, 8_00, 1_44)
            assert [(p.bank, p.amount) for p in x.payouts] == [("DEMOC", 500_00 - 8_00 - 1_44)]
            act = x.activity  # the declined card try and the paying one; not the link
            assert (act.payments, act.approved, act.declined) == (2, 1, 1)
            rows = list(csv.DictReader(io.StringIO(svc.export(svc.today(), "csv"))))
            assert {r["payment_id"] for r in rows} == {declined.id, attempt.id}
            rec = await svc.reconcile(svc.today(), gw.bank, gw.upi, gw.netbanking, [])
            assert rec.ok, format_reconciliation(rec)
            assert rec.tenders()["netbanking DEMOC"] == {"matched": 2, "breaks": 0}
            z, _ = svc.close_day(svc.today(), closed_by="meera")  # the paid link is not open
            assert z.payouts == x.payouts
    finally:
        await rt.aclose()
