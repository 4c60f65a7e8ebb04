"""The banks' pages as customers' browsers see them: plain HTML (Jinja2, no JavaScript)
under `/nb/{bank}/pay/{bank_txn}`: sign in, confirm or cancel, and the 303 back to the
merchant's return_url with the signed result.

Every refusal is a page with one line (404 unknown, 409 finished already, 410 expired,
503 the DOWN bank). Form actions are relative, so the pages work wherever the app is
mounted (`paygate serve` puts it under `/sim`). A password is never echoed, logged or
stored; a page answers `Cache-Control: no-store`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from bank_sim.netbanking.banks import NetBanking
from bank_sim.netbanking.customers import DOWN_BANKS, NO_REDIRECT
from bank_sim.netbanking.errors import NbNotFound
from bank_sim.netbanking.transactions import STATE_WORDS
from gateway_core.netbanking_api import TEST_BANKS
from gateway_core.ports import Record
from gateway_core.presentation import money_text, time_text

MAX_FORM_BYTES: Final = 4096
NO_STORE: Final = {"Cache-Control": "no-store"}
_ENV = Environment(
    loader=PackageLoader("bank_sim.netbanking", "templates"),
    autoescape=select_autoescape(["html"]),
)


def bank_name(bank: str) -> str:
    """A bank's name as its pages show it."""
    return TEST_BANKS.get(bank, "Net banking").split(" (")[0]


def render(template: str, status: int, **context: object) -> HTMLResponse:
    """A page from `template`, never cached."""
    html = _ENV.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def message(bank: str, status: int, text: str) -> HTMLResponse:
    """A page of one line."""
    return render("message.html", status, title=text, bank_name=bank_name(bank))


async def form(request: Request) -> dict[str, str]:
    """The posted form's fields (the first value of each; a body too large: none)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    fields = parse_qs(body.decode(errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def pages_router(nb: NetBanking) -> APIRouter:
    """The pages of `nb`'s banks."""
    router = APIRouter(prefix="/nb/{bank}/pay/{bank_txn}")
    txns = nb.txns

    def visit(bank: str, bank_txn: str) -> Record | HTMLResponse:
        """The open transaction a page is about, or the one-line page saying why not."""
        if bank in DOWN_BANKS:
            return message(bank, 503, f"{bank_name(bank)}: bank unavailable, try again later.")
        try:
            doc = txns.visit(bank, bank_txn)
        except NbNotFound:
            return message(bank, 404, "No such payment at this bank.")
        if doc["state"] == "EXPIRED":
            return message(bank, 410, "This payment request has expired: nothing was debited.")
        if doc["state"] != "CREATED":
            return message(bank, 409, f"This payment was {STATE_WORDS[doc['state']]} already.")
        return doc

    def page(
        template: str, status: int, doc: Record, prefix: str, **context: object
    ) -> HTMLResponse:
        return render(
            template,
            status,
            bank_name=bank_name(doc["bank"]),
            merchant=doc["merchant_name"],
            amount=money_text(doc["amount"], doc["currency"]),
            payment_id=doc["payment_id"],
            expires=time_text(
                datetime.fromisoformat(doc["expires_at"]), nb.config.tz, seconds=False
            ),
            prefix=prefix,
            **context,
        )

    def back(doc: Record) -> Response:
        """The 303 to the merchant with the signed result (`noreturn`: a page instead)."""
        if doc["state"] == "SUCCESS" and doc["login"] == NO_REDIRECT:
            return message(doc["bank"], 200, "Payment made. You may close this window.")
        return RedirectResponse(txns.return_to(doc, txns.answer(doc)), 303, headers=NO_STORE)

    @router.get("")
    async def login_page(bank: str, bank_txn: str) -> Response:
        doc = visit(bank, bank_txn)
        if isinstance(doc, Response):
            return doc
        return page("login.html", 200, doc, f"{bank_txn}/", title="Sign in", user="", error="")

    @router.post("/login")
    async def login(request: Request, bank: str, bank_txn: str) -> Response:
        doc = visit(bank, bank_txn)
        if isinstance(doc, Response):
            return doc
        fields = await form(request)
        user, password = fields.get("user", "").strip()[:40], fields.get("password", "")
        if not user or not password:
            error = "Enter your login ID and password."
            return page("login.html", 400, doc, "", title="Sign in", user=user, error=error)
        session = txns.sign_in(doc, user, password)
        if session is not None:
            account = doc["account"]
            return page(
                "confirm.html", 200, doc, "", title="Confirm", account=account, session=session
            )
        if doc["state"] != "CREATED":
            return back(doc)
        error = "Wrong login or password."
        return page("login.html", 401, doc, "", title="Sign in", user=user, error=error)

    @router.post("/confirm")
    async def confirm(request: Request, bank: str, bank_txn: str) -> Response:
        doc = visit(bank, bank_txn)
        if isinstance(doc, Response):
            return doc
        if not txns.signed_in(doc, (await form(request)).get("session", "")):
            return message(bank, 403, "Sign in first: this page has no valid session.")
        return back(txns.confirm(doc))

    @router.post("/cancel")
    async def cancel(bank: str, bank_txn: str) -> Response:
        doc = visit(bank, bank_txn)
        if isinstance(doc, Response):
            return doc
        return back(txns.cancel(doc))

    return router
