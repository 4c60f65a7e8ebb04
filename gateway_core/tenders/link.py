"""The payment link tender: a payment the customer pays on the hosted checkout page
(`/checkout/{id}`) by a method of their choice. It moves no money itself.

authorize: the link is saved `pending` with its page (`{public_url}/checkout/{id}`), its
deadline (now + checkout.link_expiry_s) and the methods offered. Each try on the page is
an ordinary payment of that method whose `link_id` names the link (`gateway_core.links`);
`status` records the tries in `attempts` and follows them: one succeeded → the link
succeeds, `paid_by` naming it (`amount_captured` stays 0: the attempt holds the money);
a declined try leaves the link pending; past the deadline → `expired`, and the tries still
pending are canceled. Canceling the link cancels its pending tries. A link is never
refunded: its paying attempt is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from gateway_core.clock import Clock
from gateway_core.errors import InputError, PaygateError
from gateway_core.payments import (
    ChargeRequest,
    LinkDetail,
    NotAllowed,
    Payment,
    UnknownPayment,
    payment_day,
)
from gateway_core.ports import Opened, Refunded, TenderHost
from gateway_core.settings import Settings
from gateway_core.tenders.base import Refusals, moved

SANDBOX_URL = "http://127.0.0.1:8765"  # `paygate sandbox`'s address: pages of a data dir
INR_ONLY = ("netbanking", "upi")  # methods that take rupees only


def public_url(settings: Settings) -> str:
    """The gateway's address as customers' browsers reach it, without a trailing slash:
    the setting (`paygate serve` fills it from its host and port), else the sandbox's."""
    return (settings.checkout.public_url or SANDBOX_URL).rstrip("/")


def checkout_url(settings: Settings, payment_id: str) -> str:
    """The hosted checkout page of a payment."""
    return f"{public_url(settings)}/checkout/{payment_id}"


def link_refusal(payment: Payment) -> str:
    """Why a paid link is not refunded: its paying attempt holds the money."""
    paid_by = payment.link.paid_by if payment.link else None
    return f"refund {paid_by}, the payment that paid this link"


def check_return_url(url: str) -> str:
    """A merchant page to send the customer back to: an absolute http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        raise InputError("a return URL is an absolute http(s) address (at most 2000 characters)")
    return url


@dataclass(frozen=True)
class CheckedLink:
    """A link request as checked: the methods offered, where the customer goes after."""

    methods: tuple[str, ...]
    return_url: str | None


def _checked(checked: object) -> CheckedLink:
    if not isinstance(checked, CheckedLink):
        raise TypeError("the link tender is given a checked link request")
    return checked


def _link(payment: Payment) -> LinkDetail:
    if payment.link is None:
        raise NotAllowed(f"payment {payment.id} is not a payment link")
    return payment.link


class LinkTender(Refusals):
    """Payment links, following their attempts through the gateway's `get`, `list_day`
    (attempts not recorded yet) and `cancel` (a pending attempt)."""

    method = "link"

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        get: Callable[[str], Payment],
        list_day: Callable[[date], list[Payment]],
        cancel: Callable[[str], Awaitable[Payment]],
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._get = get
        self._list_day = list_day
        self._cancel = cancel

    # -- the new link ----------------------------------------------------------------------
    def check(self, req: ChargeRequest, today: date) -> CheckedLink:
        """No method's input; paid at once; the methods the merchant enabled that take
        the currency (rupees only: net banking, UPI)."""
        if any((req.card, req.upi, req.netbanking, req.cash)):
            raise InputError("a payment link takes no card, UPI, bank or cash: the customer picks")
        if req.capture != "automatic":
            raise InputError("a payment link is paid at once: it has no manual capture")
        if req.link_id is not None or req.bill_id is not None:
            raise InputError("a payment link cannot be a try at another link, nor a bill part")
        inr = req.currency.upper() == "INR"
        methods = [m for m in self._settings.checkout.methods if inr or m not in INR_ONLY]
        if not methods:
            raise InputError(f"no checkout method takes {req.currency.upper()}")
        return_url = check_return_url(req.return_url) if req.return_url else None
        return CheckedLink(tuple(methods), return_url)

    def digest(self, checked: object) -> tuple[str, ...]:
        """The methods offered and the return URL."""
        link = _checked(checked)
        return (",".join(link.methods), link.return_url or "")

    def open(self, checked: object) -> Opened:
        """The detail (its page is completed once the id is known); no risk rule: who
        pays is known only in an attempt, which the rules see."""
        link = _checked(checked)
        expiry = timedelta(seconds=self._settings.checkout.link_expiry_s)
        detail = LinkDetail(
            url=checkout_url(self._settings, ""),
            expires_at=self._clock.now() + expiry,
            methods=list(link.methods),
            return_url=link.return_url,
        )
        return Opened(detail={"link": detail}, shown={"methods": ",".join(link.methods)})

    async def authorize(
        self, host: TenderHost, payment: Payment, checked: object, *, step_up: bool
    ) -> Payment:
        """Saved `pending` with its checkout page: the customer pays there."""
        detail = _link(payment).model_copy(update={"url": checkout_url(self._settings, payment.id)})
        update = {"status": "pending", "link": detail, "message": "Waiting for the customer"}
        return moved(
            host,
            payment,
            update,
            payment.operator,
            "payment.pending",
            url=detail.url,
            expires_at=detail.expires_at.isoformat(),
        )

    # -- following the attempts ------------------------------------------------------------
    def _attempts(self, host: TenderHost, link: Payment) -> list[Payment]:
        """The link's attempts, oldest first: those recorded, and any made since (found
        on the link's business day and today's)."""
        detail = _link(link)
        days = {day for day in (payment_day(link.id), host.today(link.merchant_id)) if day}
        found = {p.id: p for day in sorted(days) for p in self._list_day(day)}
        ids = detail.attempts + sorted(
            i for i, p in found.items() if p.link_id == link.id and i not in detail.attempts
        )
        return [found.get(i) or self._get(i) for i in ids]

    async def due(
        self,
        host: TenderHost,
        open_ids: Iterable[str],
        get: Callable[[str], Payment],
        now: datetime,
    ) -> list[str]:
        """The open links past their deadline or with a recorded attempt now ended."""
        due = []
        for payment_id in open_ids:
            with contextlib.suppress(UnknownPayment):
                payment = get(payment_id)
                if payment.link is None or payment.status != "pending":
                    continue
                tries = [get(i) for i in payment.link.attempts]
                if payment.link.expires_at <= now or any(t.status == "succeeded" for t in tries):
                    due.append(payment_id)
        return due

    async def status(self, host: TenderHost, payment: Payment, now: datetime) -> str | None:
        """Record new attempts; a succeeded one pays the link; past its deadline the
        link expires (its pending attempts canceled). A note of what changed."""
        if payment.status != "pending":
            return None
        detail = _link(payment)
        attempts = self._attempts(host, payment)
        ids = [a.id for a in attempts]
        paid = next((a for a in attempts if a.status == "succeeded"), None)
        if paid is not None:
            return self._end(host, payment, ids, "succeeded", paid_by=paid.id)
        if detail.expires_at <= now:
            await self._cancel_pending(host, payment, attempts)
            return self._end(host, payment, ids, "expired")
        if ids != detail.attempts:
            with host.step(payment.id):
                host.amend(payment.model_copy(update={"link": _with(detail, ids)}))
                host.record("gateway", "link.attempts", payment.id, attempts=",".join(ids))
            return f"tried by {ids[-1]}"
        return None

    def _end(
        self,
        host: TenderHost,
        payment: Payment,
        ids: list[str],
        status: str,
        paid_by: str | None = None,
        actor: str = "gateway",
    ) -> str:
        """The link's final state, one write, audited."""
        update: dict[str, Any] = {"status": status, "link": _with(_link(payment), ids, paid_by)}
        if status == "succeeded":
            update.update(response_code="00", message=f"Paid by {paid_by}")
        elif status == "expired":
            update.update(response_code="EX", message="Nobody paid the link in time")
        else:
            update.update(message="Canceled: the link no longer takes payments")
        with host.step(payment.id):
            payment = host.save(payment.model_copy(update=update))
            details = {"paid_by": paid_by} if paid_by else {}
            host.record(actor, f"payment.{status}", payment.id, **details)
        return status

    async def _cancel_pending(
        self, host: TenderHost, payment: Payment, attempts: list[Payment]
    ) -> None:
        """Cancel the attempts still waiting for the customer (a failure is audited:
        that attempt's own tender still settles it)."""
        for attempt in attempts:
            if attempt.status != "pending":
                continue
            try:
                await self._cancel(attempt.id)
            except PaygateError as exc:
                host.record(
                    "gateway", "link.cancel_failed", payment.id, attempt=attempt.id, reason=str(exc)
                )

    # -- after the link --------------------------------------------------------------------
    async def void(
        self, host: TenderHost, payment: Payment, operator: str, approver: str | None
    ) -> Payment:
        """Cancel a pending link and its pending attempts; one paid meanwhile pays it."""
        if payment.status != "pending":
            raise NotAllowed(f"payment {payment.id} is not waiting for the customer")
        attempts = self._attempts(host, payment)
        await self._cancel_pending(host, payment, attempts)
        attempts = [self._get(a.id) for a in attempts]
        ids = [a.id for a in attempts]
        paid = next((a for a in attempts if a.status == "succeeded"), None)
        if paid is not None:
            self._end(host, payment, ids, "succeeded", paid_by=paid.id)
        else:
            self._end(host, payment, ids, "canceled", actor=approver or operator)
        return self._get(payment.id)

    async def refund(
        self, host: TenderHost, payment: Payment, refund_id: str, amount: int, day: date
    ) -> Refunded:
        raise NotAllowed(link_refusal(payment))


def _with(detail: LinkDetail, attempts: list[str], paid_by: str | None = None) -> LinkDetail:
    update: dict[str, Any] = {"attempts": attempts}
    if paid_by:
        update["paid_by"] = paid_by
    return detail.model_copy(update=update)
