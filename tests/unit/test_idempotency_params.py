"""An idempotency key names one request: the same key with anything else asked for (the
CVV, the expiry, the operator, the terminal, the tip, the amount) is refused (409 / exit
2), and the CVV is compared through a keyed digest, never kept."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from support import VISA, World, charge, open_world

from bank_sim.testcards import EXPIRY
from gateway_core.cards import CardInput
from gateway_core.clock import FixedClock
from gateway_core.gateway import IdempotencyConflict

KEY = "order-42"


@pytest.fixture
async def world(tmp_path: Path, clock: FixedClock) -> AsyncIterator[World]:
    async with open_world(tmp_path / "data", clock, 1.0) as opened:
        yield opened


def keyed(cvv: str = VISA.cvv, expiry: str = EXPIRY, **kw):
    card = CardInput(pan=SecretStr(VISA.pan), expiry=expiry, cvv=SecretStr(cvv))
    return charge(VISA, idempotency_key=KEY, **kw).model_copy(update={"card": card})


@pytest.mark.parametrize(
    "changed",
    [
        {"cvv": "999"},
        {"expiry": "11/31"},
        {"operator": "asha"},
        {"terminal_id": "TERM0002"},
        {"tip": 5_00},
        {"capture": "manual"},
        {"amount": 101_00},
    ],
    ids=lambda c: next(iter(c)),
)
async def test_a_key_reused_with_anything_else_asked_is_a_conflict(world: World, changed) -> None:
    first = await world.gw.charge(keyed())
    assert (await world.gw.charge(keyed())).id == first.id  # the same request: replayed
    with pytest.raises(IdempotencyConflict, match=f"{KEY} was used for a different payment"):
        await world.gw.charge(keyed(**changed))
    assert [p.id for p in world.gw.list_day()] == [first.id]


async def test_the_default_terminal_named_explicitly_is_the_same_request(world: World) -> None:
    first = await world.gw.charge(keyed())
    assert (await world.gw.charge(keyed(terminal_id="TERM0001"))).id == first.id


async def test_the_idempotency_record_keeps_no_cvv(world: World) -> None:
    await world.gw.charge(keyed(cvv="737"))
    (doc,) = world.rt.store.main.table("idempotency").all()
    assert set(doc) == {"key", "params", "payment_id", "created_at"}
    assert len(doc["params"]) == 64  # an HMAC under the key file's key, not the CVV


def test_cli_retry_with_another_cvv_exits_2(cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    args = ("charge", "--data-dir", data, "--amount", "12.50", "--card", VISA.pan,
            "--exp", EXPIRY, "--idempotency-key", KEY, "--json")  # fmt: skip
    first = cli(*args, "--cvv", "999")  # mistyped: declined N7
    assert first.code == 0 and json.loads(first.out)["response_code"] == "N7"
    again = cli(*args, "--cvv", VISA.cvv)
    assert again.code == 2 and again.out == ""
    assert again.err == f"paygate: idempotency key {KEY} was used for a different payment\n"
