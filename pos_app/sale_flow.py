"""The sale desk: the cashier's sale from the amount to the result, OTP, void, capture,
Today and the frames. Every gateway call runs in a worker of the app (an async worker:
the gateway is async) that posts its answer back as a message (pos_app.screens.messages);
the app hands those to `SaleFlow`. Satisfies `pos_app.screens.hosts.SaleDesk`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from textual.app import App

from gateway_core.access import AccessError, User
from gateway_core.cards import CardError, CardInput
from gateway_core.errors import PaygateError
from gateway_core.gateway import ChargeRequest, Gateway, IdempotencyConflict
from gateway_core.money import Money
from gateway_core.payments import Payment
from gateway_core.ports import Approval
from gateway_core.presentation import format_money, mask_phone
from gateway_core.settings import Settings
from gateway_core.settlement import Settlement
from pos_app.bill_flow import BillSale
from pos_app.cash_flow import CashSale
from pos_app.navigation import Navigator
from pos_app.private_files import write_private_text
from pos_app.route import ROUTE_REPORT, RouteEvent
from pos_app.screens.card import CardScreen
from pos_app.screens.hosts import Dialog, FramesView, ListView, OtpView
from pos_app.screens.inspector import InspectorScreen
from pos_app.screens.messages import FlowDone, FlowFailed, RouteUpdate
from pos_app.screens.modals import void_kind
from pos_app.screens.otp import OtpScreen
from pos_app.screens.processing import ProcessingScreen
from pos_app.screens.result import ResultScreen
from pos_app.screens.sale import SaleScreen
from pos_app.screens.state import SaleDraft, SaleExtras
from pos_app.upi_flow import UpiSale
from pos_app.wiring import CardHint, Wiring

log = logging.getLogger("paygate.terminal")


class SaleFlow(UpiSale, CashSale, BillSale):
    """The sale on screen and what the cashier's screens ask of the gateway (a UPI
    payment's part: `UpiSale`; cash and the shift: `CashSale`; a split bill:
    `BillSale`)."""

    def __init__(
        self,
        app: App[int],
        nav: Navigator,
        wiring: Wiring,
        settings: Settings,
        now: Callable[[], datetime],
        *,
        demo: bool,
        remote: bool,
        result_delay: float,
        settlement: Callable[[], Settlement],
    ) -> None:
        self.app = app
        self.nav = nav
        self.settings = settings
        self.now = now
        self.demo = demo
        self.remote = remote
        self.result_delay = result_delay
        self._settlement = settlement
        self._gateway = wiring.gateway
        self.test_cards: Sequence[CardHint] = wiring.test_cards
        self.field_rows = wiring.field_rows
        self._payer = wiring.payer
        self._checkout = wiring.checkout
        self._refreshing: set[str] = set()  # UPI payments being refreshed right now
        self.user: User | None = None
        self.draft = self.new_draft()
        self.extras: dict[str, SaleExtras] = {}
        self.pending_extras: SaleExtras | None = None
        self.last_payment_id: str | None = None
        self.route_log: list[RouteEvent] = []  # the route of the payment on screen
        self._busy: str | None = None  # the payment step with the bank right now
        self.quit_armed = False

    # -- state ----------------------------------------------------------------------------
    @property
    def gateway(self) -> Gateway:
        return self._gateway()

    @property
    def busy(self) -> str | None:
        """The payment step that is with the bank right now, if any."""
        return self._busy

    @busy.setter
    def busy(self, step: str | None) -> None:
        self._busy = step
        if self.app.is_running:
            self.app.refresh_bindings()

    def new_draft(self) -> SaleDraft:
        return SaleDraft(self.settings.currency, self.settings.max_minor(self.settings.currency))

    def operator(self) -> str:
        return self.user.id if self.user else "terminal"

    def _run(self, work: Any, group: str, *, exclusive: bool = True, name: str = "") -> None:
        self.app.run_worker(work, name=name, group=group, exclusive=exclusive, exit_on_error=False)

    async def read(self, method: Any, *args: Any) -> Any:
        """A read of the gateway (`get`, `list_day`): a blocking HTTP call in a thread when
        the gateway is a server; in place otherwise (the local store is one-thread)."""
        if self.remote:
            return await asyncio.to_thread(method, *args)
        return method(*args)

    def day_note(self) -> str:
        """Once today's Z report is taken, the Sale screen says that sales count for the
        next business day. (A terminal on a server: the server decides; nothing said.)"""
        if self.remote:
            return ""
        settlement = self._settlement()
        calendar, business = self.now().date(), settlement.today()
        if business == calendar:
            return ""
        closing = settlement.closing(calendar)
        z = f" (Z report {closing.number})" if closing else ""
        return f"Business day {calendar:%d %b} is closed{z}: sales now count for {business:%d %b}"

    # -- the sale -------------------------------------------------------------------------
    def begin(self, user: User) -> None:
        """A cashier signed in: a new sale."""
        self.user = user
        self.draft = self.new_draft()
        self.nav.restart_with(SaleScreen(self))

    def end(self) -> None:
        """The cashier signed out (a bill left open stays stored, open)."""
        self.user = None
        self.bill = self.part = None
        self.draft = self.new_draft()

    def open_card(self) -> None:
        self.app.push_screen(CardScreen(self))

    def new_sale(self) -> None:
        if self.busy or self.back_to_bill():
            return
        self.draft = self.new_draft()
        if self.user is None:
            return

        def reset() -> None:
            sale = self.app.screen
            if isinstance(sale, SaleScreen):
                sale.reset()

        self.nav.back_to_sale(reset)

    def try_again(self, payment: Payment | None = None) -> None:
        """The same sale again (after a decline): back to the card screen; after a UPI
        payment, back to the sale with its amount, for the cashier to choose the tender."""
        if self.busy:
            return
        if payment is not None and payment.method != "card":
            if not self.back_to_bill():
                self.nav.back_to_sale(lambda: None)
            return
        self.nav.flow_to(CardScreen(self))

    def start_charge(self, card: CardInput, *, masked: str) -> None:
        """Send the sale; the card screen stays underneath until the answer comes."""
        draft = self.draft
        made = self.sale_request(card=card, capture=draft.capture)
        if made is None:
            return
        request, total, self.pending_extras = made
        verb = "Pre-authorizing" if draft.capture == "manual" else "Authorizing"
        self.busy = "charge"
        self.quit_armed = False
        self.route_log = []
        self.nav.flow_to(ProcessingScreen(self, f"{verb} {format_money(total)}", masked))
        self._run(self._charge(request), "payment", exclusive=False, name="charge")

    def _report(self, event: RouteEvent) -> None:
        self.app.post_message(RouteUpdate(event))

    async def _charge(self, request: ChargeRequest) -> None:
        ROUTE_REPORT.set(self._report)
        post = self.app.post_message
        try:
            payment = await self.send(request)
        except IdempotencyConflict:
            self.draft.new_attempt()
            post(
                FlowFailed(
                    "This sale was sent before with other details; press Enter to send it "
                    "as a new payment.",
                    "charge",
                )
            )
        except CardError as exc:
            post(FlowFailed(str(exc), "charge", exc.field))
        except PaygateError as exc:
            post(FlowFailed(str(exc), "charge"))
        except Exception as exc:  # never a traceback on the cashier's screen
            log.error("charge failed: %s", type(exc).__name__)
            post(
                FlowFailed(
                    f"Something went wrong ({type(exc).__name__}); the payment is checked "
                    "and settled at the next start.",
                    "charge",
                )
            )
        else:
            post(FlowDone(payment, "charge"))
        finally:
            del request  # the card's last reference in this worker
            self.draft.clear_card()
            card_screen = next(
                (s for s in self.app.screen_stack if isinstance(s, CardScreen)), None
            )
            if card_screen is not None:
                card_screen.clear_card()
            self.busy = None

    # -- the answers ----------------------------------------------------------------------
    def route_update(self, message: RouteUpdate) -> None:
        self.route_log.append(message.event)
        if isinstance(self.app.screen, ProcessingScreen):
            self.app.screen.route_event(message.event)

    def flow_failed(self, message: FlowFailed) -> None:
        """Back to the step it started from, with the reason under its field."""
        payment = message.payment
        if message.step == "charge":
            self.nav.flow_to(CardScreen(self, error=(message.field, message.message)))
        elif payment is not None and payment.status == "requires_action":
            self.nav.flow_to(OtpScreen(self, payment, note=message.message))
        elif payment is not None:
            self.nav.flow_to(ResultScreen(self, payment))
        else:
            self.app.notify(message.message, severity="error", timeout=8)
            self.new_sale()

    def flow_done(self, message: FlowDone) -> None:
        payment = message.payment
        self.last_payment_id = payment.id
        if message.step == "charge" and self.pending_extras is not None:
            self.extras[payment.id] = self.pending_extras
            self.pending_extras = None
        if payment.status == "requires_action":
            self._finish_processing(payment, partial(self.nav.flow_to, OtpScreen(self, payment)))
            return
        if payment.status != "unknown":
            self.draft.new_attempt()  # a final answer: a retry is a new payment
        self._finish_processing(payment, partial(self.nav.flow_to, ResultScreen(self, payment)))

    def _finish_processing(self, payment: Payment, then: Callable[[], None]) -> None:
        screen = self.app.screen
        if isinstance(screen, ProcessingScreen):
            screen.finished(payment)
            if self.result_delay > 0:
                self.app.set_timer(self.result_delay, then)
                return
        then()

    # -- OTP ------------------------------------------------------------------------------
    def confirm_otp(self, payment: Payment, code: str) -> None:
        if self.busy or self.user is None:
            return
        self.busy = "otp"
        self.route_log = []
        self.nav.flow_to(
            ProcessingScreen(self, "Checking the code", payment.card.masked, step="otp")
        )
        self._run(self._confirm(payment.id, code), "payment", exclusive=False, name="otp")

    async def _confirm(self, payment_id: str, code: str) -> None:
        ROUTE_REPORT.set(self._report)
        assert self.user is not None
        try:
            payment = await self.gateway.confirm_otp(payment_id, code, operator=self.user.id)
        except Exception as exc:
            if isinstance(exc, PaygateError):
                why = str(exc).removeprefix("the bank refused: ")
            else:
                log.error("OTP confirm failed: %s", type(exc).__name__)
                why = f"Something went wrong ({type(exc).__name__})"
            fresh = None
            with contextlib.suppress(PaygateError):
                fresh = await self.read(self.gateway.get, payment_id)
            self.app.post_message(FlowFailed(why, "otp", payment=fresh))
        else:
            self.app.post_message(FlowDone(payment, "otp"))
        finally:
            self.busy = None

    def resend_otp(self, screen: OtpView) -> None:
        self._run(self._resend_otp(screen), "otp-resend")

    async def _resend_otp(self, screen: OtpView) -> None:
        try:
            payment = await self.gateway.resend_otp(screen.payment.id, operator=self.operator())
        except PaygateError as exc:
            screen.note(str(exc).removeprefix("the bank refused: "))
            return
        screen.update_payment(payment)
        screen.note("A new code was sent", "ok")
        if self.demo:
            await self._fetch_outbox(screen)

    def fetch_outbox(self, screen: OtpView) -> None:
        self._run(self._fetch_outbox(screen), "outbox")

    async def _fetch_outbox(self, screen: OtpView) -> None:
        challenge = screen.payment.challenge
        if challenge is None:
            return
        try:
            messages = await self.gateway.bank.outbox()
        except PaygateError as exc:
            screen.note(f"The simulated phone is not reachable: {exc}", "info")
            return
        since = screen.payment.created_at
        mine = [m for m in messages if mask_phone(m.phone) == challenge.phone and m.at >= since]
        screen.show_sms(mine[:3])

    def abandon_otp(self, payment: Payment) -> None:
        self.app.notify(
            "The payment waits for its code until it expires, then it is canceled; nothing "
            "is charged. Open it from Today (F2) to enter the code after all.",
            title="Stopped waiting",
            timeout=6,
        )
        self.draft.new_attempt()
        self.new_sale()

    # -- after the result -----------------------------------------------------------------
    def open_payment(self, payment: Payment) -> None:
        if payment.status == "requires_action":
            self.app.push_screen(OtpScreen(self, payment))
        elif payment.status == "pending" and payment.method in ("upi", "link"):
            self.open_upi(payment)
        else:
            self.app.push_screen(ResultScreen(self, payment, from_today=True))

    def void_payment(self, payment: Payment, approval: Approval, dialog: Dialog) -> None:
        self._run(self._void(payment, approval, dialog), "void")

    async def _void(self, payment: Payment, approval: Approval, dialog: Dialog) -> None:
        operator = self.operator()
        try:
            if void_kind(payment) == "refund":
                done = await self.gateway.refund(payment.id, operator=operator, approval=approval)
            else:
                done = await self.gateway.void(payment.id, operator=operator, approval=approval)
        except (AccessError, PaygateError) as exc:
            dialog.show_error(str(exc))
            return
        except Exception as exc:
            log.error("void failed: %s", type(exc).__name__)
            dialog.show_error(f"Something went wrong ({type(exc).__name__})")
            return
        self.last_payment_id = done.id
        word = "refunded" if void_kind(payment) == "refund" else "voided"
        self.app.notify(f"{format_money(payment.money)} {word} (approved by {approval.user_id})")
        dialog.dismiss(done)

    def capture_payment(self, payment: Payment, screen: ListView) -> None:
        self._run(self._capture(payment, screen), "capture")

    async def _capture(self, payment: Payment, screen: ListView) -> None:
        try:
            done = await self.gateway.capture(payment.id, operator=self.operator())
        except PaygateError as exc:
            self.app.notify(str(exc), severity="error")
            return
        captured = Money(done.amount_captured, done.currency)
        self.app.notify(f"Captured {format_money(captured)}")
        screen.action_reload()

    def check_payment(self, payment: Payment) -> None:
        self._run(self._check(payment), "check")

    async def _check(self, payment: Payment) -> None:
        try:
            await self.gateway.repair()
            fresh = await self.read(self.gateway.get, payment.id)
        except PaygateError as exc:
            self.app.notify(f"Still no answer: {exc}", severity="warning")
            return
        if fresh.status == "unknown":
            self.app.notify("The bank still does not answer; try again in a moment.")
        else:
            self.draft.new_attempt()
        screen = self.app.screen
        if isinstance(screen, ResultScreen) and screen.payment.id == fresh.id:
            screen.show(fresh)

    def save_receipt(self, payment: Payment, text: str) -> None:
        self._run(self._save_receipt(payment, text), "receipt", exclusive=False)

    async def _save_receipt(self, payment: Payment, text: str) -> None:
        folder = self.settings.data_dir / "receipts"
        path = folder / f"{payment.id}.txt"
        try:
            await asyncio.to_thread(write_private_text, path, text + "\n")
        except OSError as exc:
            self.app.notify(f"Receipt not saved: {exc.strerror or exc}", severity="error")
            return
        self.app.notify(f"Saved {path}", title="Receipt saved", timeout=6)

    def load_today(self, screen: ListView) -> None:
        self._run(self._load_today(screen), "today")

    async def _load_today(self, screen: ListView) -> None:
        try:
            payments = await self.read(self.gateway.list_day)
            payments = [p for p in payments if p.merchant_id == self.settings.merchant_id]
        except PaygateError as exc:
            self.app.notify(f"Cannot read today's payments: {exc}", severity="error")
            return
        if screen.is_attached:
            screen.show_payments(payments)

    # -- frames ---------------------------------------------------------------------------
    def open_inspector(self, payment_id: str | None) -> None:
        self.app.push_screen(InspectorScreen(self, payment_id))

    def load_frames(self, screen: FramesView, payment_id: str) -> None:
        self._run(self._load_frames(screen, payment_id), "frames")

    async def _load_frames(self, screen: FramesView, payment_id: str) -> None:
        try:
            frames = await self.gateway.bank.frames(payment_id)
        except PaygateError as exc:
            screen.show_error(f"The bank's frames cannot be read: {exc}")
            return
        if screen.is_attached:
            screen.show_frames(frames)
