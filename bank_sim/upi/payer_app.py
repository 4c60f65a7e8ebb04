"""The payer's UPI app on the simulated network: pay a scanned link or a collect request
with a VPA and UPI PIN, decline a collect request, see the requests waiting."""

from __future__ import annotations

from bank_sim.upi.errors import UpiNotFound
from bank_sim.upi.psp import Psp
from bank_sim.upi.switch import Switch
from gateway_core.errors import InputError
from gateway_core.ports import Record
from gateway_core.upi_api import (
    CollectView,
    DeclineRequest,
    PayRequest,
    PayResult,
    upi_reason,
)
from gateway_core.upi_link import check_vpa, parse_link


class PayerApp:
    """What a payer's phone asks of the switch."""

    def __init__(self, switch: Switch, psp: Psp) -> None:
        self._switch, self._psp = switch, psp

    def pay(self, req: PayRequest) -> PayResult:
        """Approve a link or a collect request: what the app shows after the PIN."""
        if (req.link is None) == (req.request_id is None):
            raise InputError("pay either a link or a collect request (request_id)")
        self._switch.tick()
        doc = self._collect(req.request_id) if req.request_id else self._linked(req.link or "")
        return self.result(self._switch.pay(doc, req.vpa, req.pin))

    def decline(self, req: DeclineRequest) -> PayResult:
        """Decline a collect request (ZA)."""
        self._switch.tick()
        return self.result(self._switch.decline(self._collect(req.request_id), req.vpa))

    def inbox(self, vpa: str) -> list[CollectView]:
        """The collect requests waiting for `vpa`, oldest first."""
        vpa = check_vpa(vpa)
        self._switch.tick()
        return [
            CollectView(
                request_id=doc["txn_id"],
                payee_vpa=doc["payee_vpa"],
                payee_name=doc["payee_name"],
                amount=doc["amount"],
                note=doc["note"],
                expires_at=doc["expires_at"],
            )
            for doc in self._switch.open_collects(vpa)
        ]

    def _collect(self, request_id: str) -> Record:
        doc = self._switch.get(request_id)
        if doc["flow"] != "collect":
            raise UpiNotFound(f"no collect request {request_id}")
        return doc

    def _linked(self, link: str) -> Record:
        parsed = parse_link(link)
        merchant = self._psp.by_vpa(parsed.payee_vpa)
        doc = merchant and self._switch.by_reference(merchant["merchant_id"], parsed.reference)
        if not doc:
            raise UpiNotFound("no payment request for this link")
        if doc["flow"] == "collect":
            raise InputError("this payment is a collect request: pay it from the inbox")
        if parsed.amount != doc["amount"]:
            raise InputError("the link's amount does not match the payment request")
        return doc

    @staticmethod
    def result(doc: Record) -> PayResult:
        """A transaction as the payer's app shows it."""
        code = doc["response_code"]
        pending = doc["status"] == "PENDING" and code is None
        return PayResult(
            txn_id=doc["txn_id"],
            reference=doc["reference"],
            status=doc["status"],
            response_code=code,
            message="Processing: the bank has not answered yet"
            if pending
            else upi_reason(code).text,
            rrn=doc["rrn"],
            payee_vpa=doc["payee_vpa"],
            payee_name=doc["payee_name"],
            amount=doc["amount"],
        )
