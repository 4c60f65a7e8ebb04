"""The PayPal fake's records in PayPal's JSON shapes (Orders v2 order, Payments v2
authorization, capture and refund), with their HATEOAS links under `base` (the fake's
root as the SDK sees it, e.g. http://127.0.0.1:8600/paypal)."""

from __future__ import annotations

from typing import Any

from bank_sim.processors.paypal.store import PaypalStore, Record
from gateway_core.connectors.paypal_mapping import paypal_value

Json = dict[str, Any]


def money(minor: int, currency: str) -> Json:
    return {"currency_code": currency, "value": paypal_value(minor, currency)}


def _link(href: str, rel: str, method: str = "GET") -> Json:
    return {"href": href, "rel": rel, "method": method}


def _common(record: Record) -> Json:
    shown: Json = {"id": record["id"], "status": record["status"]}
    shown["amount"] = money(record["amount"], record["currency"])
    for key in ("custom_id", "invoice_id"):
        if record.get(key):
            shown[key] = record[key]
    return shown


def _processor(record: Record, card: Json | None) -> Json:
    if record.get("code") is None or card is None:
        return {}
    cvv = "M" if card.get("cvv_match", True) else "N"
    return {
        "processor_response": {"avs_code": "Y", "cvv_code": cvv, "response_code": record["code"]}
    }


def _times(record: Record) -> Json:
    return {"create_time": record["create_time"], "update_time": record["update_time"]}


def authorization(store: PaypalStore, record: Record, base: str) -> Json:
    order = store.get("orders", record["order_id"]) or {}
    href = f"{base}/v2/payments/authorizations/{record['id']}"
    shown = _common(record) | _processor(record, order.get("card"))
    shown["expiration_time"] = record["expiration_time"]
    shown["supplementary_data"] = {"related_ids": {"order_id": record["order_id"]}}
    shown["links"] = [
        _link(href, "self"),
        _link(f"{href}/capture", "capture", "POST"),
        _link(f"{href}/void", "void", "POST"),
        _link(f"{base}/v2/checkout/orders/{record['order_id']}", "up"),
    ]
    return shown | _times(record)


def capture(store: PaypalStore, record: Record, base: str) -> Json:
    order = store.get("orders", record["order_id"]) or {}
    href = f"{base}/v2/payments/captures/{record['id']}"
    shown = _common(record) | _processor(record, order.get("card"))
    if record["status"] == "DECLINED":
        shown["status_details"] = {"reason": "DECLINED_BY_RISK_FRAUD_FILTERS"}
    shown["final_capture"] = record["final_capture"]
    shown["seller_protection"] = {"status": "NOT_ELIGIBLE"}
    related = {"order_id": record["order_id"]}
    if record.get("authorization_id"):
        related["authorization_id"] = record["authorization_id"]
    shown["supplementary_data"] = {"related_ids": related}
    up = (
        f"{base}/v2/payments/authorizations/{record['authorization_id']}"
        if record.get("authorization_id")
        else f"{base}/v2/checkout/orders/{record['order_id']}"
    )
    shown["links"] = [
        _link(href, "self"),
        _link(f"{href}/refund", "refund", "POST"),
        _link(up, "up"),
    ]
    return shown | _times(record)


def refund(store: PaypalStore, record: Record, base: str) -> Json:
    shown = _common(record)
    if record.get("note_to_payer"):
        shown["note_to_payer"] = record["note_to_payer"]
    related = {"order_id": record["order_id"], "capture_id": record["capture_id"]}
    shown["supplementary_data"] = {"related_ids": related}
    shown["links"] = [
        _link(f"{base}/v2/payments/refunds/{record['id']}", "self"),
        _link(f"{base}/v2/payments/captures/{record['capture_id']}", "up"),
    ]
    return shown | _times(record)


def order(store: PaypalStore, record: Record, base: str) -> Json:
    href = f"{base}/v2/checkout/orders/{record['id']}"
    unit: Json = {
        "reference_id": record["reference_id"],
        "amount": money(record["amount"], record["currency"]),
        "payee": {"merchant_id": "PAYGATEFAKEMERCH", "email_address": "merchant@example.com"},
    }
    for key in ("custom_id", "invoice_id", "description"):
        if record.get(key):
            unit[key] = record[key]
    payments: Json = {}
    for kind, render in (
        ("authorizations", authorization),
        ("captures", capture),
        ("refunds", refund),
    ):
        items = [store.get(kind, item_id) for item_id in record[kind]]
        if items:
            payments[kind] = [render(store, item, base) for item in items if item]
    if payments:
        unit["payments"] = payments
    shown: Json = {"id": record["id"], "intent": record["intent"], "status": record["status"]}
    if record.get("card"):
        card = {k: v for k, v in record["card"].items() if k != "cvv_match"}
        shown["payment_source"] = {"card": card}
    shown["purchase_units"] = [unit]
    links = [_link(href, "self")]
    if record["status"] == "CREATED":
        links.append(_link(f"{base}/checkoutnow?token={record['id']}", "approve"))
    if record["status"] == "PAYER_ACTION_REQUIRED":
        links.append(_link(f"{base}/checkoutnow?token={record['id']}", "payer-action"))
    if record["status"] == "APPROVED":
        verb = "capture" if record["intent"] == "CAPTURE" else "authorize"
        links.append(_link(f"{href}/{verb}", verb, "POST"))
    shown["links"] = links
    return shown | _times(record)


RENDER = {"orders": order, "authorizations": authorization, "captures": capture, "refunds": refund}
