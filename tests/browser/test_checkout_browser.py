"""The hosted checkout in a real browser: Chromium (Debian's, driven by playwright)
pays a payment link by net banking at Demo Bank A through a real `paygate serve`.

The server runs with the banks embedded (their pages under /sim). The customer opens
the link's page, picks Demo Bank A by keyboard (Tab, the focus drawn, Enter), signs in
as demo/demo by keyboard, confirms, and lands on the result page showing "Paid"; a
screenshot is kept in the test's tmp dir; the API then says the link succeeded, paid by
that attempt.

The set-up installs Chromium with apt-get where it is missing and it can (root, apt-get
present); without a browser (or without playwright) the test is skipped, saying why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_support import Server, issue, start
from support import free_port

SHOT = "checkout-paid.png"


@pytest.fixture
def server(cli, paygate_cmd: list[str], tmp_path: Path) -> Iterator[tuple[Server, str]]:
    """`paygate serve` on a free port, banks embedded, with a terminal key."""
    data = tmp_path / "data"
    key = issue(cli, data, "TERM0001")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    served = start(paygate_cmd, data, port, PAYGATE_CHECKOUT__PUBLIC_URL=url)
    try:
        yield served, key
    finally:
        served.stop()


def test_a_customer_pays_a_link_by_net_banking_in_chromium(
    chromium: str, server: tuple[Server, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    served, key = server
    api = httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {key}"})
    made = api.post("/v1/payments", json={"method": "link", "amount": 500_00})
    assert made.status_code == 200, made.text
    link = made.json()
    assert link["next_action"]["url"] == f"{served.url}/checkout/{link['id']}"

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page()
            page.goto(link["next_action"]["url"])
            expect(page.locator("h1")).to_have_text("Choose how to pay")
            page.keyboard.press("Tab")  # the first bank is the page's first stop
            expect(page.locator(":focus")).to_have_text("Demo Bank A")
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline not in ("", "none")  # the focus is visible
            page.keyboard.press("Enter")
            page.wait_for_url("**/sim/nb/DEMOA/**")
            expect(page.locator("h1")).to_contain_text("Sign in to pay ₹500.00")
            page.keyboard.type("demo")  # the login field has the focus
            page.keyboard.press("Tab")
            page.keyboard.type("demo")
            page.keyboard.press("Enter")
            expect(page.locator("h1")).to_have_text("Confirm your payment")
            page.get_by_role("button", name="Pay ₹500.00").click()
            page.wait_for_url(f"{served.url}/checkout/**")
            expect(page.locator("h1")).to_have_text("Paid")
            page.screenshot(path=tmp_path / SHOT, full_page=True)
        finally:
            browser.close()

    assert (tmp_path / SHOT).stat().st_size > 1000
    paid = api.get(f"/v1/payments/{link['id']}").json()
    assert (paid["status"], paid["amount_captured"]) == ("succeeded", 0)
    attempt = api.get(f"/v1/payments/{paid['link']['paid_by']}").json()
    assert (attempt["status"], attempt["method"], attempt["link_id"]) == (
        "succeeded",
        "netbanking",
        link["id"],
    )
    assert attempt["netbanking"]["bank"] == "DEMOA"
    api.close()
