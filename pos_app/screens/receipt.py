"""The receipt: plain text, 34 columns, as a thermal printer would print it.

Only what a payment may show goes on it: brand, masked card (BIN-6 and last-4 at
most), references and amounts. Never the full number, never the CVV. A UPI payment's
shows the payer's VPA masked (`ra****@okbank`) and the RRN; never the UPI PIN. A cash
payment's shows the rounding, the cash tendered and the change; a split bill's lists
every tender. The shift report prints the same way.
"""

from __future__ import annotations

import re
import textwrap
from datetime import datetime, tzinfo

from gateway_core.bill_models import Bill, BillPart
from gateway_core.currencies import CURRENCIES
from gateway_core.money import Money
from gateway_core.payments import Payment, reason_for
from gateway_core.presentation import brand_name, day_text, format_money, time_text
from gateway_core.settings import Settings
from gateway_core.shift_models import ShiftReport
from gateway_core.upi_api import upi_reason
from gateway_core.upi_link import mask_vpa
from pos_app.screens.state import SaleExtras

WIDTH = 34


def headline(payment: Payment) -> str:
    """The one word for the outcome, as the result screen shows it in large type."""
    return payment.status_word.upper()


def tone(payment: Payment) -> str:
    """success, warning or error: how the outcome is coloured."""
    word = headline(payment)
    if word in ("APPROVED", "AUTHORIZED"):
        return "success"
    if word in ("DECLINED", "UNKNOWN"):
        return "error"
    return "warning"


def reason(payment: Payment) -> str:
    """The cashier-readable reason."""
    if payment.status == "succeeded" and payment.refunds:
        refunded = format_money(Money(payment.amount_refunded, payment.currency))
        approvers = sorted({r.approver for r in payment.refunds if r.approver})
        by = f" (approved by {', '.join(approvers)})" if approvers else ""
        return f"Refunded {refunded}{by}"
    return code_text(payment)


def code_text(payment: Payment) -> str:
    """What the payment's response code means: the gateway's message, else the words of
    the code (ISO 8583 for a card, NPCI for UPI)."""
    if payment.message:
        return payment.message
    if payment.method == "upi":
        return upi_reason(payment.response_code).text
    return reason_for(payment.response_code).text


def reversal_text(payment: Payment) -> str:
    """The gateway's reversal note with amounts as money: "released 20000" → ₹200.00."""
    text = payment.reversal or ""

    def money(match: re.Match[str]) -> str:
        return f"{format_money(Money(int(match[1]), payment.currency))} released"

    return re.sub(r"\breleased (\d+)\b", money, text)


def _row(label: str, value: str) -> str:
    gap = WIDTH - len(label) - len(value)
    if gap >= 1:
        return label + " " * gap + value
    return label + "\n" + value.rjust(WIDTH)


def _center(text: str) -> list[str]:
    return [line.center(WIDTH).rstrip() for line in textwrap.wrap(text, WIDTH)] or [""]


def _rule() -> str:
    return "-" * WIDTH


def receipt_text(
    payment: Payment,
    settings: Settings,
    extras: SaleExtras | None = None,
    *,
    copy: str = "CUSTOMER COPY",
    tz: tzinfo | None = None,
) -> str:
    """The receipt of a payment as text lines of at most WIDTH columns."""

    def money(minor: int) -> str:
        return format_money(Money(minor, payment.currency))

    zone = tz if tz is not None else settings.tz
    lines = [
        *_center(settings.merchant_name),
        _row(f"MID {payment.merchant_id}", f"TID {payment.terminal_id}"),
        _row(day_text(payment.created_at, zone), time_text(payment.created_at, zone)),
        _row("Cashier", payment.operator),
        _rule(),
        _row("PRE-AUTH" if payment.capture_method == "manual" else "SALE", headline(payment)),
        *_means(payment),
        _row("Payment", payment.id),
    ]
    if payment.auth_code:
        lines.append(_row("Auth code", payment.auth_code))
    if payment.rrn:
        lines.append(_row("RRN", payment.rrn))
    if payment.stan:
        lines.append(_row("STAN", payment.stan))
    if extras and extras.reference:
        lines.append(_row("Reference", extras.reference))
    lines.append(_rule())
    tip = payment.tip or (extras.tip if extras is not None else 0)
    if tip:
        tip_label = f"Tip {extras.tip_label}" if extras and extras.tip_label else "Tip"
        lines += [_row("Amount", money(payment.amount - tip)), _row(tip_label, money(tip))]
    lines.append(_row("TOTAL", money(payment.amount)))
    lines += _cash_lines(payment)
    for refund in payment.refunds:
        by = f" ({refund.approver})" if refund.approver else ""
        lines.append(_row(f"Refunded{by}", "-" + money(refund.amount)))
    lines.append(_rule())
    code = payment.response_code or "--"
    lines += textwrap.wrap(f"Response {code} {reason(payment)}", WIDTH)
    if payment.reversal:
        lines += textwrap.wrap(f"Reversal: {reversal_text(payment)}", WIDTH)
    if payment.voided_by:
        approver = f", approved by {payment.approved_by}" if payment.approved_by else ""
        lines += textwrap.wrap(f"Voided by {payment.voided_by}{approver}", WIDTH)
    if headline(payment) in ("APPROVED", "AUTHORIZED"):
        lines += ["", *_center("No signature required")]
    lines += _center(f"** {copy} **")
    return "\n".join(line.rstrip() for line in lines)


def _means(payment: Payment) -> list[str]:
    """The receipt's lines about what paid: the card, or the UPI flow, payer and payee."""
    if payment.cash is not None:
        return [_row("Paid by", "Cash")]
    if payment.card is not None:
        return [
            _row("Card type", brand_text(payment)),
            _row("Card", payment.card.masked),
            _row("Entry", "keyed"),
        ]
    upi = payment.upi
    if upi is None:
        return [_row("Paid by", brand_text(payment))]
    lines = [_row("Paid by", f"UPI {upi.flow.upper()}")]
    if upi.payer_vpa:
        lines.append(_row("UPI ID", mask_vpa(upi.payer_vpa)))
    lines.append(_row("To", upi.payee_vpa))
    return lines  # the RRN follows (the payer's bank's reference); the txn id is too wide


def brand_text(payment: Payment) -> str:
    """ "Visa credit", "RuPay debit": the brand as people write it, and the funding
    ("UPI" for a UPI payment)."""
    if payment.card is None:
        words = {"upi": "UPI", "cash": "Cash", "link": "Payment link"}
        return words.get(payment.method) or brand_name(payment.brand)
    name = brand_name(payment.card.brand)
    return f"{name} {payment.funding}" if payment.funding else name


def paid_with(payment: Payment) -> str:
    """What paid, in a few words: the masked card, or "UPI" and the payer's VPA masked."""
    if payment.card is not None:
        return payment.card.masked
    upi = payment.upi
    if upi is not None and upi.payer_vpa:
        return f"UPI {mask_vpa(upi.payer_vpa)}"
    cash = payment.cash
    if cash is not None and cash.change:
        return f"Cash, change {format_money(Money(cash.change, payment.currency))}"
    return brand_text(payment)


def _cash_lines(payment: Payment) -> list[str]:
    """A cash payment's rounding (its own line), the cash due, tendered and change."""
    cash = payment.cash
    if cash is None:
        return []

    def money(minor: int) -> str:
        return format_money(Money(minor, payment.currency))

    lines = []
    if cash.rounding:
        sign = "+" if cash.rounding > 0 else "-"
        lines += [
            _row("Rounding", sign + money(abs(cash.rounding))),
            _row("Cash due", money(payment.amount + cash.rounding)),
        ]
    return [*lines, _row("Tendered", money(cash.tendered)), _row("Change", money(cash.change))]


PART_WORDS = {"succeeded": "paid", "pending": "waiting", "requires_action": "waiting"}


def part_word(part: BillPart) -> str:
    """How a bill's part stands, in a word: paid, declined, waiting, refunded..."""
    if part.refunded:
        return "refunded"
    return PART_WORDS.get(part.status, part.status.replace("_", " "))


def part_line(part: BillPart, currency: str) -> str:
    """A bill's part on the Split screen: how it stands, its amount, its tender."""
    amount = format_money(Money(part.amount, currency))
    return f"{part_word(part):<9}{amount:>11}  {part.label}"


def bill_receipt_text(
    bill: Bill,
    settings: Settings,
    *,
    copy: str = "CUSTOMER COPY",
    tz: tzinfo | None = None,
) -> str:
    """A split bill's receipt: every tender, paid or not, and the total."""
    zone = tz if tz is not None else settings.tz

    def money(minor: int) -> str:
        return format_money(Money(minor, bill.currency))

    lines = [
        *_center(settings.merchant_name),
        _row(f"MID {bill.merchant_id}", f"TID {bill.terminal_id}"),
        _row(day_text(bill.created_at, zone), time_text(bill.created_at, zone)),
        _row("Cashier", bill.operator),
        _rule(),
        _row("SPLIT BILL", bill.status.upper()),
        _row("Bill", bill.id),
        _rule(),
    ]
    for part in bill.parts:
        lines.append(_row(part.label, money(part.amount)))
        word = part_word(part)
        detail = f"  {part.payment_id}" + ("" if word == "paid" else f" {word}")
        lines.append(detail)
        if part.change:
            lines.append(_row("  change", money(part.change)))
    lines += [_rule(), _row("TOTAL", money(bill.amount)), _row("Paid", money(bill.paid))]
    if bill.balance and bill.status == "open":
        lines.append(_row("Balance due", money(bill.balance)))
    if bill.approved_by:
        lines += textwrap.wrap(
            f"Canceled by {bill.canceled_by}, approved by {bill.approved_by}", WIDTH
        )
    lines += ["", *_center(f"** {copy} **")]
    return "\n".join(line.rstrip() for line in lines)


def denomination_label(value: int, currency: str) -> str:
    """₹500, ₹2, $0.25: a note or coin as people write it."""
    money = format_money(Money(value, currency))
    return money.split(".")[0] if value % 10 ** CURRENCIES[currency].exponent == 0 else money


def over_short_word(diff: int) -> str:
    """OVER, SHORT or BALANCED: a counted drawer against what it should hold."""
    return "OVER" if diff > 0 else "SHORT" if diff < 0 else "BALANCED"


def shift_report_text(
    report: ShiftReport, settings: Settings, *, copy: str = "SHIFT REPORT", tz: tzinfo | None = None
) -> str:
    """A shift's report as the till prints it: the float, the drawer's moves by kind,
    expected against counted and over / short, WIDTH columns at most."""
    shift = report.shift
    zone = tz if tz is not None else settings.tz

    def money(minor: int) -> str:
        return format_money(Money(minor, shift.currency))

    def when(label: str, moment: datetime | None) -> list[str]:
        if moment is None:
            return []
        return [_row(label, f"{day_text(moment, zone)} {time_text(moment, zone, seconds=False)}")]

    lines = [
        *_center(settings.merchant_name),
        *_center(copy),
        _row(f"MID {shift.merchant_id}", f"TID {shift.terminal_id}"),
        _row("Shift", shift.id),
        _row("Cashier", shift.cashier),
        *when("Opened", shift.opened_at),
        *when("Closed", shift.closed_at),
        _rule(),
        _row("Float", money(shift.float_amount)),
        _row(f"Cash sales ({report.sales_count})", money(report.sales)),
    ]
    if report.rounding:
        lines.append(_row("  of which rounding", money(report.rounding)))
    if report.refunds_count:
        lines.append(_row(f"Refunds ({report.refunds_count})", "-" + money(report.refunds)))
    if report.paid_in:
        lines.append(_row("Paid in", money(report.paid_in)))
    if report.paid_out:
        lines.append(_row("Paid out", "-" + money(report.paid_out)))
    lines += [_rule(), _row("Expected", money(report.expected))]
    if shift.counted is None:
        lines.append(_row("Counted", "not counted" if shift.status == "closed" else "open"))
    else:
        diff = shift.over_short or 0
        lines += [
            _row("Counted", money(shift.counted)),
            _row(over_short_word(diff).title(), money(abs(diff))),
        ]
        for value, pieces in sorted((shift.closing or {}).items(), reverse=True):
            label = denomination_label(value, shift.currency)
            lines.append(_row(f"  {pieces} × {label}", money(value * pieces)))
    if shift.closed_by:
        lines.append(_row("Closed by", shift.closed_by))
    if shift.approved_by:
        lines.append(_row("Short approved by", shift.approved_by))
    return "\n".join(line.rstrip() for line in lines)
