"""The Razorpay fake's entities as Razorpay shapes them (a payment, its card, its
error fields, the S2S answer's next steps) and its checks of request fields."""

from __future__ import annotations

from typing import Any

from bank_sim.processors.razorpay import issuer
from bank_sim.processors.razorpay.errors import RazorpayError
from bank_sim.processors.razorpay.ledger import Entity, public
from bank_sim.processors.razorpay.webhooks import new_id
from gateway_core.currencies import CURRENCIES


def amount_of(body: Entity, field: str = "amount") -> int:
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RazorpayError(f"The {field} must be an integer at least 1", field=field)
    return value


def text_of(body: Entity, field: str, limit: int = 255) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise RazorpayError(f"The {field} field is required.", field=field)
    if len(value) > limit:
        raise RazorpayError(f"The {field} may not be greater than {limit} characters.", field=field)
    return value


def notes_of(body: Entity) -> dict[str, Any] | list[Any]:
    """A request's `notes` (Razorpay answers `[]` for none)."""
    notes = body.get("notes")
    return notes if isinstance(notes, dict | list) and notes else []


def card_fields(body: Entity) -> tuple[str, tuple[int, int], str | None]:
    """A payment request's card: its digits, expiry (month, 4-digit year) and CVV."""
    card = body.get("card")
    if not isinstance(card, dict):
        raise RazorpayError("The card field is required.", field="card")
    number, cvv = card.get("number"), card.get("cvv")
    if not isinstance(number, str) or not number.isdigit():
        raise RazorpayError(
            "The card number is invalid", field="card[number]", reason="card_number_invalid"
        )
    try:
        month, year = int(str(card.get("expiry_month"))), int(str(card.get("expiry_year")))
    except ValueError:
        raise RazorpayError("The card expiry is invalid", field="card[expiry_month]") from None
    if not 1 <= month <= 12:
        raise RazorpayError("The card expiry is invalid", field="card[expiry_month]")
    if cvv is not None and not (isinstance(cvv, str) and cvv.isdigit()):
        raise RazorpayError("The card cvv is invalid", field="card[cvv]", reason="incorrect_cvv")
    return number, (month, year if year > 99 else 2000 + year), cvv


def upi_vpa(body: Entity) -> str | None:
    """A UPI request's payer VPA (a collect), or None for an intent."""
    upi = body.get("upi")
    upi = upi if isinstance(upi, dict) else {}
    if upi.get("flow") == "intent":
        return None
    vpa = upi.get("vpa", body.get("vpa"))
    if not isinstance(vpa, str) or not vpa:
        raise RazorpayError("The vpa field is required.", field="upi[vpa]")
    return vpa


def upi_link(payment: Entity) -> str:
    """The intent's `upi://pay` link for `payment` (the amount in major units, exact)."""
    exponent = CURRENCIES[payment["currency"]].exponent
    major, minor = divmod(payment["amount"], 10**exponent)
    amount = f"{major}.{minor:0{exponent}d}" if exponent else str(major)
    return (
        f"upi://pay?pa=paygate@razorpay&pn=Paygate&tr={payment['id']}"
        f"&am={amount}&cu={payment['currency']}"
    )


def new_payment(order: Entity, body: Entity, now: int, seq: int) -> Entity:
    """A `created` payment on `order` (the order counts the attempt)."""
    order["attempts"] += 1
    order["status"] = "attempted"
    return {
        "id": new_id("pay_"),
        "entity": "payment",
        "amount": order["amount"],
        "currency": order["currency"],
        "status": "created",
        "order_id": order["id"],
        "invoice_id": None,
        "international": False,
        "method": body["method"],
        "amount_refunded": 0,
        "refund_status": None,
        "captured": False,
        "description": body.get("description"),
        "card_id": None,
        "card": None,
        "bank": None,
        "wallet": None,
        "vpa": None,
        "email": body["email"],
        "contact": body["contact"],
        "notes": notes_of(body),
        "fee": None,
        "tax": None,
        "error_code": None,
        "error_description": None,
        "error_source": None,
        "error_step": None,
        "error_reason": None,
        "acquirer_data": {},
        "created_at": now,
        "_seq": seq,
    }


def note_of(entity: Entity, name: str) -> object:
    notes = entity.get("notes")
    return notes.get(name) if isinstance(notes, dict) else None


def card_entity(check: issuer.CardCheck) -> Entity:
    return {
        "id": new_id("card_"),
        "entity": "card",
        "name": "",
        "last4": check.last4,
        "network": check.network,
        "type": "credit",
        "issuer": None,
        "international": check.international,
        "emi": False,
        "sub_type": "consumer",
        "_bin6": check.bin6,
    }


def served_payment(payment: Entity) -> Entity:
    served = public(payment)
    if isinstance(served.get("card"), dict):
        served["card"] = public(served["card"])
        served["card_id"] = served["card"]["id"]
    return served


def decline_fields(decline: issuer.Decline | None) -> dict[str, Any]:
    if decline is None:
        return {}
    return {
        "error_code": "BAD_REQUEST_ERROR",
        "error_description": decline.description,
        "error_source": decline.source,
        "error_step": decline.step,
        "error_reason": decline.reason,
    }


def otp_actions(base: str, payment_id: str) -> list[Entity]:
    url = f"{base}/v1/payments/{payment_id}"
    return [
        {"action": "otp_submit", "url": f"{url}/otp/submit"},
        {"action": "otp_resend", "url": f"{url}/otp/resend"},
        {"action": "redirect", "url": f"{url}/authenticate"},
    ]
