"""The checkout's HTML: the Jinja2 templates beside this module (autoescaped), the
headers every page carries (no caching, no framing, no scripts), and the one-line
refusal page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
}


def page(template: str, /, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A template rendered as a page."""
    html = _ENV.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def refused(status: int, line: str) -> HTMLResponse:
    """A refusal as a page of one line (and a title)."""
    return page("refused.html", status=status, title="Not possible", line=line)


def see_other(url: str) -> RedirectResponse:
    """303 to `url` (after a form's POST the browser GETs it)."""
    return RedirectResponse(url, status_code=303, headers=HEADERS)
