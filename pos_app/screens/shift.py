"""The cashier's shift: open it with the float counted by denomination, close it with
the drawer counted (expected against counted, over / short; a manager approves a short
over the limit), and the shift report, printed like a receipt.

A count is one row per note and coin: the pieces are typed, each row shows its value
and the total runs below. Enter (or ↓) goes to the next row; Enter on the last row, or
ctrl+s anywhere, sends the count. Cash paid into or out of the drawer (a reason, a
manager's approval) is a dialog over the sale. Every gateway call is the desk's (a
worker)."""

from __future__ import annotations

from typing import Any, Literal, Protocol

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Input, Label, RadioButton, RadioSet

from gateway_core.currencies import CURRENCIES
from gateway_core.money import Money, MoneyError, parse_amount
from gateway_core.ports import Approval
from gateway_core.presentation import format_money
from gateway_core.settings import Settings
from gateway_core.shift_models import DENOMINATIONS, Count, Shift, ShiftReport, count_total
from pos_app.screens.base import PosModal, PosScreen, sentence, while_shown
from pos_app.screens.modals import Approve, ManagerApprovalScreen, ReceiptDialog
from pos_app.screens.receipt import denomination_label, over_short_word, shift_report_text
from pos_app.widgets.bigtext import BigText
from pos_app.widgets.fields import Field
from pos_app.widgets.line import Line

PIECES_MAX = 5  # digits of a row's pieces: up to 99,999 of one note
REASON_MAX = 80  # a paid in / out's reason
MOVE_WORDS = {"paid_in": "Paid in", "paid_out": "Paid out"}


class ShiftDesk(Protocol):
    """What the shift screens read and ask for."""

    settings: Settings

    def open_shift(self, view: CountView, count: Count) -> None: ...

    def close_shift(self, view: CountView, count: Count) -> None: ...

    def close_shift_approved(
        self, view: CountView, count: Count, approval: Approval, dialog: Any
    ) -> None: ...

    def leave_shift(self) -> None: ...


class CountView(Protocol):
    """A count screen as the desk answers it."""

    shift: Shift | None

    def refused(self, text: str) -> None: ...

    def needs_approval(self, text: str) -> None: ...


class ApprovalDialog(ManagerApprovalScreen):
    """A manager's ID and PIN for what is not a payment's void (a shift's short, a
    bill's refunds): the title and the words are given."""

    def __init__(self, title: str, text: str, approve: Approve) -> None:
        super().__init__(None, approve)  # type: ignore[arg-type]  # no payment: the words say what
        self.title_text, self.text = title, text

    def describe(self) -> tuple[str, str]:
        return self.title_text, self.text


class CountScreen(PosScreen):
    """One row per denomination, the pieces typed, the total running below."""

    AUTO_FOCUS = ""
    BINDINGS = [
        Binding("ctrl+s", "send", "Done", id="count.send", tooltip="Send the count"),
        Binding("down", "row(1)", "Next", show=False, id="count.next", tooltip="Next row"),
        Binding("up", "row(-1)", "Previous", show=False, id="count.previous", tooltip="Row above"),
        Binding("escape", "back", "Back", id="count.back", tooltip="Back, nothing counted"),
    ]
    PANEL_TITLE = ""

    def __init__(self, desk: ShiftDesk, currency: str, shift: Shift | None = None) -> None:
        super().__init__()
        self.desk = desk
        self.currency = currency
        self.shift = shift
        self.values = DENOMINATIONS.get(currency, (1,))
        self.busy = False

    def money(self, minor: int) -> str:
        return format_money(Money(minor, self.currency))

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="count"):
            with Vertical(id="count-left", classes="panel") as left:
                left.border_title = self.PANEL_TITLE
                with VerticalScroll(id="count-rows"):
                    for value in self.values:
                        with Horizontal(classes="count-row"):
                            label = denomination_label(value, self.currency)
                            if self.values == (1,):
                                label = f"Amount ({CURRENCIES[self.currency].symbol.strip()} minor)"
                            yield Line(label, classes="count-label")
                            yield Line("×", classes="count-times")
                            yield Field(
                                id=f"pieces-{value}",
                                classes="count-pieces",
                                restrict=r"[0-9]*",
                                max_length=PIECES_MAX,
                                compact=True,
                                refused_note="pieces take the digits 0-9",
                            )
                            yield Line("", id=f"row-{value}", classes="count-value")
                yield Line("", id="count-total")
            with Vertical(id="count-right", classes="panel") as right:
                right.border_title = "Drawer"
                yield from self.compose_side()
                yield Line("", id="count-note", classes="field-note")
                yield Line(
                    "Type the pieces of each note and coin. Enter / ↓: next row · ↑: back\n"
                    "Enter on the last row or ctrl+s: done · Esc: back",
                    id="count-help",
                )

    def compose_side(self) -> ComposeResult:
        yield from ()

    @while_shown
    def on_mount(self) -> None:
        self.set_focus(self.query_one(f"#pieces-{self.values[0]}", Field))
        self.refresh_count()

    def count(self) -> Count:
        """The pieces typed, per denomination (rows left empty: none)."""
        count: Count = {}
        for value in self.values:
            text = self.query_one(f"#pieces-{value}", Field).value
            if text and int(text):
                count[value] = int(text)
        return count

    @while_shown
    def refresh_count(self) -> None:
        count = self.count()
        for value in self.values:
            pieces = count.get(value, 0)
            self.query_one(f"#row-{value}", Line).update(
                f"= {self.money(value * pieces)}" if pieces else ""
            )
        self.query_one("#count-total", Line).update(f"Counted  {self.money(count_total(count))}")
        self.refresh_side(count_total(count))

    def refresh_side(self, counted: int) -> None:
        """What the right panel says of the count so far."""

    def on_input_changed(self, event: Input.Changed) -> None:
        self.refresh_count()

    def on_field_refused(self, event: Field.Refused) -> None:
        self.note(event.note, "error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == f"pieces-{self.values[-1]}":
            self.action_send()
        else:
            self.action_row(1)

    def action_row(self, step: int) -> None:
        focused = self.focused
        ids = [f"pieces-{v}" for v in self.values]
        at = ids.index(focused.id) if focused is not None and focused.id in ids else -1
        target = ids[max(0, min(len(ids) - 1, at + step))]
        field = self.query_one(f"#{target}", Field)
        self.set_focus(field)
        field.scroll_visible()

    @while_shown
    def note(self, text: str, tone: str = "") -> None:
        line = self.query_one("#count-note", Line)
        line.update(sentence(text) if text else "")
        for t in ("error", "ok", "info"):
            line.set_class(t == tone and bool(text), f"-{t}")

    def action_send(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.note("Sending the count…", "info")
        self.send(self.count())

    def send(self, count: Count) -> None:
        """Hand the count to the desk."""

    @while_shown
    def refused(self, text: str) -> None:
        self.busy = False
        self.note(text, "error")

    def needs_approval(self, text: str) -> None:
        self.busy = False

    def action_back(self) -> None:
        if not self.busy:
            self.desk.leave_shift()


class ShiftOpenScreen(CountScreen):
    """Open a shift: the float counted into the drawer."""

    TITLE_TEXT = "Open shift"
    PANEL_TITLE = "Float, counted"

    def __init__(self, desk: ShiftDesk, currency: str, *, then_cash: bool = False) -> None:
        super().__init__(desk, currency)
        self.then_cash = then_cash  # a cash sale waits for the shift

    def compose_side(self) -> ComposeResult:
        yield Line(
            f"No shift is open on {self.desk.settings.terminal_id}: count the float into "
            "the drawer to open one."
            + ("\nThe cash sale goes on once it is open." if self.then_cash else ""),
            id="count-intro",
        )

    def send(self, count: Count) -> None:
        self.desk.open_shift(self, count)


class ShiftCloseScreen(CountScreen):
    """Close the shift: the drawer counted against what it should hold."""

    TITLE_TEXT = "Close shift"
    PANEL_TITLE = "Drawer, counted"

    def __init__(self, desk: ShiftDesk, shift: Shift, expected: int) -> None:
        super().__init__(desk, shift.currency, shift)
        self.expected = expected

    def compose_side(self) -> ComposeResult:
        assert self.shift is not None
        yield Line(
            f"Shift {self.shift.id}\nOpened by {self.shift.cashier}, "
            f"float {self.money(self.shift.float_amount)}",
            id="count-intro",
        )
        yield Line(f"Expected  {self.money(self.expected)}", id="count-expected")
        yield Line("", id="count-over-short")

    def refresh_side(self, counted: int) -> None:
        diff = counted - self.expected
        line = self.query_one("#count-over-short", Line)
        word = over_short_word(diff)
        line.update(f"{word.title():<9} {self.money(abs(diff))}" if diff else "Balanced")
        line.set_class(diff < 0, "-short")
        line.set_class(diff > 0, "-over")

    def send(self, count: Count) -> None:
        self.desk.close_shift(self, count)

    def needs_approval(self, text: str) -> None:
        """The short is over the limit: a manager approves, the count goes again."""
        super().needs_approval(text)
        self.note(text, "error")
        count = self.count()

        def approve(approval: Approval, dialog: Any) -> None:
            self.desk.close_shift_approved(self, count, approval, dialog)

        short = self.money(self.expected - count_total(count))
        what = f"The drawer is {short} short: a manager approves closing the shift."
        self.app.push_screen(ApprovalDialog("Shift short", what, approve))


class ShiftReportScreen(PosScreen):
    """The closed shift: over / short in large type, the report as it is printed."""

    TITLE_TEXT = "Shift report"
    AUTO_FOCUS = ""
    BINDINGS = [
        Binding("enter,escape", "done", "New sale", id="shift.done", tooltip="Back to the sale"),
        Binding("p", "reprint", "Reprint", id="shift.reprint", tooltip="Print the report again"),
    ]

    def __init__(self, desk: ShiftDesk, report: ShiftReport) -> None:
        super().__init__()
        self.desk = desk
        self.report = report

    def compose_body(self) -> ComposeResult:
        shift = self.report.shift
        diff = shift.over_short or 0
        money = Money(abs(diff), shift.currency)
        with Horizontal(id="result"):
            with Vertical(id="result-left", classes="panel") as left:
                left.border_title = "Shift closed"
                word = over_short_word(diff)
                big = BigText(word, id="headline")
                big.set_class(diff < 0, "-error")
                big.set_class(diff > 0, "-warning")
                big.set_class(diff == 0, "-success")
                yield big
                yield Line(
                    f"{format_money(money)} {word.lower()}" if diff else "Counted as expected",
                    id="reason",
                )
                yield Line(f"{shift.id}\nClosed by {shift.closed_by}", id="result-amount")
                yield Line("Enter: back to the sale · p: print again", id="result-next")
            with VerticalScroll(id="receipt-box", classes="panel") as box:
                box.border_title = "Shift report"
                box.can_focus = True
                yield Line(self.text(), id="receipt")

    def text(self, copy: str = "SHIFT REPORT") -> str:
        return shift_report_text(self.report, self.desk.settings, copy=copy)

    def action_done(self) -> None:
        self.desk.leave_shift()

    def action_reprint(self) -> None:
        self.app.push_screen(ReceiptDialog(self.text("DUPLICATE")))


def opened_note(shift: Shift) -> str:
    """What the cashier is told once a shift is open."""
    return f"Shift {shift.id} open, float {format_money(Money(shift.float_amount, shift.currency))}"


Way = Literal["paid_in", "paid_out"]


class DrawerMoveDialog(PosModal[tuple[Way, int, str] | None]):
    """Cash paid into or out of the drawer: which way, how much and why; answers
    (kind, amount, reason) for a manager to approve next."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="drawer.cancel", tooltip="Close, nothing moved"),
    ]

    def __init__(self, shift: Shift, expected: int) -> None:
        super().__init__()
        self.shift = shift
        self.expected = expected

    def compose(self) -> ComposeResult:
        held = format_money(Money(self.expected, self.shift.currency))
        with Vertical(id="drawer-move", classes="dialog") as box:
            box.border_title = "Cash drawer - paid in / paid out"
            yield Line(
                f"Shift {self.shift.id}: the drawer should hold {held}.", classes="dialog-text"
            )
            with RadioSet(id="drawer-kind"):
                yield RadioButton("Paid in (cash put in)", value=True, id="paid_in")
                yield RadioButton("Paid out (cash taken out)", id="paid_out")
            yield Label("Amount", classes="field-label")
            yield Field(
                id="drawer-amount",
                restrict=r"[0-9.]*",
                max_length=12,
                compact=True,
                refused_note="an amount takes the digits 0-9 and a decimal point",
            )
            yield Label(f"Reason (1 to {REASON_MAX} characters)", classes="field-label")
            yield Field(id="drawer-reason", max_length=REASON_MAX, compact=True)
            yield Line("", id="drawer-error", classes="field-error")
            yield Line("↑/↓: in or out · Enter: next · Esc: cancel", classes="dialog-hint")
        yield Footer(compact=True, show_command_palette=False)

    @while_shown
    def on_mount(self) -> None:
        self.set_focus(self.query_one("#drawer-kind", RadioSet))

    def kind(self) -> Way:
        pressed = self.query_one("#drawer-kind", RadioSet).pressed_button
        return "paid_out" if pressed is not None and pressed.id == "paid_out" else "paid_in"

    def on_key(self, event: Any) -> None:
        radio = self.focused
        if event.key == "enter" and isinstance(radio, RadioSet):
            event.stop()
            radio.action_toggle_button()  # the way highlighted is the way chosen
            self.set_focus(self.query_one("#drawer-amount", Field))

    def on_field_refused(self, event: Field.Refused) -> None:
        self.query_one("#drawer-error", Line).update(sentence(event.note))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        amount_field = self.query_one("#drawer-amount", Field)
        reason_field = self.query_one("#drawer-reason", Field)
        error = self.query_one("#drawer-error", Line)
        try:
            amount = parse_amount(amount_field.value, self.shift.currency)
        except MoneyError as exc:
            error.update(sentence(str(exc)))
            self.set_focus(amount_field)
            return
        if event.input is amount_field:
            self.set_focus(reason_field)
            return
        reason = reason_field.value.strip()
        if not reason:
            error.update("Say why the cash moves")
            return
        self.dismiss((self.kind(), amount.minor, reason))

    def action_cancel(self) -> None:
        self.dismiss(None)
