"""Payment links as the command line words them: a link's page, attempts and payer in
`paygate status`, an attempt's link, and a pending link's page with its QR."""

from __future__ import annotations

from gateway_core.money import Money
from gateway_core.payments import Payment
from gateway_core.presentation import format_money, time_text
from gateway_core.settings import Settings


def link_lines(payment: Payment, *, detailed: bool = False) -> list[str]:
    """A link's page (while it waits, or `detailed`), its attempts and the one that paid
    it; for an attempt, the link it tried to pay (nothing for another payment)."""
    if payment.link_id is not None:
        return [f"a try at payment link {payment.link_id}"]
    link = payment.link
    if link is None:
        return []
    lines = [f"link {link.url}"] if detailed or payment.status == "pending" else []
    if link.attempts:
        lines.append(f"attempts {', '.join(link.attempts)}")
    if link.paid_by:
        lines.append(f"paid by {link.paid_by} (refunds go to it)")
    return lines


def link_pending_lines(payment: Payment, settings: Settings) -> list[str]:
    """A pending link's page as text: who pays what by when, the page's QR, what next."""
    from gateway_core.qr import qr_text  # segno: only when a link is printed

    link = payment.link
    if link is None or payment.status != "pending":
        return []
    amount = format_money(Money(payment.amount, payment.currency))
    until = time_text(link.expires_at, settings.tz)
    return [
        f"the customer pays {amount} on the checkout page before {until}",
        "",
        *qr_text(link.url, border=2, dark_glyphs=False),
        "",
        f"then: paygate status {payment.id}   (or give up: paygate cancel {payment.id})",
    ]
