"""The card: number (masked, grouped per brand, live brand badge), expiry, CVV (hidden).

Feedback does not nag: while the number is still being typed the field only counts;
an error shows once the number is as long as the brand allows, when the cashier moves
on, or presses Enter. Each error sits under the field it concerns, in plain words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import SecretStr
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option

from gateway_core.cards import (
    CardError,
    CardInput,
    check_card,
    mask_pan,
    validate_cvv,
    validate_expiry,
    validate_pan,
)
from gateway_core.money import MoneyError
from gateway_core.presentation import format_money
from pos_app.screens.base import PosModal, PosScreen, while_shown
from pos_app.screens.hosts import SaleDesk
from pos_app.widgets.card_number import CardNumberField
from pos_app.widgets.fields import Field, secret_digits
from pos_app.widgets.line import Line
from pos_app.wiring import CardHint

FIELDS = ("number", "expiry", "cvv")


class CardScreen(PosScreen):
    """Key the card; Enter moves on, and pays from the last field."""

    TITLE_TEXT = "Card"
    BINDINGS = [
        Binding(
            "enter",
            "next_or_pay",
            "Next / Pay",
            id="card.pay",
            tooltip="Check this field and go to the next; on the CVV, send the payment",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            id="card.back",
            tooltip="Back to the amount (what was typed here is kept)",
        ),
        Binding(
            "ctrl+d",
            "demo_cards",
            "Demo cards",
            id="card.demo_cards",
            tooltip="Pick one of the demo test cards (demo mode only)",
        ),
    ]

    def compose_body(self) -> ComposeResult:
        draft = self.desk.draft
        with Vertical(id="card", classes="panel") as panel:
            panel.border_title = "Card"
            yield Line(self._summary(), id="card-summary")
            yield Label("Card number", classes="field-label")
            with Horizontal(id="number-row"):
                yield CardNumberField(id="card-number")
                yield Line("", id="brand-badge")
            yield Line("", id="number-note", classes="field-note")
            with Horizontal(id="exp-cvv"):
                with Vertical(id="expiry-box"):
                    yield Label("Expiry (MM/YY)", classes="field-label")
                    yield Field(
                        id="card-expiry",
                        placeholder="MM/YY",
                        restrict=r"[0-9/ ]*",
                        max_length=7,
                        refused_note="an expiry is MM/YY: digits and /",
                    )
                    yield Line("", id="expiry-note", classes="field-note")
                with Vertical(id="cvv-box"):
                    yield Label("CVV", classes="field-label")
                    yield secret_digits(
                        "card-cvv",
                        4,
                        "a security code is 3 or 4 digits",
                        placeholder="3 or 4 digits",
                    )
                    yield Line("", id="cvv-note", classes="field-note")
            mode = "pre-authorization" if draft.capture == "manual" else "sale"
            hint = f"Enter: next field, then pay ({mode}) · Tab: move · Esc: back to the amount"
            yield Line(hint, id="card-hint")

    def __init__(self, desk: SaleDesk, *, error: tuple[str | None, str] | None = None) -> None:
        super().__init__()
        self.desk = desk
        self.error = error  # (field, message) from the last attempt

    def _summary(self) -> str:
        draft = self.desk.draft
        try:
            total = draft.total()
        except MoneyError:
            return ""
        tip = draft.tip_or_zero()
        parts = [f"Total {format_money(total)}"]
        if not tip.is_zero:
            parts.append(f"(amount {format_money(draft.amount())} + tip {format_money(tip)})")
        if draft.reference:
            parts.append(f"· ref {draft.reference}")
        return " ".join(parts)

    @while_shown
    def on_mount(self) -> None:
        draft = self.desk.draft
        number = self.query_one(CardNumberField)
        number.set_secret(draft.pan)
        self.query_one("#card-expiry", Field).value = draft.expiry
        self.query_one("#card-cvv", Field).value = draft.cvv.get_secret_value() if draft.cvv else ""
        self.set_focus(number)
        self._number_feedback()
        if self.error is not None:  # after the feedback the fields' first values trigger
            self.call_after_refresh(self.show_error, *self.error)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "demo_cards":
            return self.desk.demo
        return True

    # -- feedback -----------------------------------------------------------------------
    @while_shown
    def _note(self, field: str, text: str, kind: str = "error") -> None:
        note = self.query_one(f"#{field}-note", Line)
        note.update(text[:1].upper() + text[1:] if text else "")
        for k in ("error", "ok", "info"):
            note.set_class(k == kind and bool(text), f"-{k}")

    @while_shown
    def _number_feedback(self, refused: str | None = None, final: bool = False) -> bool:
        number = self.query_one(CardNumberField)
        brand, n = number.brand, number.length
        badge = self.query_one("#brand-badge", Line)
        badge.update(brand.display.upper() if brand else "")
        badge.set_class(brand is not None, "-known")
        cvv = self.query_one("#card-cvv", Field)
        cvv.max_length = brand.cvv_length if brand else 4
        cvv.placeholder = f"{brand.cvv_length} digits" if brand else "3 or 4 digits"
        if refused:
            self._note("number", refused)
            return False
        if n == 0:
            self._note("number", "Enter the card number" if final else "")
            return False
        if brand is None:
            if n >= 6 or final:
                self._note("number", "card type not accepted - check the number")
            else:
                self._note("number", f"{n} digits", "info")
            return False
        complete = n in brand.lengths
        luhn = number.luhn_ok()
        if complete and luhn:
            self._note("number", f"✓ {brand.display}, {n} digits", "ok")
            return True
        if final or n >= max(brand.lengths):
            try:
                validate_pan(number.secret())
            except CardError as exc:
                self._note("number", str(exc))
            return False
        self._note("number", f"{brand.display}: {n} digits", "info")
        return False

    def _today(self) -> date:
        return self.desk.now().date()

    @while_shown
    def _expiry_feedback(self, final: bool = False) -> bool:
        text = self.query_one("#card-expiry", Field).value.strip()
        digits = sum(ch.isdigit() for ch in text)
        if not text:
            self._note("expiry", "enter the expiry date (MM/YY)" if final else "")
            return False
        if digits < 4 and not final:
            self._note("expiry", "")
            return False
        try:
            expiry = validate_expiry(text, self._today())
        except CardError as exc:
            self._note("expiry", str(exc))
            return False
        if final and text != str(expiry):
            self.query_one("#card-expiry", Field).value = str(expiry)  # 1230 → 12/30
        self._note("expiry", "✓", "ok")
        return True

    @while_shown
    def _cvv_feedback(self, final: bool = False) -> bool:
        value = self.query_one("#card-cvv", Field).value
        brand = self.query_one(CardNumberField).brand
        if not value:
            self._note("cvv", "enter the security code" if final else "")
            return False
        if brand is None:
            self._note("cvv", "")
            return False
        if len(value) < brand.cvv_length and not final:
            self._note("cvv", "")
            return False
        try:
            validate_cvv(SecretStr(value), brand)
        except CardError as exc:
            self._note("cvv", str(exc))
            return False
        self._note("cvv", "✓", "ok")
        return True

    @while_shown
    def on_card_number_field_changed(self, event: CardNumberField.Changed) -> None:
        self._number_feedback(event.note)
        self._cvv_feedback()

    @while_shown
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "card-expiry":
            self._expiry_feedback()
        elif event.input.id == "card-cvv":
            self._cvv_feedback()

    @while_shown
    def on_field_refused(self, event: Field.Refused) -> None:
        field = "expiry" if event.field.id == "card-expiry" else "cvv"
        self._note(field, event.note)

    @while_shown
    def on_descendant_blur(self, event) -> None:
        widget = event.widget
        if widget.id == "card-number" and self.query_one(CardNumberField).length:
            self._number_feedback(final=True)
        elif widget.id == "card-expiry" and self.query_one("#card-expiry", Field).value:
            self._expiry_feedback(final=True)

    # -- moving on ------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_next_or_pay()

    @while_shown
    def action_next_or_pay(self) -> None:
        focused = self.focused
        number = self.query_one(CardNumberField)
        expiry = self.query_one("#card-expiry", Field)
        cvv = self.query_one("#card-cvv", Field)
        if focused is number:
            if self._number_feedback(final=True):
                self.set_focus(cvv if expiry.value and self._expiry_feedback() else expiry)
            return
        if focused is expiry:
            if self._expiry_feedback(final=True):
                self.set_focus(cvv)
            return
        self.pay()

    @while_shown
    def pay(self) -> None:
        number = self.query_one(CardNumberField)
        expiry = self.query_one("#card-expiry", Field)
        cvv = self.query_one("#card-cvv", Field)
        checks = [
            ("number", self._number_feedback(final=True), number),
            ("expiry", self._expiry_feedback(final=True), expiry),
            ("cvv", self._cvv_feedback(final=True), cvv),
        ]
        for _name, ok, widget in checks:
            if not ok:
                self.set_focus(widget)
                return
        card = CardInput(pan=number.secret(), expiry=expiry.value.strip(), cvv=SecretStr(cvv.value))
        try:
            check_card(card, self._today())
        except CardError as exc:
            self._note(exc.field, str(exc))
            self.set_focus({"number": number, "expiry": expiry, "cvv": cvv}[exc.field])
            return
        masked = mask_pan(card.pan)
        brand = number.brand
        self.desk.start_charge(card, masked=f"{brand.display if brand else 'Card'} {masked}")

    @while_shown
    def show_error(self, field: str | None, message: str) -> None:
        """An error from the gateway, put under the field it concerns."""
        target = field if field in FIELDS else "number"
        self._note(target, message)

    @while_shown
    def clear_card(self) -> None:
        """Forget the card: the authorization has returned."""
        self.query_one(CardNumberField).clear()
        self.query_one("#card-expiry", Field).value = ""
        self.query_one("#card-cvv", Field).value = ""
        for field in FIELDS:
            self._note(field, "")

    @while_shown
    def action_back(self) -> None:
        number = self.query_one(CardNumberField)
        cvv = self.query_one("#card-cvv", Field).value
        self.desk.draft.keep_card(
            number.secret() if number.length else None,
            self.query_one("#card-expiry", Field).value,
            SecretStr(cvv) if cvv else None,
        )
        self.dismiss()

    def action_demo_cards(self) -> None:
        if not self.desk.demo:
            return

        def chosen(index: int | None) -> None:
            if index is None:
                return
            card = self.desk.test_cards[index]
            number = self.query_one(CardNumberField)
            number.set_secret(SecretStr(card.digits))
            self.query_one("#card-expiry", Field).value = "12/30"
            self.query_one("#card-cvv", Field).value = card.cvv
            self._number_feedback(final=True)
            self._expiry_feedback(final=True)
            self._cvv_feedback(final=True)
            self.set_focus(self.query_one("#card-cvv", Field))

        self.app.push_screen(DemoCardsScreen(self.desk.test_cards), chosen)


class DemoCardsScreen(PosModal[int | None]):
    """The demo test cards, one per scenario: Enter picks one."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="democards.cancel", tooltip="Close the list"),
    ]

    def __init__(self, cards: Sequence[CardHint]) -> None:
        super().__init__()
        self.cards = cards

    def compose(self) -> ComposeResult:
        with Vertical(id="demo-cards", classes="dialog") as box:
            box.border_title = "Demo test cards (Enter picks)"
            options = [
                Option(f"{card.label:<19} {mask_pan(card.pan):<19} {card.behaviour}", id=str(i))
                for i, card in enumerate(self.cards)
            ]
            yield OptionList(*options, id="demo-card-list")
        yield Footer(compact=True, show_command_palette=False)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)
