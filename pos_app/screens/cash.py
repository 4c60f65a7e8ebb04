"""The cash sale: the amount due (rounded as the settings say, the rounding its own line),
the cash handed over keyed in (the keyboard or the keypad) or chosen with a quick key
(the exact amount, the next notes up), and the change due in large digits as it is
keyed. Enter takes it: the desk asks the gateway (a worker) and moves on to the result,
or answers `refused`."""

from __future__ import annotations

from typing import Protocol

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Digits

from gateway_core.currencies import CURRENCIES
from gateway_core.money import Money, MoneyError
from gateway_core.presentation import format_money
from gateway_core.settings import Settings
from gateway_core.shift_models import DENOMINATIONS
from pos_app.screens.base import PosScreen, sentence, while_shown
from pos_app.screens.state import SaleDraft, typed_display
from pos_app.widgets.keypad import Keypad
from pos_app.widgets.line import Line

QUICK_KEYS = ("a", "b", "d", "f")  # the next notes up, after e (the exact amount)


class CashDesk(Protocol):
    """What the cash screen reads and asks for."""

    settings: Settings

    def take_cash(self, view: CashView, tendered: int) -> None: ...

    def leave_cash(self, view: CashView) -> None: ...


class CashView(Protocol):
    """The cash screen as the desk answers it."""

    total: Money
    bill_id: str | None

    def refused(self, text: str) -> None: ...


def cash_due(amount: int, currency: str, settings: Settings) -> int:
    """The amount due in cash: `amount` rounded half up to the currency's step
    (settings.cash.rounding; none: the amount itself)."""
    step = settings.cash.rounding.get(currency, 0)
    if step <= 1:
        return amount
    return (amount + step // 2) // step * step


def quick_amounts(due: int, currency: str, count: int = len(QUICK_KEYS)) -> list[int]:
    """What a customer is likely to hand over for `due`, above it: the due rounded up to
    each note (10 units and more), then more of the largest note."""
    unit = 10 ** CURRENCIES[currency].exponent
    notes = [d for d in DENOMINATIONS.get(currency, ()) if d >= 10 * unit] or [10 * unit]
    found = sorted({-(-due // note) * note for note in notes} - {due})
    largest = max(notes)
    more = -(-due // largest) * largest
    while len(found) < count:
        more += largest
        if more not in found:
            found.append(more)
    return found[:count]


def _keypad_bindings() -> list[Binding]:
    keys = [(str(d), str(d), f"Type {d}") for d in range(10)]
    keys += [
        ("full_stop", ".", "Decimal point"),
        ("plus,equals_sign", "00", "Type 00"),
        ("backspace", "backspace", "Delete the last digit"),
        ("delete", "clear", "Clear the amount tendered"),
    ]
    names = {".": "decimal", "00": "double_zero", "backspace": "backspace", "clear": "clear"}
    return [
        Binding(
            key,
            f"key('{what}')",
            what,
            show=False,
            id=f"cash.{names.get(what, 'digit_' + what)}",
            tooltip=f"{tip} (cash tendered)",
        )
        for key, what, tip in keys
    ]


class CashScreen(PosScreen):
    """Key the cash handed over; the change shows as it is keyed; Enter takes it."""

    TITLE_TEXT = "Cash"
    AUTO_FOCUS = ""
    BINDINGS = [
        Binding("enter", "take", "Take cash", id="cash.take", tooltip="Take the cash"),
        Binding("e", "quick(0)", "Exact", id="cash.exact", tooltip="Tendered: the exact amount"),
        *(
            Binding(
                key,
                f"quick({n})",
                f"Note {n}",
                show=False,
                id=f"cash.quick_{n}",
                tooltip=f"Tendered: the quick amount {n} (the next notes up)",
            )
            for n, key in enumerate(QUICK_KEYS, 1)
        ),
        Binding("escape", "back", "Back", id="cash.back", tooltip="Back to the sale"),
        *_keypad_bindings(),
    ]

    def __init__(self, desk: CashDesk, total: Money, *, bill_id: str | None = None) -> None:
        super().__init__()
        self.desk = desk
        self.total = total
        self.bill_id = bill_id  # a part of this split bill
        self.due = cash_due(total.minor, total.currency, desk.settings)
        self.quick = [self.due, *quick_amounts(self.due, total.currency)]
        self.tendered = SaleDraft(
            total.currency, max(desk.settings.max_minor(total.currency), self.quick[-1])
        )
        self.busy = False

    def money(self, minor: int) -> str:
        return format_money(Money(minor, self.total.currency))

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="cash"):
            with Vertical(id="cash-left", classes="panel") as left:
                left.border_title = "Cash part of the bill" if self.bill_id else "Cash"
                yield Line("Due", classes="field-label")
                yield Digits(self.money(self.due), id="cash-due")
                yield Line(self._rounding_text(), id="cash-rounding")
                yield Line("Tendered  (0-9 . + ⌫ Del)", classes="field-label")
                yield Digits("0", id="cash-tendered")
                yield Line("", id="cash-note", classes="field-error")
                yield Line("Change", classes="field-label")
                yield Digits("", id="cash-change")
                yield Line("Enter: take the cash · Esc: back to the sale", id="cash-help")
            with Vertical(id="cash-right", classes="panel") as right:
                right.border_title = "Tendered"
                for n, (key, amount) in enumerate(zip(("e", *QUICK_KEYS), self.quick, strict=True)):
                    label = f"{key}  {'Exact ' if n == 0 else ''}{self.money(amount)}"
                    button = Button(label, id=f"quick-{n}", classes="quick", compact=True)
                    button.can_focus = False
                    yield button
                yield Keypad(id="cash-keypad")

    def _rounding_text(self) -> str:
        rounding = self.due - self.total.minor
        if not rounding:
            return ""
        sign = "+" if rounding > 0 else "-"
        return f"Bill {self.money(self.total.minor)} · rounding {sign}{self.money(abs(rounding))}"

    @while_shown
    def on_mount(self) -> None:
        self.refresh_cash()

    @while_shown
    def refresh_cash(self) -> None:
        draft = self.tendered
        text = draft.amount_text
        self.query_one("#cash-tendered", Digits).update(
            typed_display(text, draft.currency) if text else "0"
        )
        given = draft.amount_or_zero().minor
        change = self.query_one("#cash-change", Digits)
        short = given < self.due
        change.update(self.money(given - self.due) if given and not short else "")
        change.set_class(given > 0 and not short, "-ready")

    @while_shown
    def _note(self, text: str) -> None:
        self.query_one("#cash-note", Line).update(sentence(text) if text else "")

    # -- keys ---------------------------------------------------------------------------
    def action_key(self, key: str) -> None:
        if self.busy:
            return
        problem = self.tendered.key(key)
        self._note(problem or "")
        self.refresh_cash()

    def action_quick(self, n: int) -> None:
        if self.busy:
            return
        amount = Money(self.quick[n], self.total.currency)
        self.tendered.amount_text = format_money(amount, symbol=False).replace(",", "")
        self._note("")
        self.refresh_cash()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_quick(int((event.button.id or "quick-0").removeprefix("quick-")))

    def on_keypad_pressed(self, event: Keypad.Pressed) -> None:
        event.stop()
        if event.key == "enter":
            self.action_take()
        else:
            self.action_key(event.key)

    def action_take(self) -> None:
        if self.busy:
            return
        try:
            given = self.tendered.amount().minor
        except MoneyError:
            self._note("key the cash handed over, or e for the exact amount")
            return
        if given < self.due:
            self._note(f"tendered {self.money(given)} is less than the {self.money(self.due)} due")
            return
        self.busy = True
        self._note("")
        self.query_one("#cash-note", Line).update("Taking the cash…")
        self.desk.take_cash(self, given)

    @while_shown
    def refused(self, text: str) -> None:
        """The gateway refused the cash (one line); the cashier may key it again."""
        self.busy = False
        self._note(text)

    def action_back(self) -> None:
        if not self.busy:
            self.desk.leave_cash(self)
