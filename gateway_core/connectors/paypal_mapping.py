"""PayPal's words in paygate's: amounts (PayPal's decimal strings with each currency's
decimals), order / authorization / capture / refund statuses, and the card processor
response codes (through `payments.response_code_for`, so paygate keeps one code table).
No SDK import here: the PayPal fake in bank_sim shares the amount rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from gateway_core.errors import InputError
from gateway_core.money import currency_exponent, parse_amount
from gateway_core.payments import reason_for, response_code_for
from gateway_core.ports.connectors import ConnectorResult

APPROVED = "0000"

# PayPal processor_response.response_code -> paygate's decline code (a `decline_code` of
# payments.RESPONSE_CODES; `response_code_for` turns it into DE39). A code not listed is a
# generic decline ("05").
DECLINE_FOR_PROCESSOR_CODE: dict[str, str] = {
    "00N7": "incorrect_cvc",
    "5110": "incorrect_cvc",  # CVV2_FAILURE
    "1382": "incorrect_cvc",  # INVALID_CARD_VERIFICATION_VALUE
    "PCVV": "incorrect_cvc",
    "0100": "do_not_honor",  # REFERRAL
    "0500": "do_not_honor",
    "0580": "do_not_honor",  # UNAUTHORIZED_TRANSACTION
    "10BR": "do_not_honor",  # ISSUER_REJECTED
    "1000": "do_not_honor",  # PARTIAL_AUTHORIZATION (not taken)
    "5100": "do_not_honor",  # GENERIC_DECLINE
    "5140": "do_not_honor",  # CARD_CLOSED
    "5160": "do_not_honor",  # UNAUTHORIZED_USER
    "5930": "do_not_honor",  # CARD_NOT_ACTIVATED
    "9500": "do_not_honor",  # SUSPECTED_FRAUD
    "9510": "do_not_honor",  # SECURITY_VIOLATION
    "9540": "do_not_honor",  # REFUSED_CARD
    "5120": "insufficient_funds",
    "5400": "expired_card",
    "1380": "expired_card",  # INVALID_EXPIRATION
    "9520": "lost_card",  # LOST_OR_STOLEN
    "5150": "stolen_card",  # PICKUP_CARD_SPECIAL_CONDITIONS
    "0390": "invalid_number",  # ACCOUNT_NOT_FOUND
    "1330": "invalid_number",  # INVALID_ACCOUNT
    "6300": "invalid_number",  # ACCOUNT_NOT_ON_FILE
    "1310": "invalid_amount",
    "5130": "incorrect_pin",
    "5500": "incorrect_pin",
    "0890": "incorrect_pin",
    "5135": "pin_try_exceeded",
    "1312": "transaction_not_allowed",
    "5180": "transaction_not_allowed",  # INVALID_OR_RESTRICTED_CARD
    "5210": "transaction_not_allowed",
    "5700": "transaction_not_allowed",
    "5710": "withdrawal_count_limit_exceeded",  # TX_ATTEMPTS_EXCEED_LIMIT
    "5650": "authentication_required",  # DECLINED_SCA_REQUIRED
    "7700": "authentication_required",  # ERROR_3DS
    "7710": "authentication_required",  # AUTHENTICATION_FAILED
    "5200": "duplicate_transaction",
    "5910": "issuer_not_available",
    "5920": "issuer_not_available",
    "9100": "issuer_not_available",  # DECLINED_PLEASE_RETRY
    "1320": "invalid_request",  # INVALID_CURRENCY_CODE
    "1300": "invalid_request",
    "1384": "invalid_request",
    "1390": "invalid_request",
    "1393": "invalid_request",
    "0800": "processing_error",
    "0960": "processing_error",
    "1340": "processing_error",  # INVALID_TERMINAL
    "1350": "processing_error",  # INVALID_MERCHANT
    "8000": "processing_error",
    "8010": "processing_error",
    "8020": "processing_error",
    "8030": "processing_error",
    "8100": "processing_error",
    "8110": "processing_error",
    "8220": "processing_error",
    "9600": "processing_error",
}

# A 422's `details[].issue` that is a decline of the card (not a request error).
DECLINE_FOR_ISSUE: dict[str, str] = {
    "INSTRUMENT_DECLINED": "do_not_honor",
    "TRANSACTION_REFUSED": "do_not_honor",
    "CARD_CLOSED": "do_not_honor",
    "CARD_EXPIRED": "expired_card",
    "PAYER_CANNOT_PAY": "do_not_honor",
}

_CAPTURED = ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")  # a capture's money was taken
_WAITING_TEXT = {"PAYER_ACTION_REQUIRED": "3-D Secure: the cardholder authenticates"}


def paypal_value(minor: int, currency: str) -> str:
    """Minor units as PayPal's decimal string (1050 USD -> "10.50", 1000 JPY -> "1000")."""
    exponent = currency_exponent(currency)
    if exponent == 0:
        return str(minor)
    whole, frac = divmod(minor, 10**exponent)
    return f"{whole}.{frac:0{exponent}d}"


def minor_units(value: str, currency: str) -> int:
    """PayPal's decimal string as minor units; `InputError` when it has more decimals
    than the currency or is not a plain non-negative number."""
    if not value or not all(ch.isdigit() or ch == "." for ch in value):
        raise InputError(f"not a PayPal amount: {value[:20]!r}")
    return parse_amount(value, currency, allow_zero=True).minor


def code_result(processor_code: str | None) -> tuple[str, str | None]:
    """paygate's (response code, decline code) for a processor response code."""
    if processor_code in (None, APPROVED):
        return "00", None
    code = response_code_for(DECLINE_FOR_PROCESSOR_CODE.get(processor_code))
    return code, reason_for(code).decline_code


def _money(item: Mapping[str, Any]) -> int:
    amount = item.get("amount") or {}
    return minor_units(str(amount.get("value", "0")), str(amount.get("currency_code", "USD")))


def _processor_code(item: Mapping[str, Any]) -> str | None:
    response = item.get("processor_response") or {}
    code = response.get("response_code")
    return str(code) if code is not None else None


def _link(order: Mapping[str, Any], *rels: str) -> str | None:
    for link in order.get("links") or []:
        if link.get("rel") in rels:
            return str(link.get("href"))
    return None


def order_result(order: Mapping[str, Any]) -> ConnectorResult:
    """Where a PayPal order stands (Orders v2 `GET /v2/checkout/orders/{id}`)."""
    reference, status = str(order["id"]), str(order.get("status", ""))
    unit = (order.get("purchase_units") or [{}])[0]
    payments = unit.get("payments") or {}
    auths = payments.get("authorizations") or []
    captures = payments.get("captures") or []
    refunds = payments.get("refunds") or []
    captured = sum(_money(c) for c in captures if c.get("status") in _CAPTURED)
    refunded = sum(_money(r) for r in refunds if r.get("status") in ("COMPLETED", "PENDING"))
    last = (captures or auths or [{}])[-1]
    word = str(last.get("status") or status)
    base = ConnectorResult(
        "pending",
        reference,
        "00",
        f"PayPal order {status}",
        amount_captured=captured,
        amount_refunded=refunded,
        provider_status=f"{status} {word}" if word != status else status,
    )
    if status in ("CREATED", "PAYER_ACTION_REQUIRED", "SAVED"):
        url = _link(order, "payer-action", "approve")
        text = _WAITING_TEXT.get(status, "Waiting for the payer to approve at PayPal")
        return replace(
            base, status="requires_action", response_code="1A", message=text, action_url=url
        )
    if status == "APPROVED":
        return replace(base, message="Approved by the payer")
    if status == "VOIDED" or (word == "VOIDED" and not captured):
        return replace(base, status="canceled", message="Voided")
    if captured:
        return replace(base, status="succeeded", message="Approved", provider_code=APPROVED)
    if word in ("DECLINED", "DENIED", "FAILED"):
        refusal = declined(reference, word, _processor_code(last) or "5100")
        return replace(refusal, provider_status=base.provider_status)
    if word == "CREATED" and auths:
        return replace(base, status="requires_capture", message="Approved", provider_code=APPROVED)
    return base


def declined(reference: str, issue: str, processor_code: str | None) -> ConnectorResult:
    """A declined capture, or a 422 that declines the card (`DECLINE_FOR_ISSUE`)."""
    if processor_code:
        code, decline = code_result(processor_code)
    else:
        code = response_code_for(DECLINE_FOR_ISSUE.get(issue, "do_not_honor"))
        decline = reason_for(code).decline_code
    return ConnectorResult(
        "declined",
        reference,
        code,
        reason_for(code).text,
        decline_code=decline,
        provider_status=issue,
        provider_code=processor_code or issue,
    )


# The local fake's own test client (id, secret), which the connector uses when no
# base_url is set (a configured client is sent only to the base_url configured), and its
# webhook id when the settings name none.
FAKE_CLIENT = ("paygate-fake-client", "paygate-fake-secret")
FAKE_WEBHOOK_ID = "WH-PAYGATE-FAKE"


def event_result(
    event_type: str, resource: Mapping[str, Any]
) -> tuple[str, ConnectorResult | None]:
    """(the order id, where it stands) a Payments v2 webhook tells; a refund's event
    tells the refund only (result None)."""
    related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
    reference = str(related.get("order_id") or resource.get("id"))
    status = str(resource.get("status", ""))
    if event_type == "PAYMENT.CAPTURE.COMPLETED":
        result = ConnectorResult(
            "succeeded",
            reference,
            "00",
            "Approved",
            amount_captured=_money(resource),
            provider_status=status,
        )
    elif event_type in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
        result = declined(reference, status, _processor_code(resource))
    elif event_type == "PAYMENT.AUTHORIZATION.CREATED":
        result = ConnectorResult(
            "requires_capture", reference, "00", "Approved", provider_status=status
        )
    elif event_type == "PAYMENT.AUTHORIZATION.VOIDED":
        result = ConnectorResult("canceled", reference, "00", "Voided", provider_status=status)
    elif event_type.startswith("CHECKOUT.ORDER."):  # the resource is the order
        return str(resource.get("id")), None
    elif event_type == "PAYMENT.CAPTURE.PENDING":
        result = ConnectorResult("pending", reference, "00", "Pending", provider_status=status)
    else:
        result = None
    return reference, result
