"""The sale: a big amount, a keypad (keyboard or on screen), tip, total and reference."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Digits, Input, Label

from gateway_core.currencies import CURRENCIES
from gateway_core.money import Money, MoneyError
from gateway_core.presentation import format_money
from pos_app.screens.base import PosScreen, sentence, while_shown
from pos_app.screens.hosts import SaleDesk
from pos_app.screens.state import REFERENCE_MAX, TIP_CHOICES, TIP_LABELS, typed_display
from pos_app.widgets.fields import Field
from pos_app.widgets.keypad import Keypad
from pos_app.widgets.line import Line


def _digit_bindings() -> list[Binding]:
    return [
        Binding(
            str(d),
            f"key('{d}')",
            str(d),
            show=False,
            id=f"sale.digit_{d}",
            tooltip=f"Type {d} into the amount",
        )
        for d in range(10)
    ]


TENDER_HELP = (
    "Pay: Enter card · u UPI · c cash · s split\n"
    "     n net banking / payment link\n"
    "Shift: o open / close · m paid in / out"
)


class SaleScreen(PosScreen):
    """Key the amount; Enter goes on to the card, u to UPI, c to cash (the tender, by
    key); o opens or closes the cashier's shift."""

    TITLE_TEXT = "Sale"
    AUTO_FOCUS = ""
    day_note = ""  # once today's Z report is taken: sales count for the next business day
    BINDINGS = [
        Binding("enter", "to_card", "Card", id="sale.card", tooltip="Go on to the card"),
        Binding(
            "u",
            "to_upi",
            "UPI",
            id="sale.upi",
            tooltip="Take the total by UPI: a QR the customer scans (rupees only)",
        ),
        Binding(
            "c",
            "to_cash",
            "Cash",
            show=False,
            id="sale.cash",
            tooltip="Take the total in cash: the cash tendered and the change (an open shift)",
        ),
        Binding(
            "n",
            "to_link",
            "Link",
            show=False,
            id="sale.link",
            tooltip="A payment link: the checkout page as a QR (card, UPI, net banking)",
        ),
        Binding(
            "s",
            "to_split",
            "Split",
            show=False,
            id="sale.split",
            tooltip="Split the total: a bill paid in parts by card, UPI and cash",
        ),
        Binding(
            "m",
            "drawer",
            "Drawer",
            show=False,
            id="sale.drawer",
            tooltip="Cash paid into or out of the drawer (a reason, a manager approves)",
        ),
        Binding(
            "o",
            "shift",
            "Shift",
            show=False,
            id="sale.shift",
            tooltip="Open a shift (count the float) or close it (count the drawer)",
        ),
        Binding(
            "t", "next_tip", "Tip", id="sale.tip", tooltip="Next tip: none, 10, 15, 20 %, custom"
        ),
        Binding("r", "reference", "Ref", id="sale.reference", tooltip="Type a reference"),
        Binding(
            "a",
            "toggle_capture",
            "Pre-auth",
            id="sale.preauth",
            tooltip="Switch between a sale and a pre-authorization (captured later)",
        ),
        Binding(
            "ctrl+l",
            "app.logout",
            "Log out",
            id="app.logout",
            tooltip="Sign out; the next cashier signs in",
        ),
        *_digit_bindings(),
        Binding(
            "full_stop",
            "key('.')",
            ".",
            show=False,
            id="sale.decimal",
            tooltip="Decimal point",
        ),
        Binding(
            "plus,equals_sign",
            "key('00')",
            "00",
            show=False,
            key_display="+",
            id="sale.double_zero",
            tooltip="Type 00 into the amount",
        ),
        Binding(
            "backspace",
            "key('backspace')",
            "⌫",
            show=False,
            id="sale.backspace",
            tooltip="Delete the last digit of the amount",
        ),
        Binding(
            "delete",
            "key('clear')",
            "Clear",
            show=False,
            id="sale.clear",
            tooltip="Clear the amount",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            show=False,
            id="sale.back",
            tooltip="Leave the reference or custom tip field (back to the amount)",
        ),
    ]

    def __init__(self, desk: SaleDesk) -> None:
        super().__init__()
        self.desk = desk

    def compose_body(self) -> ComposeResult:
        draft = self.desk.draft
        symbol = CURRENCIES[draft.currency].symbol.strip()
        with Horizontal(id="sale"):
            with Vertical(id="sale-left", classes="panel") as left:
                left.border_title = f"Amount ({draft.currency})"
                with Horizontal(id="amount-row"):
                    yield Line(symbol, id="currency-symbol")
                    yield Digits("0", id="amount")
                yield Line("", id="amount-note", classes="field-error")
                yield Label("Tip  (t)", classes="field-label")
                with Horizontal(id="tips"):
                    for choice in TIP_CHOICES:
                        button = Button(
                            TIP_LABELS[choice], id=f"tip-{choice}", classes="tip", compact=True
                        )
                        button.can_focus = False
                        yield button
                yield Field(
                    id="custom-tip",
                    placeholder="tip amount, then Enter",
                    restrict=r"[0-9.,]*",
                    max_length=12,
                    compact=True,
                    refused_note="a tip takes the digits 0-9 and a decimal point",
                )
                yield Line("", id="totals")
                yield Label("Reference  (r, optional)", classes="field-label")
                yield Field(
                    id="reference",
                    placeholder="e.g. table 7 / order 1042",
                    max_length=REFERENCE_MAX,
                    compact=True,
                )
                yield Line("", id="capture-mode")
                yield Line(TENDER_HELP, id="tender-help")
            with Vertical(id="sale-right", classes="panel") as right:
                right.border_title = "Keypad"
                yield Keypad(id="keypad")
                yield Line(
                    "Keys: 0-9 . +(00) ⌫ Del(clear)",
                    id="keypad-help",
                )

    @while_shown
    def on_mount(self) -> None:
        self.reset()

    @while_shown
    def reset(self) -> None:
        """Show the app's sale as it is now (a new sale after a result)."""
        draft = self.desk.draft
        self.query_one("#custom-tip", Field).value = draft.tip_text
        self.query_one("#reference", Field).value = draft.reference
        self.day_note = self.desk.day_note()
        self._note("")
        self.set_focus(None)
        self.refresh_sale()

    def on_screen_resume(self) -> None:
        day_note = self.desk.day_note()
        if day_note != self.day_note:  # a Z report was taken meanwhile (the console)
            self.day_note = day_note
            self._note("")
        self.refresh_sale()

    # -- drawing ------------------------------------------------------------------------
    @while_shown
    def refresh_sale(self) -> None:
        draft = self.desk.draft
        shown = typed_display(draft.amount_text, draft.currency) if draft.amount_text else "0"
        self.query_one("#amount", Digits).update(shown)
        for choice in TIP_CHOICES:
            self.query_one(f"#tip-{choice}", Button).set_class(choice == draft.tip, "-chosen")
        custom = self.query_one("#custom-tip", Field)
        custom.display = draft.tip == "custom"
        totals = self.query_one("#totals", Line)
        amount = draft.amount_or_zero()
        try:
            tip = draft.tip_amount()
        except MoneyError as exc:
            totals.update(f"Tip: {exc}")
            totals.set_class(True, "-error")
        else:
            total = amount + tip
            totals.set_class(total.minor > draft.max_minor, "-error")
            if tip.is_zero:
                totals.update(f"Total {format_money(total)}")
            else:
                totals.update(
                    f"Amount {format_money(amount)} + tip {format_money(tip)}\n"
                    f"Total  {format_money(total)}"
                )
        mode = self.query_one("#capture-mode", Line)
        if draft.capture == "manual":
            mode.update("Pre-auth, captured later · a: sale")
        else:
            mode.update("Sale, captured at once · a: pre-auth")

    @while_shown
    def _note(self, text: str) -> None:
        """A note under the amount; with none, the day's (`day_note`)."""
        self.query_one("#amount-note", Line).update(text or self.day_note)

    # -- keys ---------------------------------------------------------------------------
    def action_key(self, key: str) -> None:
        problem = self.desk.draft.key(key)
        self._note(sentence(problem) if problem else "")
        self.refresh_sale()

    def on_keypad_pressed(self, event: Keypad.Pressed) -> None:
        if event.key == "enter":
            self.action_to_card()
        elif event.key == "00":
            self.action_key("00")
        else:
            self.action_key(event.key)

    def on_key(self, event) -> None:
        # Letters and other printable keys that are no binding: say what an amount takes.
        char = event.character
        if self.focused is not None or event.key in self.app.active_bindings:
            return
        if char and len(char) == 1 and char.isprintable() and not char.isspace():
            self._note('Amounts take the digits 0-9 and "." (t: tip, r: reference)')

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button_id = event.button.id or ""
        if button_id.startswith("tip-"):
            event.stop()
            self._choose_tip(button_id.removeprefix("tip-"))

    def action_next_tip(self) -> None:
        self._choose_tip(self.desk.draft.next_tip())

    def _choose_tip(self, choice: str) -> None:
        draft = self.desk.draft
        draft.tip = choice  # type: ignore[assignment]
        self.refresh_sale()
        if choice == "custom":
            self.set_focus(self.query_one("#custom-tip", Field))
        elif self.focused is not None and self.focused.id == "custom-tip":
            self.set_focus(None)

    def action_reference(self) -> None:
        self.set_focus(self.query_one("#reference", Field))

    def action_toggle_capture(self) -> None:
        draft = self.desk.draft
        draft.capture = "manual" if draft.capture == "automatic" else "automatic"
        self.refresh_sale()

    def action_back(self) -> None:
        self.set_focus(None)

    @while_shown
    def on_input_changed(self, event: Input.Changed) -> None:
        draft = self.desk.draft
        if event.input.id == "custom-tip":
            draft.tip_text = event.value
            self.refresh_sale()
        elif event.input.id == "reference":
            draft.reference = event.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.set_focus(None)

    def on_field_refused(self, event: Field.Refused) -> None:
        self._note(sentence(event.note))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "to_upi":  # UPI takes rupees only
            return self.desk.draft.currency == "INR"
        return True

    def _total_ok(self) -> bool:
        """Whether the amount and total can be sent (else why not, under the amount)."""
        draft = self.desk.draft
        try:
            draft.amount()
            draft.total()
        except MoneyError as exc:
            self._note(sentence(str(exc)))
            return False
        self._note("")
        return True

    def action_to_card(self) -> None:
        if self._total_ok():
            self.desk.open_card()

    def action_to_upi(self) -> None:
        if self._sale_only("UPI"):
            self.desk.start_upi()

    def action_to_cash(self) -> None:
        if self._sale_only("Cash"):
            self.desk.start_cash()

    def _sale_only(self, tender: str) -> bool:
        """Whether the total can go to a tender that has no pre-authorization."""
        if self.desk.draft.capture == "manual":
            self._note(f"{tender} has no pre-authorization: a switches back to a sale")
            return False
        return self._total_ok()

    def action_to_link(self) -> None:
        if self._sale_only("A payment link"):
            self.desk.start_link()

    def action_to_split(self) -> None:
        if self._sale_only("A split bill"):
            self.desk.start_split()

    def action_drawer(self) -> None:
        self.desk.open_drawer_move()

    def action_shift(self) -> None:
        self.desk.open_shift_screens()

    def total_text(self) -> str:
        draft = self.desk.draft
        try:
            return format_money(draft.total())
        except MoneyError:
            return format_money(Money.zero(draft.currency))
