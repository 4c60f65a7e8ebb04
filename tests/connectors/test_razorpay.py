"""The Razorpay connector, through the official `razorpay` SDK, against the Razorpay
fake: the shared conformance cases, then Razorpay's own (test cards and VPAs, OTP, UPI
and net banking, the payment signature, errors, no network). The fake's own answers,
state and webhooks: test_razorpay_fake.py."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from pathlib import Path

import pytest
from conformance import *  # noqa: F403  (the shared cases)
from conformance import Kit, Webhook
from pydantic import SecretStr
from razorpay_support import (
    card,
    charge,
    connector_fixture,  # noqa: F401  (the `connector` fixture)
    fake_fixture,  # noqa: F401  (the `fake` fixture)
    make,
    url_fixture,  # noqa: F401  (the `url` fixture)
)

from bank_sim.processors.faults import Fault
from bank_sim.processors.razorpay.api import RazorpayFake
from bank_sim.processors.razorpay.webhooks import sign
from gateway_core.connectors import open_connector
from gateway_core.connectors.razorpay import (
    DECLINES,
    FAKE_WEBHOOK_SECRET,
    RazorpayConnector,
    receipt_for,
    refund_key_for,
)
from gateway_core.errors import BankNotReached, BankRefused, BankUnavailable, InputError
from gateway_core.payments import NotAllowed, response_code_for
from gateway_core.ports.connectors import (
    ProcessorDown,
    SignatureRefused,
)
from gateway_core.settings import ProcessorSettings


def resign(body: bytes, secret: str = FAKE_WEBHOOK_SECRET, **changes: object) -> tuple[bytes, str]:
    event = json.loads(body) | changes
    changed = json.dumps(event, separators=(",", ":")).encode()
    return changed, sign(secret, changed)


@pytest.fixture
async def kit(url: str, fake: RazorpayFake, connector: RazorpayConnector) -> Kit:
    async def webhook(reference: str) -> Webhook:
        delivery = fake.webhooks.sent(reference)[-1]
        return delivery.headers, delivery.body

    async def bad_webhooks(reference: str) -> list[Webhook]:
        headers, body = await webhook(reference)
        event_id = headers["X-Razorpay-Event-Id"]
        created = json.loads(body)["created_at"]
        stale, stale_sig = resign(body, created_at=created - 26 * 3600)
        later, _ = resign(body, created_at=created + 5)
        _, other_sig = resign(body, secret="another-secret")
        signed = headers["X-Razorpay-Signature"]
        return [
            (headers, body[:-1] + b" }"),  # tampered
            ({"X-Razorpay-Signature": stale_sig, "X-Razorpay-Event-Id": event_id}, stale),
            ({"X-Razorpay-Signature": signed, "X-Razorpay-Event-Id": event_id}, later),  # replay
            ({"X-Razorpay-Signature": other_sig, "X-Razorpay-Event-Id": event_id}, body),
            ({"X-Razorpay-Event-Id": event_id}, body),  # unsigned
            ({"X-Razorpay-Signature": signed}, body),  # no event id
            ({"X-Razorpay-Signature": "é" * 64, "X-Razorpay-Event-Id": event_id}, body),
        ]

    return Kit(
        connector=connector,
        faults=fake.faults,
        approving=lambda capture=True, amount=25_00: charge(capture=capture, amount=amount),
        declining=lambda capture=True: charge(capture=capture, card=card("4000 0000 0000 9995")),
        decline_response_code="51",
        with_timeout=lambda timeout_s: make(url, timeout_s),
        payments_for=lambda payment_id: len(fake.payments_noted("paygate_payment", payment_id)),
        webhook=webhook,
        bad_webhooks=bad_webhooks,
        partial_capture=False,  # Razorpay captures the whole authorized amount only
        voids=False,  # Razorpay has no release of an authorization
    )


# -- test cards and the mapping ---------------------------------------------------------
@pytest.mark.parametrize(
    ("pan", "amount", "code", "reason"),
    [
        ("5267 3181 8797 5449", 25_00, "00", None),  # Razorpay's Mastercard
        ("4386 2894 0766 0153", 25_00, "00", None),  # Razorpay's Visa
        ("4242 4242 4242 4242", 25_00, "00", None),  # paygate's
        ("4000 0000 0000 0002", 25_00, "05", "card_declined"),
        ("4000 0000 0000 9995", 25_00, "51", "insufficient_funds"),
        ("4000 0000 0000 0069", 25_00, "54", "card_expired"),
        ("4000 0000 0000 0127", 25_00, "N7", "incorrect_cvv"),
        ("4000 0000 0000 0614", 1_500_00, "61", "transaction_limit_exceeded"),
        ("4000 0000 0000 0655", 25_00, "65", "transaction_daily_count_exceeded"),
        ("4000 0000 0000 0960", 25_00, "96", "issuer_technical_error"),
        ("4000 0000 0000 9094", 25_00, "91", "bank_technical_error"),
        ("4000 0000 0000 9987", 25_00, "05", "debit_instrument_blocked"),  # lost: not told
        ("4000 0566 5566 5556", 25_00, "05", "card_declined"),  # not a test card
    ],
)
async def test_test_cards_answer_as_the_issuer_would(
    connector: RazorpayConnector, pan: str, amount: int, code: str, reason: str | None
) -> None:
    result = await connector.authorize(charge(amount=amount, card=card(pan)))
    assert (result.response_code, result.provider_code) == (code, reason)
    assert result.status == ("succeeded" if code == "00" else "declined")
    assert pan.replace(" ", "") not in result.message


async def test_a_bad_number_is_refused_in_one_line_without_the_card(
    connector: RazorpayConnector,
) -> None:
    with pytest.raises(BankRefused) as refused:
        await connector.authorize(charge(card=card("4242 4242 4242 4241")))
    assert "4242424242424241" not in str(refused.value) and "\n" not in str(refused.value)


async def test_otp_card_waits_then_the_otp_decides(
    connector: RazorpayConnector, fake: RazorpayFake
) -> None:
    ok = await connector.authorize(charge(card=card("4000 0000 0000 3220")))
    assert (ok.status, ok.response_code) == ("requires_action", "1A")
    assert ok.action_url and ok.action_url.endswith(f"/v1/payments/{ok.reference}/authenticate")
    fake.submit_otp(ok.reference, "123456")
    done = await connector.status(reference=ok.reference)
    assert done is not None and (done.status, done.response_code) == ("succeeded", "00")

    short = await connector.authorize(charge(card=card("4000 0000 0000 3220")))
    with pytest.raises(Exception, match="OTP is incorrect"):
        fake.submit_otp(short.reference, "12")
    failed = await connector.status(reference=short.reference)
    assert failed is not None and failed.provider_code == "incorrect_otp"

    poor = await connector.authorize(charge(card=card("4000 0084 0000 1629")))
    with pytest.raises(Exception, match="enough funds"):
        fake.submit_otp(poor.reference, "123456")
    declined = await connector.status(reference=poor.reference)
    assert declined is not None and (declined.status, declined.response_code) == ("declined", "51")


async def test_upi_collect_with_razorpay_test_vpas(
    connector: RazorpayConnector, fake: RazorpayFake
) -> None:
    paid = await connector.authorize(charge(vpa="success@razorpay"))
    assert (paid.status, paid.amount_captured) == ("succeeded", 25_00)
    failed = await connector.authorize(charge(vpa="failure@razorpay"))
    assert (failed.status, failed.response_code, failed.provider_code) == (
        "declined",
        "05",
        "payment_failed",
    )
    waiting = await connector.authorize(charge(vpa="asha@okbank"))
    assert (waiting.status, waiting.response_code) == ("pending", "1A")
    fake.complete(waiting.reference, success=True)
    found = await connector.status(reference=waiting.reference)
    assert found is not None and found.status == "succeeded"


async def test_upi_intent_gives_the_link(connector: RazorpayConnector) -> None:
    result = await connector.authorize(charge(upi="intent"))
    assert result.status == "pending"
    assert result.action_url and result.action_url.startswith("upi://pay?")
    assert "am=25.00&cu=INR" in result.action_url


async def test_net_banking_goes_through_the_bank_page(
    connector: RazorpayConnector, fake: RazorpayFake
) -> None:
    result = await connector.authorize(charge(bank="HDFC"))
    assert result.status == "requires_action" and result.action_url
    fake.complete(result.reference, success=False)
    found = await connector.status(reference=result.reference)
    assert found is not None and (found.status, found.provider_code) == (
        "declined",
        "payment_cancelled",
    )


async def test_a_stripe_payment_method_is_refused_before_sending(
    connector: RazorpayConnector,
) -> None:
    with pytest.raises(InputError, match="razorpay takes"):
        await connector.authorize(charge(payment_method="pm_card_visa"))


# -- the payment signature ----------------------------------------------------------------
async def test_payment_signature_is_checked_against_the_stored_order(
    connector: RazorpayConnector, fake: RazorpayFake
) -> None:
    sale = await connector.authorize(charge())
    other = await connector.authorize(charge())
    order_id = fake.fetch_payment(sale.reference)["order_id"]
    other_order = fake.fetch_payment(other.reference)["order_id"]
    signature = fake.signature(order_id, sale.reference)
    connector.check_payment_signature(order_id, sale.reference, signature)
    with pytest.raises(SignatureRefused):  # a signature made with another order id
        connector.check_payment_signature(
            order_id, sale.reference, fake.signature(other_order, sale.reference)
        )
    with pytest.raises(SignatureRefused):  # the right signature, another stored order
        connector.check_payment_signature(other_order, sale.reference, signature)
    for odd in ("", "zz", "é" * 64, signature.upper()):
        with pytest.raises(SignatureRefused):
            connector.check_payment_signature(order_id, sale.reference, odd)


# -- capture, refund, status --------------------------------------------------------------
async def test_capture_again_is_the_same_capture(connector: RazorpayConnector) -> None:
    held = await connector.authorize(charge(capture=False))
    first = await connector.capture(held.reference, 25_00, "cap-1")
    again = await connector.capture(held.reference, 25_00, "cap-1")
    assert (first.status, again.status, again.amount_captured) == ("succeeded", "succeeded", 25_00)


async def test_partial_capture_is_refused_in_one_line(connector: RazorpayConnector) -> None:
    held = await connector.authorize(charge(capture=False))
    with pytest.raises(NotAllowed, match="whole authorized amount"):
        await connector.capture(held.reference, 10_00, "cap-2")


async def test_refund_of_an_uncaptured_payment_is_refused(connector: RazorpayConnector) -> None:
    held = await connector.authorize(charge(capture=False))
    with pytest.raises(BankRefused, match="not been captured"):
        await connector.refund(held.reference, "rf-x", 10_00, "k-rf-x")


async def test_full_refund_leaves_a_refunded_payment(
    connector: RazorpayConnector, fake: RazorpayFake
) -> None:
    sale = await connector.authorize(charge())
    await connector.refund(sale.reference, "rf-all", 25_00, "k-rf-all")
    found = await connector.status(reference=sale.reference)
    assert found is not None
    assert (found.status, found.provider_status, found.amount_refunded) == (
        "succeeded",
        "refunded",
        25_00,
    )
    events = [d.event for d in fake.webhooks.sent(sale.reference)]
    assert events == ["payment.authorized", "payment.captured", "order.paid", "refund.processed"]


async def test_status_of_an_unknown_payment_is_none(connector: RazorpayConnector) -> None:
    assert await connector.status(reference="pay_00000000000000") is None
    assert await connector.status(reference="../orders") is None  # never put in a URL
    with pytest.raises(InputError, match="not a razorpay payment id"):
        await connector.capture("pi_123/../x", 25_00, "cap-x")
    for asked in ({}, {"reference": ""}, {"idempotency_key": " "}):
        with pytest.raises(InputError):
            await connector.status(**asked)


def test_keys_are_shaped_as_razorpay_takes_them() -> None:
    assert receipt_for("k" * 36) == "k" * 36
    long = receipt_for("k" * 64)
    assert len(long) == 40 and long == receipt_for("k" * 64) != receipt_for("k" * 65)
    assert refund_key_for("refund-0001_a") == "refund-0001_a"
    for odd in ("short", "with:colon-0001", "k" * 65):
        shaped = refund_key_for(odd)
        assert shaped.startswith("pg-") and shaped == refund_key_for(odd) != odd


async def test_a_refund_key_reused_with_another_amount_is_refused(
    connector: RazorpayConnector,
) -> None:
    sale = await connector.authorize(charge())
    await connector.refund(sale.reference, "rf-a", 10_00, "same-key-0001")
    with pytest.raises(BankRefused, match="same idempotency key"):
        await connector.refund(sale.reference, "rf-a", 5_00, "same-key-0001")


# -- failures -----------------------------------------------------------------------------
async def test_connection_refused_is_bank_not_reached() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = make(f"http://127.0.0.1:{port}")
    with pytest.raises(BankNotReached) as lost:
        await closed.authorize(charge(card=card("4242 4242 4242 4242")))
    await closed.close()
    # requests' own error (its request holds the card) is not chained to paygate's
    assert lost.value.__context__ is None and lost.value.__cause__ is None
    assert "4242" not in str(lost.value)


async def test_a_500_after_processing_is_unavailable_not_down(
    connector: RazorpayConnector, fake: RazorpayFake
) -> None:
    sale = charge()
    fake.faults.set(Fault(mode="error", count=1))
    try:
        with pytest.raises(BankUnavailable) as lost:
            await connector.authorize(sale)
        assert not isinstance(lost.value, ProcessorDown)
    finally:
        fake.faults.clear()
    found = await connector.status(idempotency_key=sale.idempotency_key)
    assert found is not None and found.status == "succeeded"
    again = await connector.authorize(sale)  # the retry finds it: no second payment
    assert again.reference == found.reference
    assert len(fake.payments_noted("paygate_payment", sale.payment_id)) == 1


async def test_wrong_keys_are_refused_in_one_line(url: str) -> None:
    wrong = make(
        url,
        api_key=SecretStr("rzp_test_other"),
        api_secret=SecretStr("nope"),
        base_url=f"{url}/razorpay",
    )
    with pytest.raises(BankRefused, match="Authentication failed"):
        await wrong.authorize(charge())
    await wrong.close()


def test_real_service_without_keys_is_refused() -> None:
    settings = ProcessorSettings(base_url="https://api.razorpay.com")
    with pytest.raises(InputError, match="api_key and api_secret"):
        open_connector("razorpay", settings, "http://127.0.0.1:9")


async def test_the_sdk_runs_off_the_event_loop(connector: RazorpayConnector) -> None:
    order: list[str] = []

    async def sale() -> None:
        await connector.authorize(charge())
        order.append("sale")

    async def other() -> None:
        order.append("other")

    await asyncio.gather(sale(), other())
    assert order == ["other", "sale"]  # the loop ran on while the SDK worked


async def test_a_lost_answer_carries_no_card(url: str, fake: RazorpayFake) -> None:
    hasty = make(url, 0.3)
    fake.faults.set(Fault(mode="timeout_after_accept", count=1, delay_s=1.0))
    try:
        with pytest.raises(BankUnavailable) as lost:
            await hasty.authorize(charge(card=card("4242 4242 4242 4242", cvv="123")))
    finally:
        fake.faults.clear()
        await hasty.close()
    assert lost.value.__context__ is None and lost.value.__cause__ is None
    assert "4242" not in str(lost.value) and "\n" not in str(lost.value)


# -- the docs and the network -------------------------------------------------------------
def test_the_docs_table_is_the_connectors_mapping() -> None:
    text = (Path(__file__).parents[2] / "docs" / "CONNECTORS.md").read_text(encoding="utf-8")
    section = text.split("## Razorpay", 1)[1].split("### Error reasons", 1)[1].split("###")[0]
    documented: dict[str, str] = {}
    for row in section.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        decline, code = cells[1].strip("`"), cells[2]
        assert response_code_for(decline) == code, row
        documented |= {reason: decline for reason in cells[0].split("`")[1::2]}
    assert documented == DECLINES


@pytest.fixture
def outbound(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address a socket connects to; any but loopback refused."""
    seen: list[str] = []
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: tuple[str, int]) -> None:
        seen.append(address[0])
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise ConnectionRefusedError(f"test guard: {address[0]} is not loopback")
        connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return seen


async def test_no_request_leaves_the_machine(url: str, outbound: list[str]) -> None:
    connector = make(url)
    try:
        held = await connector.authorize(charge(capture=False))
        await connector.capture(held.reference, 25_00, "cap-" + held.reference)
        await connector.refund(held.reference, "rf-" + held.reference, 5_00, "k-" + held.reference)
        assert await connector.status(reference=held.reference) is not None
    finally:
        await connector.close()
    assert outbound and all(ipaddress.ip_address(host).is_loopback for host in outbound)
    elsewhere = RazorpayConnector(
        ProcessorSettings(
            api_key=SecretStr("rzp_live_x"),
            api_secret=SecretStr("x"),
            base_url="http://203.0.113.9",
        ),
        "http://203.0.113.9",
    )
    with pytest.raises(BankNotReached):
        await elsewhere.status(reference="pay_00000000000000")
    await elsewhere.close()
    assert outbound[-1] == "203.0.113.9"


async def test_a_signed_body_that_is_no_event_is_refused(connector: RazorpayConnector) -> None:
    for body in (
        b"[]",
        b'{"event": "payment.captured"}',
        b'{"event": "x", "created_at": 1e300}',
        b'{"event": "x", "created_at": 1, "payload": []}',
        b'{"event": "x", "created_at": 1, "payload": {"payment": {"entity": {}}}}',
        b"\xff",
    ):
        headers = {
            "X-Razorpay-Signature": sign(FAKE_WEBHOOK_SECRET, body),
            "X-Razorpay-Event-Id": "e",
        }
        with pytest.raises(SignatureRefused):
            await connector.parse_webhook(headers, body)
