"""The hosted checkout page over HTTP (httpx on the app): a payment link made through the
API, its page (lang, one h1, a label for every field, no script), each method's form
making an attempt (UPI: the QR page; card: paid, or the OTP step), "check again", the
result; a refusal is a one-line page with its 4xx status and stores nothing; no card
number or CVV in any response; a lookup creates nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from nb_sim_support import through_bank
from support import VISA, charge, gateway_settings, latest_otp, open_runtime

from bank_sim.testcards import card_for
from gateway_core.clock import FixedClock
from gateway_core.runtime import Runtime
from gateway_core.service.app import board_merchants, create_app
from gateway_core.service.keys import ApiKeys
from gateway_core.settings import CheckoutSettings
from gateway_core.upi_api import TEST_PIN

OTP_CARD = card_for("4000 0000 0000 3220")
DECLINED = card_for("4000 0000 0000 0002")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Page(HTMLParser):
    """What the tests look at in a page: its language, headings, fields and labels."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.lang: str | None = None
        self.h1 = 0
        self.fields: list[str] = []  # ids of inputs
        self.labels: list[str] = []  # their `for`
        self.tags: set[str] = set()
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "html":
            self.lang = a.get("lang")
        self.h1 += tag == "h1"
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.fields.append(a.get("id") or "")
        if tag == "label":
            self.labels.append(a.get("for") or "")


def accessible(html: str) -> Page:
    page = Page(html)
    assert page.lang == "en"
    assert page.h1 == 1
    assert "script" not in page.tags
    assert all(f and f in page.labels for f in page.fields), (page.fields, page.labels)
    return page


@dataclass
class Shop:
    client: httpx.AsyncClient
    rt: Runtime
    key: str
    seen: list[httpx.Response] = field(default_factory=list)

    async def link(self, amount: int = 500_00, **body: object) -> dict:
        headers = {"Authorization": f"Bearer {self.key}"}
        response = await self.client.post(
            "/v1/payments", json={"method": "link", "amount": amount, **body}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def get(self, path: str) -> httpx.Response:
        response = await self.client.get(path)
        self.seen.append(response)
        return response

    async def post(self, path: str, form: dict[str, str] | None = None) -> httpx.Response:
        response = await self.client.post(path, data=form or {}, headers=FORM)
        self.seen.append(response)
        return response

    async def follow(self, response: httpx.Response) -> httpx.Response:
        assert response.status_code == 303, response.text
        return await self.get(response.headers["location"])


@pytest.fixture
async def shop(tmp_path: Path, clock: FixedClock) -> AsyncIterator[Shop]:
    settings = gateway_settings(tmp_path / "data", 5.0)
    checkout = CheckoutSettings(public_url="http://gw")
    rt = open_runtime(settings.model_copy(update={"checkout": checkout}), clock=clock)
    keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
    secret = keys.issue(rt.settings.merchant_id, "TERM0001", actor="owner")[1]
    await board_merchants(rt.gateway.bank, keys)
    app = create_app(rt, repair_on_start=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw"
        ) as client:
            yield Shop(client, rt, secret)
    finally:
        await rt.aclose()


def card_form(card, expiry: str = "12/30") -> dict[str, str]:
    return {"number": card.pan, "expiry": expiry, "cvv": card.cvv}


def no_card_data(responses: list[httpx.Response], *cards) -> None:
    for response in responses:
        text = response.text + str(response.headers)
        for card in cards:
            assert card.digits not in text.replace(" ", "")
            assert f">{card.cvv}<" not in text and f'"{card.cvv}"' not in text


async def test_a_link_made_over_the_api_has_an_accessible_page(shop: Shop) -> None:
    link = await shop.link(return_url="https://shop.example/done")
    url = link["next_action"]["url"]
    assert (link["status"], link["method"], url) == (
        "pending",
        "link",
        f"http://gw/checkout/{link['id']}",
    )
    response = await shop.get(f"/checkout/{link['id']}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    page = accessible(response.text)
    assert page.fields == ["number", "expiry", "cvv"]
    html = response.text
    for text in ("Paygate Demo Store", "₹500.00", "Demo Bank A", "Show a UPI QR code"):
        assert text in html
    assert 'autocomplete="cc-number"' in html and 'autocomplete="cc-csc"' in html


async def test_upi_shows_the_qr_then_paid_after_check_again(shop: Shop) -> None:
    link = await shop.link()
    qr = await shop.follow(await shop.post(f"/checkout/{link['id']}/upi"))
    accessible(qr.text)
    assert "<svg" in qr.text and "UPI QR code to pay" in qr.text
    (attempt,) = shop.rt.gateway.get(link["id"]).link.attempts
    upi_link = shop.rt.gateway.get(attempt).upi.link
    assert f'href="{upi_link.replace("&", "&amp;")}"' in qr.text
    await shop.rt.payer.pay("success@payer", TEST_PIN, link=upi_link)
    done = await shop.follow(await shop.post(f"/checkout/{attempt}/refresh"))
    assert "<h1>Paid</h1>" in done.text
    assert shop.rt.gateway.get(link["id"]).link.paid_by == attempt
    again = await shop.get(f"/checkout/{link['id']}")
    assert "<h1>Paid</h1>" in again.text and attempt in again.text


async def test_a_card_pays_and_a_declined_card_lets_the_customer_try_again(shop: Shop) -> None:
    link = await shop.link(return_url="https://shop.example/done")
    declined = await shop.follow(
        await shop.post(f"/checkout/{link['id']}/card", card_form(DECLINED))
    )
    assert "<h1>Not paid</h1>" in declined.text
    assert f'href="/checkout/{link["id"]}"' in declined.text  # try again
    page = await shop.get(f"/checkout/{link['id']}")
    assert "Not paid:" in page.text and "Choose how to pay" in page.text
    paid = await shop.follow(await shop.post(f"/checkout/{link['id']}/card", card_form(VISA)))
    assert "<h1>Paid</h1>" in paid.text and 'href="https://shop.example/done"' in paid.text
    assert shop.rt.gateway.get(link["id"]).status == "succeeded"
    no_card_data(shop.seen, VISA, DECLINED)


async def test_a_card_asked_for_an_otp_gets_the_otp_step(shop: Shop) -> None:
    link = await shop.link(amount=100_00)
    step = await shop.follow(await shop.post(f"/checkout/{link['id']}/card", card_form(OTP_CARD)))
    accessible(step.text)
    assert "Enter the code from your bank" in step.text
    attempt = step.url.path.rsplit("/", 1)[1]
    wrong = await shop.post(f"/checkout/{attempt}/otp", {"otp": "000000"})
    assert wrong.status_code in range(400, 500)
    otp = await latest_otp(shop.rt.gateway)
    paid = await shop.follow(await shop.post(f"/checkout/{attempt}/otp", {"otp": otp}))
    assert "<h1>Paid</h1>" in paid.text
    assert shop.rt.gateway.get(link["id"]).link.paid_by == attempt
    no_card_data(shop.seen, OTP_CARD)


async def test_an_otp_step_left_for_another_way_takes_no_code(shop: Shop) -> None:
    link = await shop.link(amount=100_00)
    step = await shop.follow(await shop.post(f"/checkout/{link['id']}/card", card_form(OTP_CARD)))
    attempt = step.url.path.rsplit("/", 1)[1]
    otp = await latest_otp(shop.rt.gateway)
    await shop.post(f"/checkout/{link['id']}/upi")  # the customer chose UPI instead
    late = await shop.post(f"/checkout/{attempt}/otp", {"otp": otp})
    assert late.status_code == 409
    assert "this try is over" in late.text
    assert shop.rt.gateway.get(attempt).status == "requires_action"  # its OTP expires


@pytest.mark.parametrize(
    ("path", "form", "status", "line"),
    [
        ("card", {"number": VISA.pan, "expiry": "12/30"}, 400, "enter the CVV"),
        ("card", {"number": "4242424242424241", "expiry": "12/30", "cvv": "123"}, 400, "digits"),
        ("card", {"number": VISA.pan, "expiry": "13/30", "cvv": "123"}, 400, "expiry month"),
        ("card", {"number": "4" * 80, "expiry": "12/30", "cvv": "123"}, 400, "too long"),
        ("netbanking", {}, 400, "choose your bank"),
        ("netbanking", {"bank": "NOPE"}, 400, None),
    ],
)
async def test_bad_input_is_a_one_line_4xx_page_and_stores_nothing(
    shop: Shop, path: str, form: dict, status: int, line: str | None
) -> None:
    link = await shop.link()
    response = await shop.post(f"/checkout/{link['id']}/{path}", form)
    assert response.status_code == status, response.text
    accessible(response.text)
    (said,) = re.findall(r"<p>(.*)</p>", response.text)
    assert line is None or line in said, said
    assert [p.id for p in shop.rt.gateway.list_day()] == [link["id"]]
    no_card_data(shop.seen, VISA)
    assert "4242424242424241" not in response.text


async def test_a_form_that_is_not_urlencoded_is_refused(shop: Shop) -> None:
    link = await shop.link()
    response = await shop.client.post(f"/checkout/{link['id']}/card", json=card_form(VISA))
    assert response.status_code == 400
    assert "application/x-www-form-urlencoded" in response.text


async def test_pages_of_no_link_are_404_pages_and_lookups_create_nothing(shop: Shop) -> None:
    sale = await shop.rt.gateway.charge(charge(VISA))  # a terminal's sale: no page
    link = await shop.link()
    before = [p.model_dump() for p in shop.rt.gateway.list_day()]
    files = sorted(p.name for p in shop.rt.settings.data_dir.rglob("*"))
    for path in (sale.id, "pay_19900101_0123456789", "x" * 80, link["id"], link["id"]):
        response = await shop.get(f"/checkout/{path}")
        assert response.status_code == (200 if path == link["id"] else 404)
        accessible(response.text)
    assert [p.model_dump() for p in shop.rt.gateway.list_day()] == before
    assert sorted(p.name for p in shop.rt.settings.data_dir.rglob("*")) == files


async def test_an_ended_link_takes_no_payment(shop: Shop, clock: FixedClock) -> None:
    link = await shop.link()
    clock.advance(seconds=901)
    await shop.rt.gateway.poll()
    page = await shop.get(f"/checkout/{link['id']}")
    assert "This payment link has expired" in page.text
    response = await shop.post(f"/checkout/{link['id']}/card", card_form(VISA))
    assert response.status_code == 409
    assert "is expired: it takes no payment" in response.text


@pytest.mark.parametrize(
    ("choice", "title"), [("confirm", "<h1>Paid</h1>"), ("cancel", "<h1>Not paid</h1>")]
)
async def test_net_banking_goes_to_the_bank_and_comes_back(
    shop: Shop, choice: str, title: str
) -> None:
    shop.rt.banks.config.nb_public_url = "http://gw/sim"  # as `paygate serve` mounts them
    link = await shop.link()
    to_bank = await shop.post(f"/checkout/{link['id']}/netbanking", {"bank": "DEMOA"})
    assert to_bank.status_code == 303
    login_url = to_bank.headers["location"]
    assert login_url.startswith("http://gw/sim/nb/DEMOA/pay/")
    (attempt,) = shop.rt.gateway.get(link["id"]).link.attempts
    waiting = await shop.get(f"/checkout/{attempt}")
    accessible(waiting.text)
    assert f'href="{login_url}"' in waiting.text and "Continue to Demo Bank A" in waiting.text
    back = await through_bank(shop.client, login_url, choice=choice)
    result = await shop.follow(await shop.follow(back))  # the gateway's return, then the page
    assert result.url.path == f"/checkout/{attempt}"
    assert title in result.text
    final = shop.rt.gateway.get(link["id"])
    if choice == "confirm":
        assert (final.status, final.link.paid_by) == ("succeeded", attempt)
    else:
        assert final.status == "pending"
        assert f'href="/checkout/{link["id"]}"' in result.text  # try again
