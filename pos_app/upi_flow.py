"""The UPI part of the sale desk (a base of `pos_app.sale_flow.SaleFlow`): ask the
gateway for a dynamic QR, refresh the pending payment while the customer pays, cancel
it, and in demo mode pay it from the simulated phone (the `Wiring`'s payer app). Every
call runs in a worker of the app; the answers go to the UPI screen (`UpiView`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import App

from gateway_core.access import User
from gateway_core.errors import PaygateError
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.money import Money, MoneyError
from gateway_core.payments import Payment, UpiInput
from gateway_core.ports import PayerApp
from gateway_core.settings import Settings
from pos_app.navigation import Navigator
from pos_app.screens.hosts import UpiView
from pos_app.screens.link import LinkScreen
from pos_app.screens.result import ResultScreen
from pos_app.screens.state import SaleDraft, SaleExtras
from pos_app.screens.upi import UpiScreen

log = logging.getLogger("paygate.terminal")

# Worker groups whose end the next keys wait for (pos_app.typeahead): the QR coming up,
# the phone's list of payers.
UPI_START = "upi-start"
UPI_PAYERS = "upi-payers"


class UpiSale:
    """What the sale desk does for a UPI payment (on `SaleFlow`'s gateway, workers,
    navigation and draft: the attributes below)."""

    app: App[int]
    nav: Navigator
    settings: Settings
    draft: SaleDraft
    user: User | None
    extras: dict[str, SaleExtras]
    last_payment_id: str | None
    busy: str | None
    demo: bool
    gateway: Gateway
    _run: Callable[..., None]
    _payer: Callable[[], PayerApp] | None
    _checkout: Callable[[], Awaitable[str | None]] | None
    _refreshing: set[str]
    part: Any  # the part of a split bill being paid (`pos_app.bill_flow.Part`), if any
    send: Callable[[ChargeRequest], Awaitable[Payment]]
    back_to_bill: Callable[[], bool]

    @property
    def phone(self) -> bool:
        """Whether the UPI screen offers the simulated phone (demo mode, a payer app)."""
        return self.demo and self._payer is not None

    def sale_request(self, **method: Any) -> tuple[ChargeRequest, Money, SaleExtras] | None:
        """The draft as the gateway's request, with the method's fields (`card=`, or
        `method="upi"`...), its total and extras; None once the cashier is told why not
        (a payment already with the bank, a total that does not add up)."""
        if self.busy or self.user is None:
            self.app.notify("A payment is already with the bank.", severity="warning")
            return None
        draft = self.draft
        try:
            total, extras = draft.total(), draft.extras()
        except MoneyError as exc:
            self.app.notify(str(exc), severity="error")
            return None
        request = ChargeRequest(
            amount=total.minor,
            tip=extras.tip,
            currency=total.currency,
            terminal_id=self.settings.terminal_id,
            idempotency_key=draft.idempotency_key,
            operator=self.user.id,
            bill_id=self.part.bill_id if self.part is not None else None,
            **method,
        )
        return request, total, extras

    def start_upi(self) -> None:
        """Ask for a dynamic QR of the sale's total; the UPI screen shows it."""
        self._start_waiting(UpiScreen, method="upi", upi=UpiInput(flow="qr"))

    def start_link(self) -> None:
        """Ask for a payment link of the sale's total; its QR opens the checkout page."""
        self._start_waiting(LinkScreen, method="link")

    def _start_waiting(self, kind: type[UpiScreen], **method: Any) -> None:
        """A payment the customer completes on their phone, on its screen (UPI, link)."""
        made = self.sale_request(**method)
        if made is None:
            return
        request, total, extras = made
        self.busy = "charge"
        screen = kind(self, total)
        self.nav.flow_to(screen)
        self._run(self._start_upi(request, extras, screen), UPI_START, name=request.method)

    async def _start_upi(self, request: ChargeRequest, extras: SaleExtras, view: UpiView) -> None:
        title = "UPI" if request.method == "upi" else "Payment link"
        if request.method == "link" and self._checkout is not None:
            await self._serve_checkout(title)
        try:
            payment = await self.send(request)
        except PaygateError as exc:
            self._back_to_sale(str(exc), title)
            return
        except Exception as exc:  # never a traceback on the cashier's screen
            log.error("%s charge failed: %s", request.method, type(exc).__name__)
            self._back_to_sale(f"Something went wrong ({type(exc).__name__})", title)
            return
        finally:
            self.busy = None
        self.extras[payment.id] = extras
        self.last_payment_id = payment.id
        self._answer(view, payment)

    async def _serve_checkout(self, title: str) -> None:
        """Serve the checkout pages from this terminal (once), or say where they are not."""
        assert self._checkout is not None
        if await self._checkout() is None:
            self.app.notify(
                "The checkout page is not served by this terminal (its address is taken): "
                "run `paygate serve` or `paygate sandbox` for this data dir's customers",
                title=title,
                severity="warning",
                timeout=8,
            )

    def _back_to_sale(self, why: str, title: str) -> None:
        self.app.notify(why[:1].upper() + why[1:], title=title, severity="error", timeout=8)
        if not self.back_to_bill():
            self.nav.back_to_sale(lambda: None)

    def _answer(self, view: UpiView, payment: Payment) -> None:
        """The payment as it stands: on the UPI screen while pending, else the result."""
        if payment.status == "pending":
            view.show_payment(payment)
            return
        if view.done:
            return
        view.done = True
        view.show_payment(payment)
        self.draft.new_attempt()  # a final answer: another try is a new payment
        self.nav.flow_to(ResultScreen(self, payment))

    def open_upi(self, payment: Payment) -> None:
        """A pending UPI payment or link (from Today): its QR again; the screen already
        showing it when there is one underneath."""
        for screen in self.app.screen_stack:
            if isinstance(screen, UpiScreen) and screen.payment and screen.payment.id == payment.id:
                screen.pop_until_active()
                return
        kind = LinkScreen if payment.method == "link" else UpiScreen
        self.app.push_screen(kind(self, payment.money, payment))

    def refresh_upi(self, view: UpiView) -> None:
        """Ask where the payment stands (callbacks, a due status check); one at a time."""
        payment = view.payment
        if payment is None or payment.id in self._refreshing:
            return
        self._refreshing.add(payment.id)
        self._run(self._refresh(view, payment.id), "upi-refresh", exclusive=False)

    async def _refresh(self, view: UpiView, payment_id: str) -> None:
        try:
            payment = await self.gateway.refresh(payment_id)
        except PaygateError as exc:
            view.note(f"The switch did not answer: {exc}", "error")
            return
        finally:
            self._refreshing.discard(payment_id)
        self._answer(view, payment)

    def cancel_upi(self, view: UpiView) -> None:
        """The cashier gives up: the switch is told, the payment is canceled."""
        payment = view.payment
        if payment is not None:
            self._run(self._cancel(view, payment.id), "upi-cancel")

    async def _cancel(self, view: UpiView, payment_id: str) -> None:
        operator = self.user.id if self.user else "terminal"
        try:
            payment = await self.gateway.cancel(payment_id, operator=operator)
        except PaygateError as exc:  # paid (or failed) meanwhile: show what it is
            view.note(str(exc), "error")
            try:
                payment = await self.gateway.refresh(payment_id)
            except PaygateError:
                return
        self._answer(view, payment)

    # -- the demo's phone -----------------------------------------------------------------
    def load_payers(self, view: UpiView) -> None:
        self._run(self._load_payers(view), UPI_PAYERS)

    async def _load_payers(self, view: UpiView) -> None:
        if self._payer is None:
            return
        try:
            payers = await self._payer().payers()
        except PaygateError as exc:
            view.note(f"The simulated phone is not reachable: {exc}", "error")
            return
        view.show_payers(payers)

    def pay_on_phone(self, view: UpiView, vpa: str, pin: str) -> None:
        """The customer approves the QR's link on the simulated phone."""
        payment = view.payment
        if self._payer is None or payment is None or payment.upi is None:
            return
        link = payment.upi.link
        self._run(self._pay(view, vpa, pin, link), "upi-phone", exclusive=False)

    async def _pay(self, view: UpiView, vpa: str, pin: str, link: str | None) -> None:
        assert self._payer is not None
        try:
            result = await self._payer().pay(vpa, pin, link=link)
        except PaygateError as exc:
            view.note(f"The phone could not pay: {exc}", "error")
            return
        finally:
            del pin
        view.phone_answered(result)
        self.refresh_upi(view)  # the callback is there already: no need to wait a tick
