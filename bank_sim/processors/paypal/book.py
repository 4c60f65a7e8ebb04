"""What the PayPal fake does with orders and payments (Orders v2 create / authorize /
capture, Payments v2 capture / void / refund), on the records of `PaypalStore`. Every
operation takes the caller's PayPal-Request-Id: the same id again answers what the
first call made and makes nothing new. Raises `PaypalError` as PayPal answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bank_sim.processors.paypal.cards import CardRefused, decide, read_card
from bank_sim.processors.paypal.errors import invalid, not_found, unprocessable
from bank_sim.processors.paypal.store import PaypalStore, Record, utc_text
from gateway_core.connectors.paypal_mapping import minor_units
from gateway_core.currencies import CURRENCIES
from gateway_core.errors import InputError
from gateway_core.money import currency_exponent

# The fake's wallet payer approving an order (no card): approved, or its funding declined.
WALLET_OK, WALLET_DECLINED = "0000", "INSTRUMENT_DECLINED"


def _minor(amount: Any, field: str) -> tuple[int, str]:
    """(minor units, currency) of PayPal's `{"currency_code", "value"}`."""
    if not isinstance(amount, dict) or "value" not in amount or "currency_code" not in amount:
        raise invalid("MISSING_REQUIRED_PARAMETER", "A required field is missing.", field)
    currency, value = str(amount["currency_code"]), str(amount["value"])
    if currency not in CURRENCIES:
        raise unprocessable("CURRENCY_NOT_SUPPORTED", "Currency code is not supported.")
    try:
        minor = minor_units(value, currency)
    except InputError:
        if value.replace(".", "", 1).isdigit():
            issue = (
                "DECIMALS_NOT_SUPPORTED"
                if currency_exponent(currency) == 0
                else "DECIMAL_PRECISION"
            )
            raise unprocessable(
                issue, f"{currency} has {currency_exponent(currency)} decimals."
            ) from None
        raise invalid(
            "INVALID_PARAMETER_SYNTAX", "The value is not a valid amount.", field
        ) from None
    if minor <= 0:
        raise unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE", "Amount must be greater than zero.")
    return minor, currency


class PaypalBook:
    """Orders and payments, and the events their changes send (`outbox`)."""

    def __init__(self, store: PaypalStore, now: Callable[[], datetime]) -> None:
        self.store = store
        self._now = now
        self.outbox: list[tuple[str, str, str]] = []  # (event type, kind, record id)

    def _stamp(self) -> str:
        return utc_text(self._now())

    def _replay(self, scope: str, request_id: str | None) -> Record | None:
        done = self.store.answered(scope, request_id)
        return None if done is None else self.store.get(done["kind"], done["id"])

    def find(self, kind: str, record_id: str, what: str) -> Record:
        record = self.store.get(kind, record_id)
        if record is None:
            raise not_found(what)
        return record

    # -- Orders v2 ---------------------------------------------------------------------
    def create_order(self, body: dict[str, Any], request_id: str | None) -> tuple[Record, bool]:
        """The order (and whether it is new). A known request id is looked up before the
        body is read, so a retry is always the first order."""
        known = self._replay("orders", request_id)
        if known is not None:
            return known, False
        intent = body.get("intent")
        if intent not in ("CAPTURE", "AUTHORIZE"):
            raise invalid(
                "INVALID_PARAMETER_VALUE", "Intent must be CAPTURE or AUTHORIZE.", "/intent"
            )
        units = body.get("purchase_units")
        if not isinstance(units, list) or not units or not isinstance(units[0], dict):
            raise invalid(
                "MISSING_REQUIRED_PARAMETER", "A purchase unit is required.", "/purchase_units"
            )
        unit = units[0]
        amount, currency = _minor(
            unit.get("amount"), "/purchase_units/@reference_id=='default'/amount"
        )
        source = body.get("payment_source") or {}
        card = source.get("card") if isinstance(source, dict) else None
        now = self._stamp()
        order: Record = {
            "id": self.store.new_id(),
            "intent": intent,
            "status": "CREATED",
            "amount": amount,
            "currency": currency,
            "reference_id": str(unit.get("reference_id") or "default"),
            "custom_id": unit.get("custom_id"),
            "invoice_id": unit.get("invoice_id"),
            "description": unit.get("description"),
            "card": None,
            "pending": None,
            "authorizations": [],
            "captures": [],
            "refunds": [],
            "create_time": now,
            "update_time": now,
        }
        if isinstance(card, dict):
            if not request_id:
                raise unprocessable(
                    "PAYPAL_REQUEST_ID_REQUIRED", "A PayPal-Request-Id is required to pay."
                )
            try:
                number, expiry, cvv, summary = read_card(card, self._now().date())
            except CardRefused as refused:
                field = f"/payment_source/card/{refused.field}"
                if refused.issue == "CARD_EXPIRED":
                    raise unprocessable("CARD_EXPIRED", refused.description) from None
                raise invalid(refused.issue, refused.description, field) from None
            decision = decide(number, expiry, cvv, summary.name, amount)
            order["card"] = summary.shown() | {"cvv_match": decision.cvv_match}
            if decision.three_ds:
                order["status"], order["pending"] = "PAYER_ACTION_REQUIRED", decision.code
            else:
                self._settle(order, decision.code)
        self.store.put("orders", order)
        self.store.remember("orders", request_id, "orders", order["id"])
        return order, True

    def approve(self, order_id: str, declined: bool) -> Record:
        """The payer approves (a wallet payer, or a card holder after 3-D Secure)."""
        order = self.find("orders", order_id, "order")
        if order["status"] not in ("CREATED", "PAYER_ACTION_REQUIRED"):
            raise unprocessable("ORDER_CANNOT_BE_APPROVED", f"The order is {order['status']}.")
        if order["pending"] is None:
            order["pending"] = WALLET_DECLINED if declined else WALLET_OK
        order["status"], order["update_time"] = "APPROVED", self._stamp()
        self.outbox.append(("CHECKOUT.ORDER.APPROVED", "orders", order_id))
        return order

    def complete_order(self, order_id: str, intent: str, request_id: str | None) -> Record:
        """`POST /v2/checkout/orders/{id}/authorize` or `/capture` of an approved order."""
        scope = f"order-{intent.lower()}"
        known = self._replay(scope, request_id)
        if known is not None:
            return known
        order = self.find("orders", order_id, "order")
        if order["intent"] != intent:
            raise unprocessable(
                "ACTION_DOES_NOT_MATCH_INTENT", f"The order intent is {order['intent']}."
            )
        if order["status"] == "COMPLETED":
            done = "ORDER_ALREADY_CAPTURED" if intent == "CAPTURE" else "ORDER_ALREADY_AUTHORIZED"
            raise unprocessable(done, "The order was already completed.")
        if order["status"] != "APPROVED":
            raise unprocessable("ORDER_NOT_APPROVED", "The payer has not yet approved the order.")
        if order["pending"] == WALLET_DECLINED:
            raise unprocessable("INSTRUMENT_DECLINED", "The instrument presented was declined.")
        self._settle(order, order["pending"] or WALLET_OK)
        self.store.remember(scope, request_id, "orders", order_id)
        return order

    def _settle(self, order: Record, code: str) -> None:
        """Authorize or capture the order's amount with the issuer's answer `code`."""
        approved = code == "0000"
        base = self._payment(order, order["amount"], code)
        if order["intent"] == "CAPTURE":
            base |= {"status": "COMPLETED" if approved else "DECLINED", "final_capture": True}
            base |= {"authorization_id": None, "refunded": 0, "refunds": []}
            self.store.put("captures", base)
            order["captures"].append(base["id"])
            event = "PAYMENT.CAPTURE.COMPLETED" if approved else "PAYMENT.CAPTURE.DENIED"
            self.outbox.append((event, "captures", base["id"]))
        else:
            expires = self._now() + timedelta(days=29)
            base |= {"status": "CREATED" if approved else "DENIED", "captured": 0, "captures": []}
            base["expiration_time"] = utc_text(expires)
            self.store.put("authorizations", base)
            order["authorizations"].append(base["id"])
            if approved:
                self.outbox.append(("PAYMENT.AUTHORIZATION.CREATED", "authorizations", base["id"]))
        order["status"], order["pending"], order["update_time"] = "COMPLETED", None, self._stamp()

    def _payment(self, order: Record, amount: int, code: str | None) -> Record:
        now = self._stamp()
        return {
            "id": self.store.new_id(),
            "order_id": order["id"],
            "amount": amount,
            "currency": order["currency"],
            "code": code if order["card"] else None,
            "custom_id": order["custom_id"],
            "invoice_id": order["invoice_id"],
            "create_time": now,
            "update_time": now,
        }

    # -- Payments v2 -------------------------------------------------------------------
    def capture_authorization(
        self, auth_id: str, body: dict[str, Any], request_id: str | None
    ) -> Record:
        known = self._replay("capture", request_id)
        if known is not None:
            return known
        auth = self.find("authorizations", auth_id, "authorization")
        refusal = {
            "VOIDED": "AUTHORIZATION_VOIDED",
            "CAPTURED": "AUTHORIZATION_ALREADY_CAPTURED",
            "DENIED": "AUTHORIZATION_DENIED",
        }.get(auth["status"])
        if refusal:
            raise unprocessable(refusal, f"The authorization is {auth['status']}.")
        left = auth["amount"] - auth["captured"]
        amount = left
        if body.get("amount") is not None:
            amount, currency = _minor(body["amount"], "/amount")
            if currency != auth["currency"]:
                raise unprocessable("CURRENCY_MISMATCH", "Currency must match the authorization.")
            if amount > left:
                raise unprocessable(
                    "MAX_CAPTURE_AMOUNT_EXCEEDED", "Amount exceeds what is left to capture."
                )
        order = self.find("orders", auth["order_id"], "order")
        final = bool(body.get("final_capture", False))
        capture = self._payment(order, amount, "0000")
        capture |= {"status": "COMPLETED", "final_capture": final, "authorization_id": auth_id}
        capture |= {"refunded": 0, "refunds": []}
        self.store.put("captures", capture)
        order["captures"].append(capture["id"])
        auth["captures"].append(capture["id"])
        auth["captured"] += amount
        whole = final or auth["captured"] == auth["amount"]
        auth["status"], auth["update_time"] = (
            ("CAPTURED" if whole else "PARTIALLY_CAPTURED"),
            self._stamp(),
        )
        self.outbox.append(("PAYMENT.CAPTURE.COMPLETED", "captures", capture["id"]))
        self.store.remember("capture", request_id, "captures", capture["id"])
        return capture

    def void_authorization(self, auth_id: str, request_id: str | None) -> Record:
        known = self._replay("void", request_id)
        if known is not None:
            return known
        auth = self.find("authorizations", auth_id, "authorization")
        refusal = {
            "VOIDED": "PREVIOUSLY_VOIDED",
            "CAPTURED": "PREVIOUSLY_CAPTURED",
            "DENIED": "CANNOT_BE_VOIDED",
        }.get(auth["status"])
        if refusal:
            raise unprocessable(refusal, f"The authorization is {auth['status']}.")
        auth["status"], auth["update_time"] = "VOIDED", self._stamp()
        order = self.find("orders", auth["order_id"], "order")
        if not order["captures"]:
            order["status"], order["update_time"] = "VOIDED", self._stamp()
        self.outbox.append(("PAYMENT.AUTHORIZATION.VOIDED", "authorizations", auth_id))
        self.store.remember("void", request_id, "authorizations", auth_id)
        return auth

    def refund_capture(
        self, capture_id: str, body: dict[str, Any], request_id: str | None
    ) -> Record:
        known = self._replay("refund", request_id)
        if known is not None:
            return known
        capture = self.find("captures", capture_id, "capture")
        if capture["status"] == "REFUNDED":
            raise unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has been fully refunded.")
        if capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED"):
            raise unprocessable("INVALID_RESOURCE_STATUS", f"The capture is {capture['status']}.")
        left = capture["amount"] - capture["refunded"]
        amount = left
        if body.get("amount") is not None:
            amount, currency = _minor(body["amount"], "/amount")
            if currency != capture["currency"]:
                raise unprocessable("REFUND_CURRENCY_MISMATCH", "Currency must match the capture.")
            if amount > left:
                raise unprocessable(
                    "REFUND_AMOUNT_EXCEEDED", "The refund amount exceeds what is left."
                )
        order = self.find("orders", capture["order_id"], "order")
        refund = self._payment(order, amount, None)
        refund |= {"status": "COMPLETED", "capture_id": capture_id}
        refund["invoice_id"] = body.get("invoice_id") or capture["invoice_id"]
        refund["note_to_payer"] = body.get("note_to_payer")
        self.store.put("refunds", refund)
        capture["refunds"].append(refund["id"])
        order["refunds"].append(refund["id"])
        capture["refunded"] += amount
        full = capture["refunded"] == capture["amount"]
        capture["status"], capture["update_time"] = (
            ("REFUNDED" if full else "PARTIALLY_REFUNDED"),
            self._stamp(),
        )
        self.outbox.append(("PAYMENT.CAPTURE.REFUNDED", "refunds", refund["id"]))
        self.store.remember("refund", request_id, "refunds", refund["id"])
        return refund
