"""What the screens are handed (typing.Protocol): the sale desk of the cashier's screens,
the back office of the merchant console, the sign-in and the key guide. The app's
controllers (pos_app.sale_flow, pos_app.back_office, pos_app.app) satisfy them; a
screen knows only its host, never the app."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from textual.binding import Binding

from gateway_core.access import User
from gateway_core.acquirer_api import Frame, Sms
from gateway_core.audit import Verdict
from gateway_core.cards import CardInput
from gateway_core.dashboard import DayStats, Ledger, Record
from gateway_core.observe.health import Health
from gateway_core.payments import Payment
from gateway_core.ports import Approval
from gateway_core.risk_models import Block
from gateway_core.settings import Settings
from gateway_core.settlement import DayReport, Reconciliation, Settlement
from gateway_core.upi_api import PayResult, TestPayer
from pos_app.route import RouteEvent
from pos_app.screens.state import SaleDraft, SaleExtras
from pos_app.wiring import CardHint, FieldRows


# ---------------------------------------------------------------------------- views
class Dialog(Protocol):
    """An approval dialog a worker answers: an error in it, or closed with a result."""

    def show_error(self, text: str) -> None: ...

    def dismiss(self, result: Any = None) -> Any: ...


class Noted(Protocol):
    """A screen or tab with a note line."""

    def note(self, text: str, tone: str = "") -> None: ...


class ActionDialog(Dialog, Protocol):
    """The approval of a console action, over the payment it is about."""

    @property
    def payment_screen(self) -> Noted: ...


class OtpView(Protocol):
    """The OTP screen as its workers answer it."""

    payment: Payment

    def note(self, text: str, kind: str = "error") -> None: ...

    def update_payment(self, payment: Payment) -> None: ...

    def show_sms(self, messages: list[Sms]) -> None: ...


class UpiView(Protocol):
    """The UPI screen as its workers answer it."""

    payment: Payment | None
    done: bool  # the payment is final: the result screen comes next

    def show_payment(self, payment: Payment) -> None: ...

    def note(self, text: str, tone: str = "") -> None: ...

    def show_payers(self, payers: list[TestPayer]) -> None: ...

    def phone_answered(self, result: PayResult) -> None: ...


class ListView(Protocol):
    """Today's list."""

    @property
    def is_attached(self) -> bool: ...

    def show_payments(self, payments: list[Payment]) -> None: ...

    def action_reload(self) -> None: ...


class FramesView(Protocol):
    """The frame inspector."""

    @property
    def is_attached(self) -> bool: ...

    def show_frames(self, frames: list[Frame]) -> None: ...

    def show_error(self, message: str) -> None: ...


class ReconcileView(Noted, Protocol):
    """The settlement tab."""

    def show_reconciliation(self, rec: Reconciliation) -> None: ...


class ClosingView(Protocol):
    """The console, closing a day."""

    def day_closed(self, z: DayReport) -> None: ...

    def close_failed(self, text: str) -> None: ...


# ---------------------------------------------------------------------------- hosts
class SignIn(Protocol):
    """What the sign-in screen needs."""

    demo: bool

    @property
    def user(self) -> User | None: ...

    async def sign_in(self, user_id: str, pin: str) -> User: ...

    def signed_in(self, user: User) -> None: ...


class KeyGuide(Protocol):
    """What the help screen lists."""

    keys_file: Path
    user_themes_dir: Path
    test_cards: Sequence[CardHint]

    def binding_groups(self) -> list[tuple[str, list[Binding]]]: ...

    def keys_for(self, binding: Binding) -> str: ...


class SaleDesk(Protocol):
    """What the cashier's screens (sale, card, UPI, processing, OTP, result, Today, frames)
    read and ask for."""

    settings: Settings
    demo: bool
    draft: SaleDraft
    extras: dict[str, SaleExtras]
    route_log: list[RouteEvent]
    test_cards: Sequence[CardHint]
    field_rows: FieldRows

    def now(self) -> datetime: ...

    def day_note(self) -> str: ...

    @property
    def phone(self) -> bool: ...

    def open_card(self) -> None: ...

    def start_upi(self) -> None: ...

    def start_cash(self) -> None: ...

    def open_shift_screens(self) -> None: ...

    def open_drawer_move(self) -> None: ...

    def start_split(self) -> None: ...

    def start_link(self) -> None: ...

    def refresh_upi(self, view: UpiView) -> None: ...

    def cancel_upi(self, view: UpiView) -> None: ...

    def load_payers(self, view: UpiView) -> None: ...

    def pay_on_phone(self, view: UpiView, vpa: str, pin: str) -> None: ...

    def start_charge(self, card: CardInput, *, masked: str) -> None: ...

    def new_sale(self) -> None: ...

    def try_again(self, payment: Payment | None = None) -> None: ...

    def save_receipt(self, payment: Payment, text: str) -> None: ...

    def check_payment(self, payment: Payment) -> None: ...

    def void_payment(self, payment: Payment, approval: Approval, dialog: Dialog) -> None: ...

    def confirm_otp(self, payment: Payment, code: str) -> None: ...

    def resend_otp(self, screen: OtpView) -> None: ...

    def fetch_outbox(self, screen: OtpView) -> None: ...

    def abandon_otp(self, payment: Payment) -> None: ...

    def load_today(self, screen: ListView) -> None: ...

    def open_payment(self, payment: Payment) -> None: ...

    def capture_payment(self, payment: Payment, screen: ListView) -> None: ...

    def open_inspector(self, payment_id: str | None) -> None: ...

    def load_frames(self, screen: FramesView, payment_id: str) -> None: ...


@dataclass
class DayData:
    """What a load of the day gives every tab of the console: its running totals added
    up (the first page of its payments is read when the transactions tab is first
    shown), never the whole day."""

    day: date
    stats: DayStats
    report: DayReport  # the X report
    closing: DayReport | None  # the Z report, once the day is closed
    blocks: list[Block]
    payments: int  # how many the day holds
    refunded: dict[str, int]  # payment id → refunded on the day
    waiting: list[Record]  # the day's payments waiting for their payer
    first: list[Record] | None = None  # the newest payments (a page), once read
    ledger: Ledger | None = None  # the whole day, once read (a search, another sort)
    notices: list[str] = field(default_factory=list)  # what the merchant must act on


class BackOffice(Protocol):
    """What the merchant console reads (in threads) and asks for."""

    settings: Settings
    field_rows: FieldRows

    def now(self) -> datetime: ...

    def settlement(self) -> Settlement: ...

    def still_open_shifts(self, day: date) -> list[str]: ...

    def day_data(self, day: date) -> DayData: ...

    def ledger(self, day: date) -> Ledger: ...

    def page(self, day: date, cursor: tuple[str, str] | None) -> list[Record]: ...

    def payment_detail(self, payment_id: str) -> tuple[Payment, list[Record]]: ...

    def audit_events(self) -> list[Record]: ...

    def verify_audit(self) -> Verdict: ...

    async def frames(self, payment_id: str) -> list[Frame]: ...

    async def health(self, since: Health | None) -> Health: ...

    def approve_console(self, approval: Approval, dialog: Dialog) -> None: ...

    def merchant_action(
        self,
        kind: str,
        payment: Payment,
        amount: int | None,
        approval: Approval,
        dialog: ActionDialog,
    ) -> None: ...

    def close_day(
        self, view: ClosingView, day: date, manager_id: str, *, close_shifts: bool = False
    ) -> None: ...

    def reconcile_day(self, view: ReconcileView, day: date) -> None: ...

    def export_day(self, view: Noted, day: date) -> None: ...
