"""The PayPal connector through the official paypal-server-sdk against the PayPal fake
(bank_sim/processors/paypal) on a loopback port: the shared conformance cases
(conformance.py, through the `kit` fixture), then PayPal's own: test cards and
rejection triggers, 3-D Secure and approval, currencies, failures, no card data, no
request off the machine, webhooks. The fake's own shapes: test_paypal_fake.py."""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from conformance import *  # noqa: F403  (the shared cases)
from conformance import Kit, Webhook
from fastapi import FastAPI
from paypal_support import (
    NOW,
    SETTINGS,
    VISA,
    Env,
    bearer,
    charge,
    orders_of,
    running,
)
from pydantic import SecretStr

from bank_sim.processors.faults import Fault
from bank_sim.processors.paypal.webhooks import SentWebhook
from bank_sim.processors.server import LoopbackServer
from gateway_core.cards import load_test_pan
from gateway_core.clock import FixedClock
from gateway_core.connectors import open_connector
from gateway_core.connectors.paypal import PaypalConnector
from gateway_core.connectors.paypal_mapping import event_result, minor_units, paypal_value
from gateway_core.errors import BankNotReached, BankRefused, BankUnavailable, InputError
from gateway_core.ports.connectors import (
    Connector,
    ConnectorCard,
    ConnectorCharge,
    ProcessorDown,
    SignatureRefused,
)
from gateway_core.settings import ProcessorSettings


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from running(tmp_path_factory.mktemp("paypal"))


@pytest.fixture
async def paypal(env: Env) -> AsyncIterator[PaypalConnector]:
    env.fake.faults.clear()
    connector = PaypalConnector(SETTINGS, env.url, clock=FixedClock(NOW))
    yield connector
    await connector.close()
    env.fake.faults.clear()


@pytest.fixture
async def kit(env: Env) -> AsyncIterator[Kit]:
    """The shared conformance cases' view of PayPal (tests/connectors/conformance.py)."""

    def connector(timeout_s: float = SETTINGS.timeout_s) -> PaypalConnector:
        settings = SETTINGS.model_copy(update={"timeout_s": timeout_s})
        return PaypalConnector(settings, env.url, clock=FixedClock(NOW))

    def sent_for(reference: str) -> SentWebhook:
        return next(
            sent
            for sent in reversed(env.fake.webhooks.sent)
            if event_result(sent.event_type, json.loads(sent.body)["resource"])[0] == reference
        )

    async def webhook(reference: str) -> Webhook:
        sent = sent_for(reference)
        return sent.headers, sent.body

    async def bad_webhooks(reference: str) -> list[Webhook]:
        sent = sent_for(reference)
        headers, body = sent.headers, sent.body
        return [
            (headers, body.replace(b'"COMPLETED"', b'"PENDING"')),  # tampered
            (headers | {"PAYPAL-TRANSMISSION-TIME": "2026-11-28T04:24:00Z"}, body),  # stale
            (headers | {"PAYPAL-TRANSMISSION-TIME": "2026-11-28T04:30:05Z"}, body),  # replayed
            (headers | {"PAYPAL-TRANSMISSION-SIG": "c2lnbmVkIGVsc2V3aGVyZQ=="}, body),  # forged
            ({k: v for k, v in headers.items() if k != "PAYPAL-TRANSMISSION-SIG"}, body),
        ]

    env.fake.faults.clear()
    main = connector()
    yield Kit(
        connector=main,
        faults=env.fake.faults,
        approving=lambda capture=True, amount=25_00: charge(amount=amount, capture=capture),
        declining=lambda capture=True: charge("4000000000009995", amount=25_00, capture=capture),
        decline_response_code="51",
        with_timeout=connector,
        payments_for=lambda payment_id: len(orders_of(env, payment_id)),
        webhook=webhook,
        bad_webhooks=bad_webhooks,
    )
    await main.close()
    env.fake.faults.clear()


# -- the connector ---------------------------------------------------------------------------
async def test_the_registry_opens_it_on_the_fake(env: Env) -> None:
    root = env.url.removesuffix("/paypal")
    connector = open_connector("paypal", SETTINGS, root)
    assert isinstance(connector, PaypalConnector) and isinstance(connector, Connector)
    assert connector._client.config.get_base_uri() == env.url
    await connector.close()


async def test_a_sale_is_captured_with_the_payment_id_on_the_order(
    paypal: PaypalConnector, env: Env
) -> None:
    sale = charge(amount=10_050)
    result = await paypal.authorize(sale)
    assert (result.status, result.response_code, result.amount_captured) == (
        "succeeded",
        "00",
        10_050,
    )
    assert result.provider_code == "0000"
    [order] = orders_of(env, sale.payment_id)
    assert order["id"] == result.reference and order["invoice_id"] == sale.payment_id
    assert order["intent"] == "CAPTURE" and order["amount"] == 10_050


async def test_an_authorization_is_held_then_partly_captured(paypal: PaypalConnector) -> None:
    auth = await paypal.authorize(charge(amount=10_000, capture=False))
    assert auth.status == "requires_capture"
    captured = await paypal.capture(auth.reference, 4_000, "cap-partial-1")
    assert (captured.status, captured.amount_captured) == ("succeeded", 4_000)
    again = await paypal.capture(auth.reference, 4_000, "cap-partial-1")
    assert again.amount_captured == 4_000  # the same PayPal-Request-Id: no second capture


async def test_a_second_capture_after_the_final_one_is_refused(paypal: PaypalConnector) -> None:
    auth = await paypal.authorize(charge(amount=10_000, capture=False))
    await paypal.capture(auth.reference, 4_000, "cap-final-1")
    with pytest.raises(BankRefused, match="AUTHORIZATION_ALREADY_CAPTURED"):
        await paypal.capture(auth.reference, 1_000, "cap-final-2")


async def test_a_void_releases_the_authorization(paypal: PaypalConnector, env: Env) -> None:
    auth = await paypal.authorize(charge(capture=False))
    voided = await paypal.void(auth.reference, "void-1")
    assert voided.status == "canceled"
    sent = len(env.fake.webhooks.sent)
    assert (await paypal.void(auth.reference, "void-2")).status == "canceled"
    assert len(env.fake.webhooks.sent) == sent  # nothing voided twice
    with pytest.raises(BankRefused, match="AUTHORIZATION_VOIDED"):
        await paypal.capture(auth.reference, 100, "cap-after-void")


async def test_partial_and_multiple_refunds_up_to_the_captured_amount(
    paypal: PaypalConnector,
) -> None:
    sale = await paypal.authorize(charge(amount=5_000))
    first = await paypal.refund(sale.reference, "refund-a", 1_500, "k-a")
    second = await paypal.refund(sale.reference, "refund-b", 2_000, "k-b")
    assert (first.amount, first.status, second.amount) == (1_500, "succeeded", 2_000)
    assert first.reference != second.reference
    retried = await paypal.refund(sale.reference, "refund-b", 2_000, "k-b2")
    assert retried == second  # the refund_id is the PayPal-Request-Id
    status = await paypal.status(reference=sale.reference)
    assert status is not None and status.amount_refunded == 3_500
    with pytest.raises(BankRefused, match="REFUND_AMOUNT_EXCEEDED"):
        await paypal.refund(sale.reference, "refund-c", 1_501, "k-c")
    last = await paypal.refund(sale.reference, "refund-d", 1_500, "k-d")
    assert last.amount == 1_500
    with pytest.raises(BankRefused, match="CAPTURE_FULLY_REFUNDED"):
        await paypal.refund(sale.reference, "refund-e", 1, "k-e")


@pytest.mark.parametrize(
    ("pan", "holder", "code", "provider_code"),
    [
        ("4000000000009995", "Asha Rao", "51", "5120"),  # paygate: balance ₹10.00
        ("4000000000000002", "Asha Rao", "05", "0500"),
        ("4000000000000069", "Asha Rao", "54", "5400"),
        ("4000000000000127", "Asha Rao", "N7", "00N7"),
        ("4000000000009987", "Asha Rao", "41", "9520"),
        ("4000000000009979", "Asha Rao", "43", "5150"),
        ("4000000000000655", "Asha Rao", "65", "5710"),
        ("4000000000000960", "Asha Rao", "96", "0960"),
        ("4000000000009094", "Asha Rao", "91", "5920"),
        ("4012888888881881", "CCREJECT-IF", "51", "5120"),  # PayPal's rejection triggers
        ("4012888888881881", "CCREJECT-REFUSED", "05", "0500"),
        ("4012888888881881", "CCREJECT-CVV_F", "N7", "00N7"),
        ("4012888888881881", "CCREJECT-EC", "54", "5400"),
        ("4012888888881881", "CCREJECT-SF", "05", "9500"),
    ],
)
async def test_declines_carry_paygate_response_codes(
    paypal: PaypalConnector, pan: str, holder: str, code: str, provider_code: str
) -> None:
    result = await paypal.authorize(charge(pan, amount=2_000, holder=holder))
    assert (result.status, result.response_code, result.provider_code) == (
        "declined",
        code,
        provider_code,
    )
    assert result.decline_code is not None and result.reference


async def test_a_declined_authorization_is_declined(paypal: PaypalConnector) -> None:
    result = await paypal.authorize(charge("4000000000009995", amount=2_000, capture=False))
    assert (result.status, result.response_code, result.provider_status) == (
        "declined",
        "51",
        "COMPLETED DENIED",
    )


@pytest.mark.parametrize("pan", ["4012888888881881", "371449635398431", load_test_pan(42)])
async def test_paypal_and_load_test_cards_approve(paypal: PaypalConnector, pan: str) -> None:
    cvv = "1234" if pan.startswith("37") else "123"
    assert (await paypal.authorize(charge(pan, cvv=cvv))).status == "succeeded"


async def test_upi_is_not_taken(paypal: PaypalConnector) -> None:
    upi = ConnectorCharge("pay_upi", "idem-upi", "m_1", 1_000, "INR", True, "upi", vpa="a@upi")
    with pytest.raises(BankRefused, match="cards"):
        await paypal.authorize(upi)


async def test_an_expired_card_is_a_decline(paypal: PaypalConnector) -> None:
    card = ConnectorCard(SecretStr(VISA), 1, 2024, SecretStr("123"))
    expired = ConnectorCharge("pay_exp", "idem-exp", "m_1", 1_000, "USD", True, card=card)
    result = await paypal.authorize(expired)
    assert (result.status, result.response_code, result.provider_code) == (
        "declined",
        "54",
        "CARD_EXPIRED",
    )


@pytest.mark.parametrize(
    ("pan", "after"), [("4000000000003220", "succeeded"), ("4000008400001629", "declined")]
)
async def test_three_d_secure_then_completing_the_same_charge(
    paypal: PaypalConnector, env: Env, pan: str, after: str
) -> None:
    sale = charge(pan, amount=2_000)
    first = await paypal.authorize(sale)
    assert first.status == "requires_action" and first.response_code == "1A"
    assert first.action_url and first.reference in first.action_url
    httpx.post(f"{env.url}/_simulate/approve/{first.reference}").raise_for_status()
    done = await paypal.authorize(sale)  # the same key: the approved order is captured
    assert (done.status, done.reference) == (after, first.reference)
    assert done.amount_captured == (2_000 if after == "succeeded" else 0)


async def test_a_declined_wallet_is_instrument_declined(paypal: PaypalConnector, env: Env) -> None:
    wallet = ConnectorCharge("pay_wallet", "idem-wallet", "m_1", 1_000, "USD", True)
    created = await paypal.authorize(wallet)
    assert created.status == "requires_action" and "checkoutnow" in (created.action_url or "")
    approve = f"{env.url}/_simulate/approve/{created.reference}"
    httpx.post(approve, json={"declined": True}).raise_for_status()
    result = await paypal.authorize(wallet)
    assert (result.status, result.response_code, result.provider_code) == (
        "declined",
        "05",
        "INSTRUMENT_DECLINED",
    )


async def test_an_order_waiting_for_the_payer_is_given_up(paypal: PaypalConnector) -> None:
    wallet = ConnectorCharge("pay_given_up", "idem-given-up", "m_1", 1_000, "USD", True)
    created = await paypal.authorize(wallet)
    assert created.status == "requires_action"
    given_up = await paypal.void(created.reference, "void-given-up")
    assert (given_up.status, given_up.reference) == ("canceled", created.reference)


async def test_the_payers_approval_is_a_webhook_then_the_order_is_completed(
    paypal: PaypalConnector, env: Env
) -> None:
    wallet = ConnectorCharge("pay_approved", "idem-approved", "m_1", 1_500, "USD", False)
    created = await paypal.authorize(wallet)
    httpx.post(f"{env.url}/_simulate/approve/{created.reference}").raise_for_status()
    sent = env.fake.webhooks.sent[-1]
    event = await paypal.parse_webhook(sent.headers, sent.body)
    assert (event.type, event.reference, event.result) == (
        "CHECKOUT.ORDER.APPROVED",
        created.reference,
        None,
    )
    held = await paypal.status(reference=created.reference)  # the merchant's step, done
    assert held is not None and held.status == "requires_capture"
    assert env.fake.webhooks.sent[-1].event_type == "PAYMENT.AUTHORIZATION.CREATED"
    again = await paypal.status(reference=created.reference)
    assert again == held  # done once


@pytest.mark.parametrize(
    ("amount", "currency", "value"),
    [(10_050, "USD", "100.50"), (1_000, "JPY", "1000"), (1_234, "KWD", "1.234")],
)
async def test_amounts_go_out_with_each_currencys_decimals(
    paypal: PaypalConnector, env: Env, amount: int, currency: str, value: str
) -> None:
    assert paypal_value(amount, currency) == value
    assert minor_units(value, currency) == amount
    sale = charge(load_test_pan(7), amount=amount, currency=currency)
    result = await paypal.authorize(sale)
    assert result.amount_captured == amount
    order = httpx.get(
        f"{env.url}/v2/checkout/orders/{result.reference}", headers=bearer(env)
    ).json()
    assert order["purchase_units"][0]["amount"] == {"currency_code": currency, "value": value}


# -- failures -------------------------------------------------------------------------------------
async def test_a_500_after_processing_is_unclear_and_found_by_status(
    paypal: PaypalConnector, env: Env
) -> None:
    sale = charge()
    env.fake.faults.set(Fault(mode="error", count=1))
    with pytest.raises(BankUnavailable) as lost:
        await paypal.authorize(sale)
    assert not isinstance(lost.value, ProcessorDown)
    found = await paypal.status(idempotency_key=sale.idempotency_key)
    assert found is not None and found.status == "succeeded"
    again = await paypal.authorize(sale)  # a retry with the key: the same order
    assert again.reference == found.reference
    assert len(orders_of(env, sale.payment_id)) == 1


async def test_a_refused_connection_is_bank_not_reached() -> None:
    closed = LoopbackServer(FastAPI())
    url = closed.start()
    closed.stop()
    paypal = PaypalConnector(SETTINGS, f"{url}/paypal")
    with pytest.raises(BankNotReached):
        await paypal.authorize(charge())
    await paypal.close()


async def test_wrong_credentials_are_refused_in_one_line(env: Env) -> None:
    wrong = SETTINGS.model_copy(
        update={"api_secret": SecretStr("not-the-secret"), "base_url": env.url}
    )
    paypal = PaypalConnector(wrong, env.url)
    with pytest.raises(BankRefused, match="invalid_client") as refused:
        await paypal.authorize(charge())
    assert "not-the-secret" not in str(refused.value) and "\n" not in str(refused.value)
    await paypal.close()
    with pytest.raises(InputError, match="api_key"):
        PaypalConnector(ProcessorSettings(base_url=env.url), env.url)


async def test_status_of_unknown_ids_and_keys_is_none_and_makes_nothing(
    paypal: PaypalConnector, env: Env
) -> None:
    before = len(env.fake.store.records("orders"))
    assert await paypal.status(reference="NOSUCHORDER00000") is None
    assert await paypal.status(idempotency_key="never-sent-key") is None
    assert len(env.fake.store.records("orders")) == before


async def test_no_card_data_in_errors_logs_or_the_fakes_state(
    paypal: PaypalConnector, env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = "4242424242424241"  # fails the Luhn check at PayPal
    with pytest.raises(BankRefused) as refused:
        await paypal.authorize(charge(bad, cvv="987"))
    assert bad not in str(refused.value) and "987" not in str(refused.value)
    await paypal.authorize(charge("4111111111111111", cvv="456"))
    state = (env.directory / "paypal.json").read_text()
    assert "4111111111111111" not in state and "security_code" not in state
    assert '"456"' not in state and "4242424242424241" not in state
    assert "4111111111111111" not in caplog.text and bad not in caplog.text


@pytest.fixture
def outbound(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address a socket connects to; any but loopback refused."""
    seen: list[str] = []
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> None:
        host = str(address[0]) if isinstance(address, tuple) else str(address)
        seen.append(host)
        inet = self.family in (socket.AF_INET, socket.AF_INET6)
        if inet and not ipaddress.ip_address(host.split("%")[0]).is_loopback:
            raise ConnectionRefusedError(f"test guard: {host} is not loopback")
        connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return seen


async def test_no_request_leaves_the_machine(env: Env, outbound: list[str]) -> None:
    paypal = PaypalConnector(SETTINGS, env.url, clock=FixedClock(NOW))
    auth = await paypal.authorize(charge(capture=False))
    await paypal.capture(auth.reference, 1_000, "cap-local-1")
    await paypal.refund(auth.reference, "refund-local-1", 500, "k")
    sent = env.fake.webhooks.sent[-1]
    await paypal.parse_webhook(sent.headers, sent.body)
    await paypal.close()
    assert outbound and all(ipaddress.ip_address(host).is_loopback for host in outbound)
    elsewhere = PaypalConnector(SETTINGS, "http://203.0.113.9/paypal")
    outbound.clear()
    with pytest.raises(BankNotReached):
        await elsewhere.authorize(charge())
    await elsewhere.close()
    assert outbound == ["203.0.113.9"]


# -- webhooks -----------------------------------------------------------------------------------
async def test_a_webhook_is_verified_and_read(paypal: PaypalConnector, env: Env) -> None:
    sale = await paypal.authorize(charge(amount=3_000))
    sent = next(w for w in reversed(env.fake.webhooks.sent) if w.event_type.endswith("COMPLETED"))
    assert {"PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-SIG", "PAYPAL-CERT-URL"} <= set(
        sent.headers
    )
    event = await paypal.parse_webhook(sent.headers, sent.body)
    assert (event.provider, event.type, event.reference) == (
        "paypal",
        "PAYMENT.CAPTURE.COMPLETED",
        sale.reference,
    )
    assert event.result is not None and event.result.amount_captured == 3_000
    assert event.event_id == json.loads(sent.body)["id"]


async def test_refund_and_void_events_are_sent(paypal: PaypalConnector, env: Env) -> None:
    sale = await paypal.authorize(charge(amount=3_000))
    await paypal.refund(sale.reference, "refund-event-1", 1_000, "k")
    refunded = env.fake.webhooks.sent[-1]
    assert refunded.event_type == "PAYMENT.CAPTURE.REFUNDED"
    event = await paypal.parse_webhook(refunded.headers, refunded.body)
    assert event.reference == sale.reference and event.result is None
    auth = await paypal.authorize(charge(capture=False))
    assert env.fake.webhooks.sent[-1].event_type == "PAYMENT.AUTHORIZATION.CREATED"
    await paypal.void(auth.reference, "void-event-1")
    voided = env.fake.webhooks.sent[-1]
    event = await paypal.parse_webhook(voided.headers, voided.body)
    assert event.result is not None and event.result.status == "canceled"


async def test_a_tampered_webhook_is_refused(paypal: PaypalConnector, env: Env) -> None:
    await paypal.authorize(charge(amount=3_000))
    sent = env.fake.webhooks.sent[-1]
    body = sent.body.replace(b'"30.00"', b'"3000.00"')
    assert body != sent.body
    with pytest.raises(SignatureRefused):
        await paypal.parse_webhook(sent.headers, body)


async def test_a_replayed_webhook_with_another_time_is_refused(
    paypal: PaypalConnector, env: Env
) -> None:
    await paypal.authorize(charge())
    sent = env.fake.webhooks.sent[-1]
    moved = sent.headers | {"PAYPAL-TRANSMISSION-TIME": "2026-11-28T04:31:00Z"}
    with pytest.raises(SignatureRefused):
        await paypal.parse_webhook(moved, sent.body)


async def test_a_stale_or_unsigned_webhook_is_refused(env: Env) -> None:
    later = FixedClock(NOW)
    later.advance(minutes=6)
    paypal = PaypalConnector(SETTINGS, env.url, clock=later)
    await paypal.authorize(charge())
    sent = env.fake.webhooks.sent[-1]
    with pytest.raises(SignatureRefused, match="too long ago"):
        await paypal.parse_webhook(sent.headers, sent.body)
    unsigned = {k: v for k, v in sent.headers.items() if k != "PAYPAL-TRANSMISSION-SIG"}
    with pytest.raises(SignatureRefused, match="PAYPAL-TRANSMISSION-SIG"):
        await paypal.parse_webhook(unsigned, sent.body)
    await paypal.close()


async def test_another_webhook_id_is_refused(env: Env) -> None:
    other = SETTINGS.model_copy(update={"webhook_secret": SecretStr("WH-SOMEONE-ELSE")})
    paypal = PaypalConnector(other, env.url, clock=FixedClock(NOW))
    await paypal.authorize(charge())
    sent = env.fake.webhooks.sent[-1]
    with pytest.raises(SignatureRefused):
        await paypal.parse_webhook(sent.headers, sent.body)
    await paypal.close()
