"""The official `stripe` SDK against `paygate serve`'s Stripe-compatible API at /stripe.

The app `paygate serve` runs (`create_app`) is served by uvicorn on a loopback port in a
thread, over a data dir with the simulated banks embedded; the SDK (its own HTTP client,
requests) points `base_addresses={"api": URL + "/stripe"}` at it with a terminal's
paygate key as the secret key. What it makes are ordinary paygate payments: read back
through the gateway, with their audit events.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import stripe
import uvicorn
from support import OTP_RE, gateway_settings, open_runtime, pan_pattern

from bank_sim.testcards import card_for
from gateway_core.runtime import Runtime
from gateway_core.service.app import create_app
from gateway_core.service.keys import ApiKeys
from gateway_core.service.stripe_methods import STRIPE_NUMBERS, TEST_METHODS
from gateway_core.settings import Settings

START = datetime(2026, 11, 28, 4, 30, tzinfo=UTC)
MERCHANT, OTHER = "PAYGATEDEMO0001", "OTHERSHOP01"
APPROVAL = {"Paygate-Approval": "meera:4321"}  # the demo manager approves voids and refunds


class Ticking:
    """A clock a millisecond on at each reading (payments apart; no wall clock)."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        self._now += timedelta(milliseconds=1)
        return self._now


@dataclass
class Served:
    url: str
    rt: Runtime
    keys: dict[str, str]

    def client(self, who: str = "shop", **options: object) -> stripe.StripeClient:
        return stripe.StripeClient(
            self.keys[who],
            base_addresses={"api": f"{self.url}/stripe"},
            max_network_retries=0,
            **options,  # type: ignore[arg-type]  # the SDK's keyword options, as given
        )


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[Served]:
    """`paygate serve`'s app over `settings` on a loopback port, two merchants' keys."""
    rt = open_runtime(settings, clock=Ticking(START))
    keys = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock)
    issued = {
        "shop": keys.issue(MERCHANT, "TERM0001", actor="owner")[1],
        "other": keys.issue(OTHER, "TERM0001", actor="owner")[1],
    }
    app = create_app(rt, repair_on_start=False, poll_every_s=None)  # boards both on start
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Served(f"http://127.0.0.1:{port}", rt, issued)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        rt.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(gateway_settings(tmp_path_factory.mktemp("stripe") / "data", 5.0)) as running:
        yield running


def _visa(amount: int = 12_50, **more: object) -> dict[str, object]:
    return {
        "amount": amount,
        "currency": "inr",
        "payment_method": "pm_card_visa",
        "confirm": True,
        **more,
    }


def _events(served: Served, payment_id: str) -> list[str]:
    return [
        e["action"] for _day, e in served.rt.records.audit.events() if e["subject"] == payment_id
    ]


# -- create and confirm ---------------------------------------------------------------
def test_create_and_confirm_is_an_ordinary_paygate_payment(served: Served) -> None:
    client = served.client()
    pi = client.v1.payment_intents.create(
        params=_visa(12_50, description="order 7", metadata={"order": "7"})
    )
    assert (pi.status, pi.amount, pi.amount_received, pi.currency) == (
        "succeeded",
        12_50,
        12_50,
        "inr",
    )
    assert pi.id.startswith("pi_") and pi.latest_charge.startswith("ch_")
    assert pi.metadata["order"] == "7" and pi.description == "order 7"
    payment = served.rt.gateway.get(pi.paygate["payment_id"])
    assert payment.id == "pay_" + pi.id.removeprefix("pi_")
    assert (payment.status, payment.amount_captured, payment.card.brand) == (
        "succeeded",
        12_50,
        "visa",
    )
    assert payment.terminal_id == "TERM0001" and payment.operator == "terminal:TERM0001"
    assert {"payment.created", "payment.captured"} <= set(_events(served, payment.id))
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
    auth = {"Authorization": f"Bearer {served.keys['shop']}"}
    own = httpx.get(f"{served.url}/v1/payments/{payment.id}", headers=auth).json()
    assert (own["status"], own["amount_captured"]) == ("succeeded", 12_50)
    listed = httpx.get(f"{served.url}/v1/payments", headers=auth).json()["data"]
    assert payment.id in {p["id"] for p in listed}


def test_card_fields_and_stripe_test_numbers(served: Served) -> None:
    card = {"number": "4000056655665556", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    pi = served.client().v1.payment_intents.create(
        params={
            "amount": 5_00,
            "currency": "inr",
            "confirm": True,
            "payment_method_data": {"type": "card", "card": card},
        }
    )
    assert pi.status == "succeeded"
    assert served.rt.gateway.get(pi.paygate["payment_id"]).card.last4 == "1111"  # paygate's debit


@pytest.mark.parametrize(
    ("method", "code", "decline_code"),
    [
        ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
        ("pm_card_chargeDeclined", "card_declined", "do_not_honor"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
        ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc"),
    ],
)
def test_a_decline_raises_card_error(
    served: Served, method: str, code: str, decline_code: str
) -> None:
    client = served.client()
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_intents.create(params=_visa(20_00, payment_method=method))
    error = caught.value
    assert (error.http_status, error.code, error.error.decline_code) == (402, code, decline_code)
    pi = error.error.payment_intent
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.decline_code == decline_code
    payment = served.rt.gateway.get("pay_" + pi.id.removeprefix("pi_"))
    assert payment.status == "declined" and payment.decline_code == decline_code
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"


def test_authentication_required_is_requires_action(served: Served) -> None:
    client = served.client()
    pi = client.v1.payment_intents.create(
        params=_visa(30_00, payment_method="pm_card_authenticationRequired")
    )
    assert pi.status == "requires_action" and pi.next_action.type == "paygate_otp"
    canceled = client.v1.payment_intents.cancel(pi.id, options={"headers": APPROVAL})
    assert (canceled.status, canceled.next_action) == ("canceled", None)
    assert served.rt.gateway.get(pi.paygate["payment_id"]).status == "canceled"


# -- drafts: create without confirm, confirm later --------------------------------------
def test_a_draft_confirmed_later_then_captured_and_refunded_by_its_id(served: Served) -> None:
    client = served.client()
    params = {"amount": 80_00, "currency": "inr", "capture_method": "manual"}
    draft = client.v1.payment_intents.create(params={**params, "payment_method": "pm_card_visa"})
    assert draft.id.startswith("pi_d-") and draft.status == "requires_confirmation"
    assert client.v1.payment_intents.retrieve(draft.id).status == "requires_confirmation"
    pi = client.v1.payment_intents.confirm(draft.id)
    assert pi.status == "requires_capture" and pi.id.startswith("pi_2026")
    assert client.v1.payment_intents.retrieve(draft.id).id == pi.id  # the draft names it now
    captured = client.v1.payment_intents.capture(draft.id, params={"amount_to_capture": 60_00})
    assert (captured.id, captured.amount_received) == (pi.id, 60_00)
    refund = client.v1.refunds.create(
        params={"payment_intent": draft.id, "amount": 10_00}, options={"headers": APPROVAL}
    )
    assert refund.payment_intent == pi.id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(draft.id)
    assert caught.value.code == "payment_intent_unexpected_state"


def test_a_draft_declined_is_confirmed_again_with_another_card(served: Served) -> None:
    client = served.client()
    draft = client.v1.payment_intents.create(params={"amount": 25_00, "currency": "inr"})
    assert (draft.status, draft.payment_method) == ("requires_payment_method", None)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(draft.id)
    assert caught.value.param == "payment_method"
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.confirm(
            draft.id, params={"payment_method": "pm_card_chargeDeclinedInsufficientFunds"}
        )
    assert declined.value.error.decline_code == "insufficient_funds"
    after = client.v1.payment_intents.retrieve(draft.id)
    assert after.status == "requires_payment_method" and after.last_payment_error
    pi = client.v1.payment_intents.confirm(draft.id, params={"payment_method": "pm_card_visa"})
    assert pi.status == "succeeded" and pi.id != declined.value.error.payment_intent.id
    assert client.v1.payment_intents.retrieve(draft.id).id == pi.id


def test_a_draft_canceled_and_a_draft_of_another_merchant_or_forged(served: Served) -> None:
    client = served.client()
    draft = client.v1.payment_intents.create(params={"amount": 9_00, "currency": "inr"})
    canceled = client.v1.payment_intents.cancel(draft.id)
    assert canceled.status == "canceled"
    assert client.v1.payment_intents.retrieve(draft.id).status == "canceled"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(draft.id, params={"payment_method": "pm_card_visa"})
    assert caught.value.code == "payment_intent_unexpected_state"
    forged = draft.id.replace("pi_d-900-", "pi_d-1-")
    for other, object_id in ((served.client("other"), draft.id), (client, forged)):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            other.v1.payment_intents.retrieve(object_id)
        assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")


def test_the_otp_of_a_stepped_up_card_through_confirm(served: Served) -> None:
    client = served.client()
    pi = client.v1.payment_intents.create(
        params=_visa(35_00, payment_method="pm_card_authenticationRequired")
    )
    assert pi.status == "requires_action"
    auth = {"Authorization": f"Bearer {served.keys['shop']}"}
    texts = httpx.get(f"{served.url}/v1/demo/outbox", headers=auth).json()
    otp = OTP_RE.search(texts[0]["text"]).group()
    wrong = "000000" if otp != "000000" else "111111"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(pi.id, params={"paygate_otp": wrong})
    assert (caught.value.code, caught.value.param) == ("incorrect_otp", "paygate_otp")
    done = client.v1.payment_intents.confirm(pi.id, params={"paygate_otp": otp})
    assert (done.id, done.status, done.amount_received) == (pi.id, "succeeded", 35_00)


# -- capture, refund, cancel ----------------------------------------------------------
def test_manual_capture_partial_then_refunds_partial_and_the_rest(served: Served) -> None:
    client = served.client()
    pi = client.v1.payment_intents.create(params=_visa(100_00, capture_method="manual"))
    assert (pi.status, pi.amount_capturable, pi.amount_received) == ("requires_capture", 100_00, 0)
    pi = client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 70_00})
    assert (pi.status, pi.amount_capturable, pi.amount_received) == ("succeeded", 0, 70_00)
    first = client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 20_00, "reason": "requested_by_customer"},
        options={"headers": APPROVAL},
    )
    assert (first.status, first.amount, first.payment_intent, first.reason) == (
        "succeeded",
        20_00,
        pi.id,
        "requested_by_customer",
    )
    rest = client.v1.refunds.create(params={"payment_intent": pi.id}, options={"headers": APPROVAL})
    assert rest.amount == 50_00
    assert client.v1.refunds.retrieve(first.id).amount == 20_00
    listed = client.v1.refunds.list(params={"payment_intent": pi.id})
    assert [r.id for r in listed.data] == [rest.id, first.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": pi.id}, options={"headers": APPROVAL})
    assert caught.value.code == "charge_already_refunded"
    payment = served.rt.gateway.get(pi.paygate["payment_id"])
    assert (payment.amount_captured, payment.amount_refunded) == (70_00, 70_00)
    assert _events(served, payment.id).count("payment.refunded") == 2


def test_a_refund_needs_a_managers_approval(served: Served) -> None:
    client = served.client()
    pi = client.v1.payment_intents.create(params=_visa(10_00))
    with pytest.raises(stripe.PermissionError) as caught:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert caught.value.http_status == 403
    with pytest.raises(stripe.PermissionError):
        client.v1.refunds.create(
            params={"payment_intent": pi.id},
            options={"headers": {"Paygate-Approval": "meera:0000"}},
        )
    assert served.rt.gateway.get(pi.paygate["payment_id"]).amount_refunded == 0


def test_cancel_an_authorization_and_not_a_captured_one(served: Served) -> None:
    client = served.client()
    held = client.v1.payment_intents.create(params=_visa(40_00, capture_method="manual"))
    canceled = client.v1.payment_intents.cancel(held.id, options={"headers": APPROVAL})
    assert (canceled.status, canceled.amount_capturable) == ("canceled", 0)
    assert canceled.cancellation_reason == "requested_by_customer"
    assert served.rt.gateway.get(held.paygate["payment_id"]).voided_by
    paid = client.v1.payment_intents.create(params=_visa(40_00))
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.cancel(paid.id, options={"headers": APPROVAL})
    assert (caught.value.http_status, caught.value.code) == (400, "payment_intent_unexpected_state")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.capture(paid.id)
    assert caught.value.code == "payment_intent_unexpected_state"


# -- list, retrieve, idempotency, errors -----------------------------------------------
def test_list_with_paging(served: Served) -> None:
    client = served.client("other")  # a merchant of its own: only these five
    made = [client.v1.payment_intents.create(params=_visa(1_00 * (n + 1))).id for n in range(5)]
    newest = list(reversed(made))
    first = client.v1.payment_intents.list(params={"limit": 2})
    assert [pi.id for pi in first.data] == newest[:2] and first.has_more
    second = client.v1.payment_intents.list(params={"limit": 2, "starting_after": newest[1]})
    assert [pi.id for pi in second.data] == newest[2:4] and second.has_more
    last = client.v1.payment_intents.list(params={"limit": 2, "starting_after": newest[3]})
    assert [pi.id for pi in last.data] == newest[4:] and not last.has_more
    back = client.v1.payment_intents.list(params={"limit": 2, "ending_before": newest[3]})
    assert [pi.id for pi in back.data] == newest[1:3] and back.has_more
    every = [pi.id for pi in client.v1.payment_intents.list(params={"limit": 2}).auto_paging_iter()]
    assert every == newest
    with pytest.raises(stripe.InvalidRequestError) as caught:
        served.client().v1.payment_intents.retrieve(made[0])  # another merchant's
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")


def test_an_idempotent_retry_is_the_same_payment(served: Served) -> None:
    client = served.client()
    key = {"idempotency_key": "order-42"}
    pi = client.v1.payment_intents.create(params=_visa(55_00), options=key)
    again = client.v1.payment_intents.create(params=_visa(55_00), options=key)
    assert again.id == pi.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError):
        client.v1.payment_intents.create(params=_visa(56_00), options=key)
    declined = {"idempotency_key": "order-43"}
    params = _visa(20_00, payment_method="pm_card_chargeDeclinedInsufficientFunds")
    with pytest.raises(stripe.CardError) as first:
        client.v1.payment_intents.create(params=params, options=declined)
    with pytest.raises(stripe.CardError) as second:
        client.v1.payment_intents.create(params=params, options=declined)
    assert second.value.error.payment_intent.id == first.value.error.payment_intent.id
    day = [p for p in served.rt.gateway.list_day() if p.amount == 55_00]
    assert len(day) == 1


def test_the_same_key_at_once_makes_one_payment(served: Served) -> None:
    async def both() -> list[httpx.Response]:
        headers = {"Authorization": f"Bearer {served.keys['shop']}", "Idempotency-Key": "at-once"}
        body = {
            "amount": "6100",
            "currency": "inr",
            "confirm": "true",
            "payment_method": "pm_card_visa",
        }
        async with httpx.AsyncClient(base_url=served.url, headers=headers) as client:
            send = [client.post("/stripe/v1/payment_intents", data=body) for _ in range(3)]
            return await asyncio.gather(*send)

    answers = asyncio.run(both())
    assert {a.status_code for a in answers} <= {200, 409}
    assert len({a.json()["id"] for a in answers if a.status_code == 200}) == 1
    conflicts = [a.json()["error"] for a in answers if a.status_code == 409]
    assert all(e["type"] == "idempotency_error" for e in conflicts)
    assert len([p for p in served.rt.gateway.list_day() if p.amount == 61_00]) == 1


def test_a_bad_key_is_an_authentication_error(served: Served) -> None:
    bad = stripe.StripeClient("pk_nope_nope", base_addresses={"api": f"{served.url}/stripe"})
    with pytest.raises(stripe.AuthenticationError) as caught:
        bad.v1.payment_intents.list()
    assert caught.value.http_status == 401
    basic = httpx.get(f"{served.url}/stripe/v1/payment_intents", auth=(served.keys["shop"], ""))
    assert basic.status_code == 200 and basic.json()["object"] == "list"


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        (
            {"currency": "inr", "payment_method": "pm_card_visa", "confirm": True},
            "amount",
            "parameter_missing",
        ),
        (_visa(-5), "amount", "parameter_invalid_integer"),
        (_visa(12.5), "amount", "parameter_invalid_integer"),
        (_visa(currency="xyz"), "currency", "parameter_invalid"),
        (_visa(payment_method="pm_card_unknown"), "payment_method", "resource_missing"),
        (_visa(capture_method="later"), "capture_method", "parameter_invalid"),
        (_visa(colour="red"), "colour", "parameter_unknown"),
        ({**_visa(), "confirm": "yes"}, "confirm", "parameter_invalid"),
        (
            {
                **_visa(),
                "confirm": False,
                "payment_method": None,
                "payment_method_data": {"type": "card", "card": {"number": "4242424242424242"}},
            },
            "payment_method_data",
            "parameter_invalid",
        ),
    ],
)
def test_bad_params_are_one_line_400s(served: Served, params: dict, param: str, code: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        served.client().v1.payment_intents.create(params=params)
    error = caught.value
    assert (error.http_status, error.param, error.code) == (400, param, code)
    assert "\n" not in error.user_message


def test_unknown_objects_and_urls_are_404s(served: Served) -> None:
    client = served.client()
    for missing in ("pi_20261128_0000000000", "nonsense"):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.payment_intents.retrieve(missing)
        assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.retrieve("re_20261128_0000000000_1")
    raw = httpx.get(f"{served.url}/stripe/v1/customers", auth=(served.keys["shop"], ""))
    assert raw.status_code == 404 and raw.json()["error"]["type"] == "invalid_request_error"


def test_no_card_number_in_an_answer_or_the_data(served: Served) -> None:
    test_card = card_for("4000 0000 0000 9995")
    number = test_card.digits
    card = {"number": number, "exp_month": "12", "exp_year": "30", "cvc": "123"}
    fields = [("amount", "2000"), ("currency", "inr"), ("confirm", "true")]
    fields += [("payment_method_data[type]", "card")]
    fields += [(f"payment_method_data[card][{k}]", v) for k, v in card.items()]
    body = "&".join(f"{k}={v}" for k, v in [*fields, (number, "1")])  # brackets as typed
    headers = {
        "Authorization": f"Bearer {served.keys['shop']}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    answer = httpx.post(f"{served.url}/stripe/v1/payment_intents", content=body, headers=headers)
    assert answer.status_code == 400 and number not in answer.text  # the unknown key
    answer = httpx.post(
        f"{served.url}/stripe/v1/payment_intents", content=body.rsplit("&", 1)[0], headers=headers
    )
    assert answer.status_code == 402 and number not in answer.text
    for path in (p for p in served.rt.settings.data_dir.rglob("*") if p.is_file()):
        assert not pan_pattern(number).search(path.read_bytes()), path


def test_the_module_level_sdk_style_works_too(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe, "api_key", served.keys["shop"])
    monkeypatch.setattr(stripe, "api_base", f"{served.url}/stripe")
    pi = stripe.PaymentIntent.create(
        amount=7_00, currency="inr", payment_method="pm_card_mastercard", confirm=True
    )
    assert pi.status == "succeeded"
    assert stripe.PaymentIntent.retrieve(pi.id).amount_received == 7_00


def test_every_test_method_and_mapped_number_is_a_paygate_test_card() -> None:
    for number in [*TEST_METHODS.values(), *STRIPE_NUMBERS.values()]:
        assert card_for(number) is not None, number
    expected = {
        "pm_card_chargeDeclinedInsufficientFunds": "51",
        "pm_card_chargeDeclinedExpiredCard": "54",
        "pm_card_chargeDeclinedIncorrectCvc": "N7",
        "pm_card_chargeDeclinedLostCard": "41",
        "pm_card_chargeDeclinedStolenCard": "43",
        "pm_card_chargeDeclinedProcessingError": "96",
        "pm_card_authenticationRequired": "otp->00",
        "pm_card_visa": "00",
    }
    for method, expect in expected.items():
        assert card_for(TEST_METHODS[method]).expect == expect, method


def test_the_same_calls_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path / "data", 5.0, database_url=pg_url)
    with serving(settings) as running:
        client = running.client()
        key = {"idempotency_key": "pg-1"}
        pi = client.v1.payment_intents.create(params=_visa(15_00), options=key)
        assert client.v1.payment_intents.create(params=_visa(15_00), options=key).id == pi.id
        with pytest.raises(stripe.IdempotencyError):
            client.v1.payment_intents.create(params=_visa(16_00), options=key)
        draft = client.v1.payment_intents.create(
            params={"amount": 30_00, "currency": "inr", "capture_method": "manual"}
        )
        held = client.v1.payment_intents.confirm(
            draft.id, params={"payment_method": "pm_card_visa"}
        )
        client.v1.payment_intents.capture(draft.id, params={"amount_to_capture": 20_00})
        refund = client.v1.refunds.create(
            params={"payment_intent": held.id, "amount": 5_00}, options={"headers": APPROVAL}
        )
        assert client.v1.refunds.retrieve(refund.id).amount == 5_00
        dropped = client.v1.payment_intents.create(params={"amount": 1_00, "currency": "inr"})
        assert client.v1.payment_intents.cancel(dropped.id).status == "canceled"
        assert client.v1.payment_intents.retrieve(dropped.id).status == "canceled"
        listed = client.v1.payment_intents.list(params={"limit": 5})
        assert [p.id for p in listed.data] == [held.id, pi.id]
