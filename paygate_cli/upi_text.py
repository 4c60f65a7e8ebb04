"""How the command line shows UPI: a payment's tender and UPI lines, the block a cashier
reads out of a pending payment (link, QR, amount, merchant, expiry, how to pay), a payer
app's answer, and the test VPAs. Payer VPAs are shown masked; a UPI PIN never is."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from gateway_core.money import Money
from gateway_core.payments import Payment
from gateway_core.presentation import brand_name, format_money, method_name, time_text
from gateway_core.qr import qr_text
from gateway_core.settings import Settings
from gateway_core.upi_api import TEST_PIN, TEST_VPAS, PayResult, TestPayer
from gateway_core.upi_link import mask_vpa, parse_link
from paygate_cli.netbanking_text import nb_tender_text

FLOW_NAMES = {"qr": "QR", "intent": "intent", "collect": "collect"}


def tender_text(payment: Payment) -> str:
    """ "Visa 4242 42•• •••• 4242", "UPI ra****@okbank" (the payer, masked) or "UPI QR"."""
    if payment.card is not None:
        return f"{brand_name(payment.card.brand)} {payment.card.masked}"
    if payment.upi is not None:
        payer = payment.upi.payer_vpa
        return f"UPI {mask_vpa(payer) if payer else FLOW_NAMES[payment.upi.flow]}"
    return nb_tender_text(payment) or method_name(payment.method)


def _until(moment: datetime, settings: Settings) -> str:
    return time_text(moment, settings.tz)


def upi_lines(payment: Payment, settings: Settings, *, detailed: bool = False) -> list[str]:
    """A UPI payment's flow, payee, payer (masked) and switch txn id; its expiry and the
    status checks made and due (while it waits, or `detailed`)."""
    upi = payment.upi
    if upi is None:
        return []
    parts = [f"upi {FLOW_NAMES[upi.flow]}", f"to {upi.payee_vpa}"]
    if upi.payer_vpa:
        parts.append(f"payer {mask_vpa(upi.payer_vpa)}")
    if upi.txn_id:
        parts.append(f"txn {upi.txn_id}")
    lines = ["  ".join(parts)]
    if detailed or payment.status == "pending":
        checks = f"expires {_until(upi.expires_at, settings)}  "
        checks += f"status checks {upi.checks} of {settings.upi.max_checks}"
        if upi.next_check_at is not None:
            checks += f", next at {_until(upi.next_check_at, settings)}"
        lines.append(checks)
    if upi.late_refund:
        lines.append(f"a late credit was refunded to the payer: refund {upi.late_refund}")
    return lines


def pending_lines(payment: Payment, settings: Settings, *, qr: bool) -> list[str]:
    """What to do with a pending UPI payment: for a QR or intent its link (and, with `qr`,
    the QR in text, light modules drawn for a dark terminal), the amount, the merchant,
    the expiry and how the simulated payer app pays it; for a collect, the payer asked."""
    upi = payment.upi
    if upi is None or payment.status != "pending":
        return []
    amount = format_money(Money(payment.amount, payment.currency))
    until = _until(upi.expires_at, settings)
    if upi.link is None:  # a collect request, waiting in the payer's app
        payer = upi.payer_vpa or "the payer"
        request = upi.txn_id or "REQUEST-ID"
        return [
            f"collect request for {amount} sent to {mask_vpa(payer)}; it expires at {until}",
            f"the payer sees it in `paygate upi inbox --vpa {payer}` and pays it with "
            f"`paygate upi pay {request} --vpa {payer} --pin {TEST_PIN}`",
            f"then: paygate status {payment.id}   (or give up: paygate cancel {payment.id})",
        ]
    merchant = parse_link(upi.link).payee_name
    lines = [f"pay {amount} to {merchant} ({upi.payee_vpa}) by UPI before {until}"]
    if qr:
        lines += ["", *qr_text(upi.link, border=2, dark_glyphs=False), ""]
    lines += [
        f"link {upi.link}",
        f"to pay: paygate upi pay '{upi.link}' --vpa success@payer --pin {TEST_PIN}",
        f"then: paygate status {payment.id}   (or give up: paygate cancel {payment.id})",
    ]
    return lines


def pay_result_lines(result: PayResult) -> list[str]:
    """The payer app's answer: one line for a decline, the RRN and txn id for the rest."""
    amount = format_money(Money(result.amount, "INR"))
    code = result.response_code or "--"
    to = f"{amount} to {result.payee_name} ({result.payee_vpa})"
    if result.status == "FAILURE":
        return [f"DECLINED {code}  {result.message}  ({to})"]
    word = {"SUCCESS": "PAID", "DEEMED": "DEBITED, NOT CONFIRMED"}.get(result.status)
    lines = [f"{word or result.status}  {to}", f"{code}  {result.message}"]
    refs = [f"rrn {result.rrn}"] if result.rrn else []
    lines.append("  ".join([*refs, f"txn {result.txn_id}", f"ref {result.reference}"]))
    return lines


def test_vpa_rows() -> list[tuple[str, str, str]]:
    """(UPI ID, PIN, behaviour) of each test payer every simulated bank holds."""
    return [(vpa, TEST_PIN, does) for vpa, does in TEST_VPAS.items()]


def payer_rows(payers: Iterable[TestPayer]) -> list[tuple[str, str, str, str]]:
    """(UPI ID, bank, balance now, behaviour) of the banks' test payers."""
    return [(p.vpa, p.bank, format_money(Money(p.balance, "INR")), p.behaviour) for p in payers]
