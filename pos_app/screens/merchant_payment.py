"""One payment in the merchant console: its whole timeline, and capture, void, refund.

The timeline is the payment's audit events, its risk score and factors, and its ISO
8583 frames (masked by the acquirer: BIN-6 and last-4 at most). Capture and refund ask
for an amount (a part is fine), then a manager's ID and PIN; a void asks for the PIN. A
void of a captured sale is the refund of what is left of it, said so before the PIN, as
on the terminal. The gateway decides: a refusal (refund above the capture, a second
capture, a closed day) is one plain line under the payment, and nothing changed.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import partial
from typing import Literal

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Input, Label

from gateway_core.access import User
from gateway_core.acquirer_api import Frame
from gateway_core.dashboard import Record
from gateway_core.errors import PaygateError
from gateway_core.money import Money, MoneyError, parse_amount
from gateway_core.payments import Payment
from gateway_core.presentation import brand_name, format_money, format_plain, stamp_text, time_text
from gateway_core.upi_link import mask_vpa
from pos_app.screens.base import PosModal, PosScreen, sentence, while_shown
from pos_app.screens.hosts import BackOffice
from pos_app.screens.inspector import frames_view
from pos_app.screens.modals import ManagerApprovalScreen, void_kind
from pos_app.screens.receipt import code_text, headline, paid_with
from pos_app.widgets.fields import Field
from pos_app.widgets.line import Line

Kind = Literal["capture", "void", "refund"]
MONEY_DETAILS = frozenset({"amount", "released"})  # audit details in minor units
ATTEMPT_WORDS = {  # a processor attempt's outcome (`payment.attempt`), as the timeline says it
    "not_processed": "answer lost, not processed there",
    "unknown": "answer lost, being checked",
    "requires_action": "waiting for the customer",
}


class AmountScreen(PosModal[int | None]):
    """How much to capture or refund (the whole amount unless the manager types less)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="amount.cancel", tooltip="Close, change nothing"),
    ]

    def __init__(self, title: str, text: str, currency: str, whole: int) -> None:
        super().__init__()
        self.title_text, self.text, self.currency, self.whole = title, text, currency, whole

    def compose(self) -> ComposeResult:
        with Vertical(id="amount-dialog", classes="dialog") as box:
            box.border_title = self.title_text
            yield Line(self.text, classes="dialog-text")
            yield Label("Amount", classes="field-label")
            yield Field(
                id="amount-field",
                value=format_plain(Money(self.whole, self.currency)) if self.whole else "",
                restrict=r"[0-9.,]*",
                max_length=16,
                compact=True,
            )
            yield Line("", id="amount-error", classes="field-error")
            yield Line("Enter: next (manager approval) · Esc: cancel", classes="dialog-hint")
        yield Footer(compact=True, show_command_palette=False)

    @while_shown
    def on_mount(self) -> None:
        self.set_focus(self.query_one("#amount-field", Field))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            amount = parse_amount(event.value, self.currency)
        except MoneyError as exc:
            self.query_one("#amount-error", Line).update(sentence(str(exc)))
            return
        self.dismiss(amount.minor)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ActionApproval(ManagerApprovalScreen):
    """The manager approval dialog for a capture, void or refund of the console.
    `voiding`: a refund asked for as the void of a captured sale (the terminal's words)."""

    def __init__(
        self,
        kind: Kind,
        payment: Payment,
        amount: int | None,
        screen: PaymentScreen,
        *,
        voiding: bool = False,
    ):
        super().__init__(payment, partial(screen.office.merchant_action, kind, payment, amount))
        self.kind, self.amount, self.payment_screen = kind, amount, screen
        self.voiding = voiding

    def describe(self) -> tuple[str, str]:
        p = self.payment
        if self.voiding:  # "Void: full refund" and what goes back to the card
            return super().describe()
        on = f"on {means_text(p)} ({p.id})"
        if self.kind == "void":
            return "Void", f"Void {format_money(p.money)} {on}: the hold goes back to the card."
        amount = format_money(Money(self.amount or 0, p.currency))
        if self.kind == "capture":
            return "Capture", f"Capture {amount} of the {format_money(p.money)} authorized {on}."
        captured = format_money(Money(p.amount_captured, p.currency))
        return "Refund", f"Refund {amount} of the {captured} captured {on}."


def attempt_text(details: dict[str, object]) -> str:
    """One processor attempt: "stripe: down, failed over", "razorpay: approved"."""
    outcome = str(details.get("outcome", ""))
    text = f"{details.get('processor')}: {ATTEMPT_WORDS.get(outcome, outcome)}"
    if outcome == "skipped" and details.get("reason"):
        text += f" ({details['reason']})"
    return text + (", failed over" if details.get("failover") else "")


def means_text(payment: Payment) -> str:
    """The card ("Visa 424242******4242") or "UPI" and the payer's VPA, masked."""
    if payment.card is not None:
        return f"{brand_name(payment.card.brand)} {payment.card.masked}"
    return paid_with(payment)


def _means_rows(payment: Payment, tz: tzinfo | None) -> list[tuple[str, str]]:
    """The detail's rows about what paid: the card and issuer, or the UPI transaction,
    its deadline and its status checks."""
    rrn = payment.rrn or "--"
    upi = payment.upi
    if upi is None:
        return [
            ("Card", means_text(payment)),
            ("Issuer", " · ".join(filter(None, (payment.issuer, payment.funding)))),
            ("Auth / RRN", f"{payment.auth_code or '--'} / {rrn}"),
        ]
    payer = mask_vpa(upi.payer_vpa) if upi.payer_vpa else "not known yet"
    due = time_text(upi.next_check_at, tz) if upi.next_check_at else "none due"
    rows = [
        ("UPI", f"{upi.flow.upper()} · payer {payer} · to {upi.payee_vpa}"),
        ("Txn / RRN", f"{upi.txn_id or '--'} / {rrn}"),
        ("Expires", stamp_text(upi.expires_at, tz)),
        ("Status checks", f"{upi.checks} made · next {due}"),
    ]
    if upi.late_refund:
        rows.append(("Late credit", f"refunded ({upi.late_refund})"))
    return rows


class PaymentScreen(PosScreen):
    """A payment's detail: amounts, card (masked), timeline, risk and frames."""

    TITLE_TEXT = "Payment"
    BINDINGS = [
        Binding("c", "capture", "Capture", id="payment.capture", tooltip="Capture (a part too)"),
        Binding(
            "v",
            "void",
            "Void",
            id="payment.void",
            tooltip="Void an authorization (a captured sale: refund what is left of it)",
        ),
        Binding("f", "refund", "Refund", id="payment.refund", tooltip="Refund (a part too)"),
        Binding("escape", "back", "Back", id="payment.back", tooltip="Back to the console"),
    ]

    def __init__(self, office: BackOffice, payment_id: str, manager: User) -> None:
        super().__init__()
        self.office = office
        self.payment_id = payment_id
        self.manager = manager
        self.payment: Payment | None = None
        self.frames: list[Frame] = []

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="payment-detail", classes="panel") as box:
            box.border_title = self.payment_id
            box.can_focus = True
            yield Line("", id="pay-note")
            yield Line("Loading…", id="pay-summary", classes="detail")
            yield Line("", id="pay-timeline", classes="detail")
            yield Line("", id="pay-risk", classes="detail")
            yield Line("", id="pay-frames", classes="detail")

    @while_shown
    def on_mount(self) -> None:
        self.query_one("#payment-detail").focus()
        self.reload()

    def reload(self) -> None:
        """Read the payment, its events and its frames again."""
        self.load()
        self.load_frames()

    @work(thread=True, exclusive=True, group="payment-load", exit_on_error=False)
    def load(self) -> None:
        try:
            payment, events = self.office.payment_detail(self.payment_id)
        except PaygateError as exc:
            self.app.call_from_thread(self.note, str(exc), "error")
            return
        self.app.call_from_thread(self.show, payment, events)

    @work(exclusive=True, group="payment-frames", exit_on_error=False)
    async def load_frames(self) -> None:
        try:
            frames = await self.office.frames(self.payment_id)
        except PaygateError as exc:
            self.query_one("#pay-frames", Line).update(f"The bank's frames cannot be read: {exc}")
            return
        self.show_frames(frames)

    @while_shown
    def show_frames(self, frames: list[Frame]) -> None:
        self.frames = frames
        if self.payment is not None and (self.payment.card is None or self.payment.processor):
            return  # a UPI payment or one at a processor: no ISO 8583 frames (`show` says so)
        view = frames_view(frames, self.office.settings.tz, self.office.field_rows)
        self.query_one("#pay-frames", Line).update(
            Group(Text("ISO 8583 frames", style="bold underline"), view)
        )

    @while_shown
    def show(self, payment: Payment, events: list[Record]) -> None:
        self.payment = payment
        tz = self.office.settings.tz
        cur = payment.currency

        def amount(minor: int) -> str:
            return format_money(Money(minor, cur))

        facts = Table(box=None, show_header=False, pad_edge=False, expand=True)
        facts.add_column("What", style="bold", no_wrap=True, width=14)
        facts.add_column("Value", ratio=1)
        code = payment.response_code or "--"
        rows = [
            ("Status", headline(payment)),
            ("Response", f"{code} {code_text(payment)}"),
            ("Authorized", f"{amount(payment.amount)} (tip {amount(payment.tip)})"),
            ("Captured", amount(payment.amount_captured)),
            ("Refunded", amount(payment.amount_refunded)),
            *_means_rows(payment, tz),
            ("Terminal", f"{payment.terminal_id} · {payment.operator}"),
            ("Taken", stamp_text(payment.created_at, tz)),
        ]
        if payment.processor:
            rows.append(
                ("Processor", f"{payment.processor} · {payment.processor_reference or '--'}")
            )
        for row in rows:
            facts.add_row(*row)
        self.query_one("#pay-summary", Line).update(facts)
        timeline = Table(
            box=None, pad_edge=False, expand=True, title="Timeline", title_justify="left"
        )
        timeline.add_column("Time", no_wrap=True)
        timeline.add_column("Who", no_wrap=True)
        timeline.add_column("What", ratio=1)
        for e in events:
            when = time_text(datetime.fromisoformat(e["time"]), tz)
            details = ", ".join(
                f"{k} {amount(v) if k in MONEY_DETAILS and isinstance(v, int) else v}"
                for k, v in (e.get("details") or {}).items()
            )
            what = f"{e['action']}  {details}".strip()
            if e["action"] == "payment.attempt":
                what = f"attempt  {attempt_text(e.get('details') or {})}"
            timeline.add_row(when, Text(str(e["actor"])), Text(what))  # as recorded, not markup
        self.query_one("#pay-timeline", Line).update(timeline)
        self.query_one("#pay-risk", Line).update(self._risk(payment))
        if payment.processor:
            self.query_one("#pay-frames", Line).update(
                f"No ISO 8583 frames: the payment went through {payment.processor}"
            )
        elif payment.card is None:
            self.query_one("#pay-frames", Line).update(
                "No ISO 8583 frames: a UPI payment goes through the UPI switch"
            )

    def _risk(self, payment: Payment) -> Table | str:
        risk = payment.risk
        if risk is None:
            return "Risk: no assessment recorded"
        review = " · flagged for review" if risk.review else ""
        title = f"Risk: score {risk.score}/100, verdict {risk.action}{review}"
        table = Table(box=None, pad_edge=False, expand=True, title=title, title_justify="left")
        table.add_column("Rule", no_wrap=True)
        table.add_column("Points", justify="right")
        table.add_column("Why", ratio=1)
        for factor in risk.factors:
            table.add_row(factor.rule, str(factor.points), factor.reason)
        if not risk.factors:
            table.add_row("no rule fired", "", "")
        return table

    @while_shown
    def note(self, text: str, tone: str = "") -> None:
        line = self.query_one("#pay-note", Line)
        line.set_class(tone == "error", "-error")
        line.set_class(tone == "ok", "-ok")
        line.display = bool(text)
        line.update(sentence(text))

    # -- actions ----------------------------------------------------------------------
    def _ask(self, kind: Kind) -> None:
        payment = self.payment
        if payment is None:
            return
        self.note("")
        if kind == "void" and void_kind(payment) == "refund":  # captured: the void refunds
            if payment.refundable <= 0:
                self.note(f"Payment {payment.id} is already fully refunded", "error")
                return
            approval = ActionApproval("refund", payment, payment.refundable, self, voiding=True)
            self.app.push_screen(approval, self._done)
            return
        if kind == "void":
            self.app.push_screen(ActionApproval(kind, payment, None, self), self._done)
            return
        whole = payment.amount if kind == "capture" else payment.refundable
        text = (
            f"Authorized {format_money(payment.money)}: capture all, or type less."
            if kind == "capture"
            else f"Captured {format_money(Money(payment.amount_captured, payment.currency))}, "
            f"refundable {format_money(Money(payment.refundable, payment.currency))}."
        )

        def amount_given(minor: int | None) -> None:
            if minor is not None:
                self.app.push_screen(ActionApproval(kind, payment, minor, self), self._done)

        self.app.push_screen(
            AmountScreen(kind.title(), text, payment.currency, max(whole, 0)), amount_given
        )

    def _done(self, result: Payment | None) -> None:
        if result is not None:
            self.reload()

    def action_capture(self) -> None:
        self._ask("capture")

    def action_void(self) -> None:
        self._ask("void")

    def action_refund(self) -> None:
        self._ask("refund")

    def action_back(self) -> None:
        self.dismiss()
