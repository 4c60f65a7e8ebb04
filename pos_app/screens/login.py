"""Sign in: cashier ID and PIN. Five wrong PINs lock the user; the screen says until when."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.widgets import Input, Label

from gateway_core.access import AccessError, UnknownUser, UserLocked
from pos_app.screens.base import PosScreen, sentence, while_shown
from pos_app.screens.hosts import SignIn
from pos_app.widgets.bigtext import BigText
from pos_app.widgets.fields import Field, secret_digits
from pos_app.widgets.line import Line

DEMO_HINT = "Demo: asha 1111 · ravi 2222 (cashiers) · meera 4321 (manager) · owner 9876 (admin)"


class LoginScreen(PosScreen):
    """Who is at the terminal."""

    TITLE_TEXT = "Sign in"
    BINDINGS = [
        Binding(
            "ctrl+q",
            "app.quit_terminal",
            "Quit",
            id="app.quit",
            tooltip="Close the terminal",
        ),
        Binding(
            "escape",
            "clear_form",
            "Clear",
            id="login.clear",
            tooltip="Clear the ID and PIN and start again",
        ),
    ]

    def __init__(self, gate: SignIn) -> None:
        super().__init__()
        self.gate = gate

    def compose_body(self) -> ComposeResult:
        with Vertical(id="login"):
            with Center():
                yield BigText("PAYGATE", id="logo")
            with Center(), Vertical(id="login-form", classes="panel") as form:
                form.border_title = "Sign in"
                yield Label("Cashier ID", classes="field-label")
                yield Field(
                    id="login-user",
                    placeholder="your ID, e.g. asha",
                    max_length=32,
                    compact=True,
                )
                yield Label("PIN", classes="field-label")
                yield secret_digits(
                    "login-pin",
                    8,
                    "a PIN is 4 to 8 digits",
                    placeholder="4 to 8 digits",
                    compact=True,
                )
                yield Line("", id="login-error", classes="field-error")
            if self.gate.demo:
                yield Line(DEMO_HINT, id="login-hint")
            else:
                yield Line("Enter your ID, then your PIN.", id="login-hint")

    @while_shown
    def on_mount(self) -> None:
        self.set_focus(self.query_one("#login-user", Field))

    @while_shown
    def _error(self, text: str) -> None:
        self.query_one("#login-error", Line).update(text)

    def on_field_refused(self, event: Field.Refused) -> None:
        self._error(event.note)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.value:
            self._error("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        user = self.query_one("#login-user", Field)
        pin = self.query_one("#login-pin", Field)
        if event.input is user:
            if not user.value.strip():
                self._error("enter your cashier ID")
                return
            self.set_focus(pin)
            return
        if not user.value.strip():
            self._error("enter your cashier ID")
            self.set_focus(user)
            return
        if not pin.value:
            self._error("enter your PIN")
            return
        self._error("Checking…")
        self.sign_in(user.value.strip(), pin.value)

    @work(exclusive=True, group="login", exit_on_error=False)
    async def sign_in(self, user_id: str, pin: str) -> None:
        field = self.query_one("#login-pin", Field)
        try:
            user = await self.gate.sign_in(user_id, pin)
        except UserLocked as exc:
            self._error(f"Locked: {exc}.\nAn admin can unlock now: paygate users unlock {user_id}")
            field.value = ""
            return
        except UnknownUser as exc:
            self._error(sentence(str(exc)))
            field.value = ""
            self.set_focus(self.query_one("#login-user", Field))
            return
        except AccessError as exc:
            self._error(sentence(str(exc)))
            field.value = ""
            self.set_focus(field)
            return
        field.value = ""
        if self.is_attached and self.gate.user is None:
            self.gate.signed_in(user)

    @while_shown
    def action_clear_form(self) -> None:
        self.query_one("#login-user", Field).value = ""
        self.query_one("#login-pin", Field).value = ""
        self._error("")
        self.set_focus(self.query_one("#login-user", Field))
