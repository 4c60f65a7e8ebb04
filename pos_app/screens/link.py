"""The payment link tender: the checkout page's address as a QR (the customer pays on
their phone by card, UPI or net banking), its countdown, and the status as the link's
attempts come in. The UPI screen with the link's words (`UpiScreen`'s hooks): the
desk refreshes it every second and moves on to the result once it is final; Esc
cancels it."""

from __future__ import annotations

from datetime import datetime

from gateway_core.payments import Payment
from pos_app.screens.base import while_shown
from pos_app.screens.upi import UpiScreen
from pos_app.widgets.line import Line

METHOD_WORDS = {"card": "card", "upi": "UPI", "netbanking": "net banking"}


class LinkScreen(UpiScreen):
    """The customer scans the checkout page's QR and pays there."""

    TITLE_TEXT = "Payment link"
    PANEL_TITLE = "Pay by link"
    EXPIRES = "Link expires in"
    EXPIRED = "The link has expired: checking its payments…"

    @property
    def has_phone(self) -> bool:
        return False  # the customer's own phone opens the page

    def qr_link(self, payment: Payment) -> str | None:
        return payment.link.url if payment.link is not None else None

    def expires_at(self, payment: Payment) -> datetime | None:
        return payment.link.expires_at if payment.link is not None else None

    def payee_text(self, payment: Payment) -> str:
        link = payment.link
        if link is None:
            return ""
        methods = ", ".join(METHOD_WORDS.get(m, m) for m in link.methods)
        return f"By {methods}\n{payment.id}"

    def waiting_text(self, payment: Payment) -> str:
        link = payment.link
        tries = len(link.attempts) if link is not None else 0
        waiting = "Waiting for the customer"
        return (
            f"{waiting} ({tries} {'try' if tries == 1 else 'tries'} so far)" if tries else waiting
        )

    def _hint(self) -> str:
        url = self.payment.link.url if self.payment and self.payment.link else ""
        return f"Scan to pay on the phone, or open {url}\nEsc: cancel" if url else "Esc: cancel"

    @while_shown
    def show_payment(self, payment: Payment) -> None:
        super().show_payment(payment)
        self.query_one("#upi-hint", Line).update(self._hint())
