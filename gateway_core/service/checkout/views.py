"""What the checkout page shows of a payment: a pending link's methods, an attempt (or a
net banking / UPI payment) waiting for the customer, a card's OTP step, the result.
Never any card data: a card attempt is named by its method only."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.responses import HTMLResponse

from gateway_core.money import Money
from gateway_core.netbanking_api import TEST_BANKS
from gateway_core.payments import Payment, UnknownPayment
from gateway_core.presentation import format_money, method_name, time_text
from gateway_core.qr import qr_code
from gateway_core.service.checkout.render import page
from gateway_core.settings import Settings

ENDED = ("declined", "canceled", "expired")
SHOWN = ("upi", "netbanking")  # shown without a link: the payments with a customer step


def merchant_name(settings: Settings, merchant_id: str) -> str:
    """The shop's name as customers know it (another merchant's: its id)."""
    return settings.merchant_name if merchant_id == settings.merchant_id else merchant_id


def shown(payment: Payment) -> Payment:
    """`payment` if the checkout shows it (a link, its attempts, a net banking or UPI
    payment), else `UnknownPayment` (a terminal's card or cash sale has no page)."""
    if payment.method == "link" or payment.link_id or payment.method in SHOWN:
        return payment
    raise UnknownPayment(f"no checkout page for payment {payment.id}")


def qr_svg_inline(link: str) -> Markup:
    """The UPI QR as inline SVG (its <title> names it for screen readers)."""
    svg = qr_code(link).svg_inline(scale=6, border=4, title="UPI QR code to pay", dark="#000")
    return Markup(svg)  # segno's own SVG markup: nothing of it comes from the customer


def link_page(settings: Settings, link: Payment, last: Payment | None) -> HTMLResponse:
    """A payment link: its methods while pending, else how it ended."""
    detail = link.link
    assert detail is not None  # a link
    common = _common(settings, link)
    if link.status == "pending":
        notice = None
        if last is not None and last.status in ENDED:
            notice = f"Not paid: {last.message or last.status_word}. Try again or another way."
        banks = []
        if "netbanking" in detail.methods:
            banks = [(code, TEST_BANKS.get(code, code)) for code in settings.netbanking.banks]
        return page(
            "choose.html",
            **common,
            title="Choose how to pay",
            deadline=time_text(detail.expires_at, settings.tz, seconds=False),
            notice=notice,
            banks=banks,
            upi="upi" in detail.methods,
            card="card" in detail.methods,
        )
    if link.status == "succeeded" and last is not None:
        return _paid(settings, last, common, detail.return_url)
    ended = {"expired": "This payment link has expired", "canceled": "This link was canceled"}
    line = ended.get(link.status, link.message or link.status_word)
    return page("result.html", **common, title="Not paid", line=f"{line}.", paid=False)


def attempt_page(settings: Settings, payment: Payment, link: Payment | None) -> HTMLResponse:
    """An attempt, or a net banking / UPI payment: its customer step, or its result."""
    common = _common(settings, payment)
    back = f"/checkout/{link.id}" if link is not None and link.status == "pending" else None
    return_url = link.link.return_url if link is not None and link.link else None
    wait = "Waiting for your payment. This page does not refresh by itself."
    if payment.status == "pending" and (upi := payment.upi) is not None and upi.link:
        return page(
            "wait.html",
            **common,
            title="Scan to pay with UPI",
            qr=qr_svg_inline(upi.link),
            intent=upi.link,
            line=wait,
            back=back,
        )
    if payment.status == "pending" and (nb := payment.netbanking) is not None and nb.login_url:
        return page(
            "wait.html",
            **common,
            title="Continue at your bank",
            bank_url=nb.login_url,
            bank_name=nb.bank_name,
            line=wait,
            back=back,
        )
    if payment.status == "requires_action":
        return page("otp.html", **common, title="Enter the code from your bank", back=back)
    if payment.status == "succeeded":
        return _paid(settings, payment, common, return_url)
    if payment.status in ENDED:
        line = payment.message or payment.status_word
        return page("result.html", **common, title="Not paid", line=line, back=back, paid=False)
    line = payment.message or "Checking with the bank"
    return page("wait.html", **common, title="Checking with the bank", line=line, back=back)


def _paid(
    settings: Settings, paid_by: Payment, common: dict[str, Any], return_url: str | None
) -> HTMLResponse:
    amount = format_money(Money(paid_by.amount, paid_by.currency))
    return page(
        "result.html",
        **common,
        title="Paid",
        line=f"Paid {amount} ({method_name(paid_by.method)}). Thank you.",
        reference=paid_by.id,
        return_url=return_url,
        paid=True,
    )


def _common(settings: Settings, payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "merchant": merchant_name(settings, payment.merchant_id),
        "amount": format_money(Money(payment.amount, payment.currency)),
    }
