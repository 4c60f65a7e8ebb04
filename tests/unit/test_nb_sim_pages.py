"""The simulated banks' pages as a browser drives them: every test account's outcome, the
signed 303 back, cancel, wrong passwords, expiry, the DOWN bank, and what a page never
shows."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import httpx
import pytest
from nb_sim_support import BASE, MERCHANT_ID, MERCHANT_NAME, RETURN_URL, bank_return, nb_world
from starlette.applications import Starlette
from starlette.routing import Mount

from gateway_core.netbanking_api import TEST_BALANCE, return_is_signed


@pytest.fixture
async def world(tmp_path):
    async with nb_world(tmp_path) as w:
        yield w


async def test_demo_pays_and_the_303_carries_a_signed_success(world):
    txn = await world.create(1_25_000_50)
    assert txn.state == "CREATED" and txn.login_url == f"http://banks/nb/DEMOA/pay/{txn.bank_txn}"
    page = await world.client.get(txn.login_url)
    assert page.status_code == 200 and "Sign in to pay ₹1,25,000.50" in page.text
    assert MERCHANT_NAME in page.text and 'lang="en"' in page.text
    answer = await world.pay(txn)
    assert answer.status_code == 303 and answer.headers["location"].startswith(RETURN_URL + "?")
    ret = bank_return(answer)
    assert (ret.status, ret.code, ret.amount, ret.payment_id) == (
        "SUCCESS",
        "00",
        1_25_000_50,
        txn.payment_id,
    )
    assert (ret.merchant_id, ret.bank) == (MERCHANT_ID, "DEMOA") and ret.bank_ref
    assert return_is_signed(ret, world.secrets["DEMOA"])
    assert not return_is_signed(ret, world.secrets["DEMOB"])  # a secret per bank
    for tampered in (
        {"amount": 1},
        {"status": "FAILURE"},
        {"payment_id": "pay_x"},
        {"bank_ref": "X"},
    ):
        assert not return_is_signed(ret.model_copy(update=tampered), world.secrets["DEMOA"])
    done = await world.status(txn)
    assert (done.state, done.code, done.bank_ref) == ("SUCCESS", "00", ret.bank_ref)
    assert re.fullmatch(r"XXXX\d{4}", done.account or "")


@pytest.mark.parametrize(
    ("user", "amount", "code"), [("poor", 500_00, "51"), ("limit", 50_000_01, "61")]
)
async def test_a_declined_debit_comes_back_signed_with_its_code(world, user, amount, code):
    txn = await world.create(amount)
    ret = bank_return(await world.pay(txn, user))
    assert (ret.status, ret.code, ret.bank_ref) == ("FAILURE", code, "")
    assert return_is_signed(ret, world.secrets["DEMOA"])
    assert (await world.status(txn)).state == "FAILURE"


async def test_limit_pays_up_to_its_limit(world):
    ret = bank_return(await world.pay(await world.create(50_000_00), "limit"))
    assert (ret.status, ret.code) == ("SUCCESS", "00")


async def test_noreturn_debits_but_answers_a_page_without_redirect(world):
    txn = await world.create(300_00, bank="DEMOB")
    answer = await world.pay(txn, "noreturn")
    assert answer.status_code == 200 and "location" not in answer.headers
    assert "Payment made. You may close this window." in answer.text
    assert (await world.status(txn)).state == "SUCCESS"


async def test_cancel_comes_back_canceled_cx(world):
    txn = await world.create(bank="DEMOC")
    ret = bank_return(await world.pay(txn, choice="cancel"))
    assert (ret.status, ret.code, ret.bank_ref) == ("CANCELED", "CX", "")
    assert return_is_signed(ret, world.secrets["DEMOC"])
    assert (await world.status(txn)).code == "CX"
    again = await world.client.get(txn.login_url)
    assert again.status_code == 409 and "canceled already" in again.text


async def test_a_wrong_password_shows_the_login_again_and_the_third_fails_75(world):
    txn = await world.create()
    for _ in range(2):
        again = await world.pay(txn, password="wrong")
        assert again.status_code == 401 and "Wrong login or password." in again.text
        assert "wrong" not in again.text.replace("Wrong login", "")  # the password is not echoed
    assert (await world.status(txn)).state == "CREATED"
    ret = bank_return(await world.pay(txn, password="wrong"))
    assert (ret.status, ret.code) == ("FAILURE", "75")
    # locked for the day at this bank: even the right password fails now
    ret = bank_return(await world.pay(await world.create()))
    assert (ret.status, ret.code) == ("FAILURE", "75")
    world.clock.advance(days=1)
    assert bank_return(await world.pay(await world.create())).status == "SUCCESS"


async def test_an_unknown_login_is_a_wrong_login(world):
    txn = await world.create()
    assert (await world.pay(txn, "nobody")).status_code == 401
    empty = await world.pay(txn, "", password="")
    assert empty.status_code == 400 and "Enter your login ID and password." in empty.text


async def test_after_expiry_the_page_says_so_and_the_state_is_expired(world):
    txn = await world.create()
    world.clock.advance(minutes=10)
    page = await world.client.get(txn.login_url)
    assert page.status_code == 410 and "expired" in page.text
    done = await world.status(txn)
    assert (done.state, done.code, done.updated_at) == ("EXPIRED", "EX", txn.expires_at)


async def test_a_confirm_after_expiry_is_refused(world):
    txn = await world.create()
    signed_in = await world.client.post(
        f"{txn.login_url}/login", data={"user": "demo", "password": "demo"}
    )
    session = re.search(r'name="session" value="([^"]+)"', signed_in.text)
    assert signed_in.status_code == 200 and session
    world.clock.advance(minutes=11)
    late = await world.client.post(f"{txn.login_url}/confirm", data={"session": session.group(1)})
    assert late.status_code == 410
    assert (await world.status(txn)).state == "EXPIRED"
    assert (await world.ledger())["debits"] == 0


async def test_confirm_needs_the_session_of_a_sign_in(world):
    txn = await world.create()
    for body in ({}, {"session": "forged"}):
        refused = await world.client.post(f"{txn.login_url}/confirm", data=body)
        assert refused.status_code == 403 and "Sign in first" in refused.text
    assert (await world.status(txn)).state == "CREATED"


async def test_the_down_bank_pages_answer_503_and_its_api_expires_the_payment(world):
    txn = await world.create(bank="DOWN")
    page = await world.client.get(txn.login_url)
    assert (
        page.status_code == 503
        and "Offline Demo Bank: bank unavailable, try again later." in page.text
    )
    assert (
        await world.client.post(f"{txn.login_url}/login", data={"user": "demo"})
    ).status_code == 503
    assert (await world.status(txn)).state == "CREATED"
    world.clock.advance(minutes=10)
    assert (await world.status(txn)).state == "EXPIRED"


async def test_an_unknown_page_is_404_and_a_page_of_another_bank_too(world):
    txn = await world.create()
    for url in ("http://banks/nb/DEMOA/pay/NBNOPE", f"http://banks/nb/DEMOB/pay/{txn.bank_txn}"):
        page = await world.client.get(url)
        assert page.status_code == 404 and "No such payment at this bank." in page.text


async def test_pages_are_accessible_and_never_show_a_secret_or_password(world):
    txn = await world.create()
    login = await world.client.get(txn.login_url)
    confirm = await world.client.post(
        f"{txn.login_url}/login", data={"user": "demo", "password": "demo"}
    )
    for page in (login, confirm):
        html = page.text
        assert html.count("<h1>") == 1 and '<html lang="en">' in html
        assert "<script" not in html and ":focus-visible" in html
        assert page.headers["cache-control"] == "no-store"
        for secret in world.secrets.values():
            assert secret not in html
        for input_id in re.findall(r'<input id="(\w+)"', html):
            assert f'<label for="{input_id}">' in html
    assert 'autocomplete="current-password"' in login.text and 'type="password"' in login.text
    assert "Demo Bank A" in confirm.text and "₹500.00" in confirm.text and "XXXX" in confirm.text
    assert 'name="password"' not in confirm.text
    assert confirm.text.index("Pay ₹500.00") < confirm.text.index("Cancel payment")  # focus order


async def test_a_return_url_with_a_query_keeps_it(world):
    txn = await world.create(return_url="http://shop.test/back?order=7")
    location = (await world.pay(txn)).headers["location"]
    assert location.startswith("http://shop.test/back?order=7&merchant_id=")


async def test_balances_move_with_the_debit(world):
    nb = world.banks.nb
    txn = await world.create(1_000_00)
    await world.pay(txn)
    assert world.banks.ledger.balance("nb:DEMOA:demo") == TEST_BALANCE - 1_000_00
    assert nb.books.settlement("DEMOA", txn.created_at.date())[0].amount == 1_000_00


async def test_no_password_or_secret_is_stored(tmp_path):
    async with nb_world(tmp_path) as world:
        txn = await world.create()
        answer = await world.pay(txn, password="Hunter2Secret")
        assert "Hunter2Secret" not in answer.text
        await world.pay(txn)
        secrets = list(world.secrets.values())
    data = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert b"Hunter2Secret" not in data
    for secret in secrets:
        assert secret.encode() not in data and bytes.fromhex(secret) not in data


def _browser_target(page: httpx.Response, action: str) -> str:
    """Where a browser posts a form with `action`, from the page it is on."""
    match = re.search(rf'<form method="post" action="([^"]*{action})">', page.text)
    assert match, page.text
    return urljoin(str(page.url), match.group(1))


async def test_the_forms_work_as_a_browser_posts_them_under_a_mount(world):
    """`paygate serve` mounts the banks under /sim: the forms' relative actions follow."""
    world.banks.config.nb_public_url = "http://shop.test/sim"
    outer = Starlette(routes=[Mount("/sim", app=world.banks.asgi_app())])
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport) as browser:
        txn = await world.create()
        assert txn.login_url.startswith("http://shop.test/sim/nb/DEMOA/pay/")
        login = await browser.get(txn.login_url)
        assert login.status_code == 200
        data = {"user": "demo", "password": "demo"}
        confirm = await browser.post(_browser_target(login, "login"), data=data)
        assert confirm.status_code == 200 and "Confirm your payment" in confirm.text
        session = re.search(r'name="session" value="([^"]+)"', confirm.text)
        assert session
        answer = await browser.post(
            _browser_target(confirm, "confirm"), data={"session": session.group(1)}
        )
        assert answer.status_code == 303 and bank_return(answer).status == "SUCCESS"
        other = await world.create()
        login = await browser.get(other.login_url)
        canceled = await browser.post(_browser_target(login, "cancel"))
        assert bank_return(canceled).status == "CANCELED"


def _luminance(hex_color: str) -> float:
    digits = hex_color.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def test_the_colours_have_sufficient_contrast(world):
    """WCAG AA: text 4.5:1 on its background (the page's white where a rule sets none),
    the focus outline 3:1."""
    html = (await world.client.get((await world.create()).login_url)).text
    style = html[html.index("<style>") : html.index("</style>")]
    rules = re.findall(r"([^{}]+)\{([^}]*)\}", style)
    checked = 0
    for selector, body in rules:
        color = re.search(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{3,6})", body)
        background = re.search(r"background:\s*(#[0-9a-fA-F]{3,6})", body)
        outline = re.search(r"outline:[^;]*(#[0-9a-fA-F]{3,6})", body)
        if color:
            ground = background.group(1) if background else "#fff"
            assert _contrast(color.group(1), ground) >= 4.5, selector
            checked += 1
        if outline:
            assert _contrast(outline.group(1), "#fff") >= 3, selector
            checked += 1
    assert checked >= 6


async def test_three_wrong_logins_on_one_payment_fail_it_even_for_unknown_logins(world):
    txn = await world.create()
    for user in ("nobody", "somebody"):
        assert (await world.pay(txn, user)).status_code == 401
    ret = bank_return(await world.pay(txn, "anybody"))
    assert (ret.status, ret.code) == ("FAILURE", "75")
    assert bank_return(await world.pay(await world.create())).status == "SUCCESS"


async def test_what_others_typed_is_escaped_in_the_pages(world):
    merchant = {"merchant_id": "EVIL01", "name": "<script>alert(1)</script> & Co"}
    r = await world.client.post(f"{BASE}/merchants", params={"bank": "DEMOA"}, json=merchant)
    assert r.status_code == 200
    txn = await world.create(merchant_id="EVIL01")
    page = await world.client.get(txn.login_url)
    assert (
        "<script>" not in page.text
        and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page.text
    )
    again = await world.pay(txn, '"><b>x</b>', password="nope")
    assert again.status_code == 401 and "<b>x</b>" not in again.text
