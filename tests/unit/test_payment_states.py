"""One state machine for every method, checked on every save; the payment record keeps
loading what was stored before methods existed."""

from __future__ import annotations

import pytest
from support import VISA, charge

from gateway_core.payments import Payment
from gateway_core.ports import Tender, TenderHost
from gateway_core.presentation import STATUS_WORDS
from gateway_core.runtime import Runtime
from gateway_core.states import OPEN_STATUSES, TRANSITIONS, IllegalTransition, check_transition


def test_every_state_has_a_word_and_terminal_states_never_move() -> None:
    assert set(STATUS_WORDS) == set(TRANSITIONS)
    assert {"unknown", "requires_action", "pending", "requires_capture"} == OPEN_STATUSES
    for state in ("succeeded", "declined", "canceled", "expired"):
        with pytest.raises(IllegalTransition):
            check_transition("pay_x", state, state)  # type: ignore[arg-type]
    check_transition("pay_x", None, "unknown")
    with pytest.raises(IllegalTransition, match="cannot go from new to succeeded"):
        check_transition("pay_x", None, "succeeded")
    with pytest.raises(IllegalTransition, match="from requires_capture to pending"):
        check_transition("pay_x", "requires_capture", "pending")


async def test_an_illegal_move_is_refused_before_anything_is_stored(runtime: Runtime) -> None:
    gw = runtime.gateway
    payment = await gw.charge(charge(VISA))
    assert payment.status == "succeeded"
    with pytest.raises(IllegalTransition):
        gw._save(payment.model_copy(update={"status": "requires_capture"}))
    assert gw.get(payment.id).status == "succeeded"


async def test_a_card_payment_as_the_api_shows_it_and_as_stored_before_methods(
    runtime: Runtime,
) -> None:
    gw = runtime.gateway
    payment = await gw.charge(charge(VISA))
    shown = payment.model_dump(mode="json")
    assert shown["method"] == "card"
    assert {"card", "funding", "network", "issuer", "rrn", "auth_code"} <= set(shown)
    assert shown["card"]["last4"] == "4242" and shown["card"]["brand"] == "visa"
    old = {k: v for k, v in shown.items() if k not in ("method", "refunds", "amount_refunded")}
    loaded = Payment.stored(old)
    assert (loaded.method, loaded.card, loaded.brand) == ("card", payment.card, "visa")


def test_the_card_tender_and_the_host_satisfy_their_ports(runtime: Runtime) -> None:
    gw = runtime.gateway
    assert isinstance(gw.tenders["card"], Tender)
    assert isinstance(gw._host, TenderHost)
