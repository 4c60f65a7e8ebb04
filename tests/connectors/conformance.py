"""The conformance suite every connector passes, through its official SDK against its
provider's fake (issue 21): approve (sale and authorize-only), decline, partial
capture, void, partial and multiple refunds (an over-refund refused), an idempotent
retry, a timeout after the provider accepted, the provider down, and webhooks
(verified; tampered, stale and re-timestamped ones refused).

A provider's file `tests/connectors/test_<name>.py` defines a `kit` fixture returning a
`Kit`, then `from conformance import *` to run every case below against it. A capability
the provider genuinely lacks (`partial_capture`, `voids`, `multiple_refunds`) is not
skipped: the case then asserts the connector's clear refusal (`InputError`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import pytest

from bank_sim.processors.faults import Fault, Faults
from gateway_core.errors import BankUnavailable, InputError
from gateway_core.ports.connectors import (
    Connector,
    ConnectorCharge,
    ConnectorEvent,
    ProcessorDown,
    SignatureRefused,
)

Webhook = tuple[Mapping[str, str], bytes]

__all__ = [
    "Kit",
    "test_approves_a_sale",
    "test_authorizes_then_captures",
    "test_bad_webhooks_are_refused",
    "test_declines_with_paygate_code",
    "test_down_is_processor_down_and_creates_nothing",
    "test_idempotent_retry_is_one_payment",
    "test_over_refund_is_refused",
    "test_partial_and_multiple_refunds",
    "test_partial_capture",
    "test_status_by_reference_and_key",
    "test_status_of_unknown_key_is_none",
    "test_timeout_after_accept_then_status_finds_it",
    "test_void_releases_the_authorization",
    "test_webhook_verifies",
]


@dataclass
class Kit:
    """What a provider's test file supplies for the shared cases."""

    connector: Connector  # built against the provider's fake, through its SDK
    faults: Faults  # the fake's failure switch
    approving: Callable[..., ConnectorCharge]  # (capture=True, amount=...) -> a fresh charge
    declining: Callable[..., ConnectorCharge]  # (capture=True) -> a fresh charge that declines
    decline_response_code: str  # paygate's code that decline maps to ("05", "51", ...)
    with_timeout: Callable[[float], Connector]  # the same connector with another deadline
    payments_for: Callable[[str], int]  # provider payments the fake holds for a payment id
    webhook: Callable[[str], Awaitable[Webhook]]  # a signed webhook the fake sent for a reference
    bad_webhooks: Callable[[str], Awaitable[list[Webhook]]]  # tampered, stale, re-timestamped
    amount: int = 25_00  # minor units the approving charge is made for by default
    # the fault that makes the provider take the charge and then not answer in time (a
    # provider whose authorize makes several calls may aim it at the one that charges)
    timeout_fault: Fault = field(
        default_factory=lambda: Fault(mode="timeout_after_accept", count=1, delay_s=2.0)
    )
    partial_capture: bool = True
    voids: bool = True
    multiple_refunds: bool = True


async def test_approves_a_sale(kit: Kit) -> None:
    charge = kit.approving(capture=True, amount=kit.amount)
    result = await kit.connector.authorize(charge)
    assert (result.status, result.response_code) == ("succeeded", "00")
    assert result.reference and result.amount_captured == kit.amount
    assert result.decline_code is None


async def test_authorizes_then_captures(kit: Kit) -> None:
    charge = kit.approving(capture=False, amount=kit.amount)
    held = await kit.connector.authorize(charge)
    assert (held.status, held.response_code, held.amount_captured) == ("requires_capture", "00", 0)
    done = await kit.connector.capture(held.reference, kit.amount, "cap-" + charge.idempotency_key)
    assert (done.status, done.reference, done.amount_captured) == (
        "succeeded",
        held.reference,
        kit.amount,
    )


async def test_declines_with_paygate_code(kit: Kit) -> None:
    result = await kit.connector.authorize(kit.declining(capture=True))
    assert result.status == "declined"
    assert result.response_code == kit.decline_response_code != "00"
    assert result.decline_code is not None and result.provider_code
    assert result.amount_captured == 0


async def test_partial_capture(kit: Kit) -> None:
    charge = kit.approving(capture=False, amount=kit.amount)
    held = await kit.connector.authorize(charge)
    part = kit.amount - 5_00
    if not kit.partial_capture:
        with pytest.raises(InputError):
            await kit.connector.capture(held.reference, part, "cap-" + charge.idempotency_key)
        return
    done = await kit.connector.capture(held.reference, part, "cap-" + charge.idempotency_key)
    assert (done.status, done.amount_captured) == ("succeeded", part)
    found = await kit.connector.status(reference=held.reference)
    assert found is not None and found.amount_captured == part


async def test_void_releases_the_authorization(kit: Kit) -> None:
    charge = kit.approving(capture=False, amount=kit.amount)
    held = await kit.connector.authorize(charge)
    if not kit.voids:
        with pytest.raises(InputError):
            await kit.connector.void(held.reference, "void-" + charge.idempotency_key)
        return
    voided = await kit.connector.void(held.reference, "void-" + charge.idempotency_key)
    assert (voided.status, voided.amount_captured) == ("canceled", 0)
    found = await kit.connector.status(reference=held.reference)
    assert found is not None and found.status == "canceled"


async def test_partial_and_multiple_refunds(kit: Kit) -> None:
    charge = kit.approving(capture=True, amount=kit.amount)
    sale = await kit.connector.authorize(charge)
    first = await kit.connector.refund(
        sale.reference, "rf1-" + charge.payment_id, 10_00, "k-rf1-" + charge.payment_id
    )
    assert (first.amount, first.status) == (10_00, "succeeded") and first.reference
    if not kit.multiple_refunds:
        with pytest.raises(InputError):
            await kit.connector.refund(
                sale.reference, "rf2-" + charge.payment_id, 5_00, "k-rf2-" + charge.payment_id
            )
        return
    second = await kit.connector.refund(
        sale.reference, "rf2-" + charge.payment_id, 5_00, "k-rf2-" + charge.payment_id
    )
    assert second.amount == 5_00 and second.reference != first.reference
    again = await kit.connector.refund(
        sale.reference, "rf2-" + charge.payment_id, 5_00, "k-rf2-" + charge.payment_id
    )
    assert again.reference == second.reference  # the same refund, not a third
    found = await kit.connector.status(reference=sale.reference)
    assert found is not None and found.amount_refunded == 15_00


async def test_over_refund_is_refused(kit: Kit) -> None:
    charge = kit.approving(capture=True, amount=kit.amount)
    sale = await kit.connector.authorize(charge)
    with pytest.raises(InputError) as refused:
        await kit.connector.refund(
            sale.reference, "rf-" + charge.payment_id, kit.amount + 1, "k-rf-" + charge.payment_id
        )
    assert "\n" not in str(refused.value)
    found = await kit.connector.status(reference=sale.reference)
    assert found is not None and found.amount_refunded == 0


async def test_idempotent_retry_is_one_payment(kit: Kit) -> None:
    charge = kit.approving(capture=True, amount=kit.amount)
    first = await kit.connector.authorize(charge)
    second = await kit.connector.authorize(charge)
    assert second.reference == first.reference and second.status == first.status
    assert kit.payments_for(charge.payment_id) == 1


async def test_status_by_reference_and_key(kit: Kit) -> None:
    charge = kit.approving(capture=False, amount=kit.amount)
    held = await kit.connector.authorize(charge)
    by_reference = await kit.connector.status(reference=held.reference)
    by_key = await kit.connector.status(idempotency_key=charge.idempotency_key)
    assert by_reference is not None and by_key is not None
    assert by_reference.reference == by_key.reference == held.reference
    assert by_key.status == "requires_capture"


async def test_status_of_unknown_key_is_none(kit: Kit) -> None:
    charge = kit.approving(capture=True, amount=kit.amount)
    assert await kit.connector.status(idempotency_key=charge.idempotency_key) is None
    assert kit.payments_for(charge.payment_id) == 0  # the lookup created nothing


async def test_timeout_after_accept_then_status_finds_it(kit: Kit) -> None:
    charge = kit.approving(capture=True, amount=kit.amount)
    hasty = kit.with_timeout(0.5)
    try:
        kit.faults.set(kit.timeout_fault)
        with pytest.raises(BankUnavailable) as lost:
            await hasty.authorize(charge)
        assert not isinstance(lost.value, ProcessorDown)  # NOT safe to fail over
    finally:
        kit.faults.clear()
        await hasty.close()
    found = await kit.connector.status(idempotency_key=charge.idempotency_key)
    assert found is not None and found.status == "succeeded"
    assert kit.payments_for(charge.payment_id) == 1


async def test_down_is_processor_down_and_creates_nothing(kit: Kit) -> None:
    charge = kit.approving(capture=True, amount=kit.amount)
    kit.faults.set(Fault(mode="down"))
    try:
        with pytest.raises(ProcessorDown):
            await kit.connector.authorize(charge)
    finally:
        kit.faults.clear()
    assert kit.payments_for(charge.payment_id) == 0
    assert await kit.connector.status(idempotency_key=charge.idempotency_key) is None


async def test_webhook_verifies(kit: Kit) -> None:
    sale = await kit.connector.authorize(kit.approving(capture=True, amount=kit.amount))
    headers, body = await kit.webhook(sale.reference)
    event = await kit.connector.parse_webhook(headers, body)
    assert isinstance(event, ConnectorEvent)
    assert event.reference == sale.reference and event.event_id
    again = await kit.connector.parse_webhook(headers, body)
    assert again.event_id == event.event_id  # a redelivery is recognisable by its id
    if event.result is not None:
        assert event.result.reference == sale.reference


async def test_bad_webhooks_are_refused(kit: Kit) -> None:
    sale = await kit.connector.authorize(kit.approving(capture=True, amount=kit.amount))
    bad = await kit.bad_webhooks(sale.reference)
    assert bad
    for headers, body in bad:
        with pytest.raises(SignatureRefused) as refused:
            await kit.connector.parse_webhook(headers, body)
        assert "\n" not in str(refused.value)
