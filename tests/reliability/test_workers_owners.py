"""Open payments across gateway processes: each process sees its own, and the payments
of a process that died are taken over by exactly one other, then repaired by it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from gateway_core.service.app import resolving


class _Open:
    """Open payments whose dead processes' ones are `dead` (taken over once)."""

    def __init__(self, dead: list[str]) -> None:
        self.dead = dead

    def take_over(self) -> list[str]:
        taken, self.dead = self.dead, []
        return taken


class _Gateway:
    """A gateway whose bank answers for `p1` only from the third repair on."""

    def __init__(self) -> None:
        self.repairs: list[set[str]] = []

    async def repair(self, only: set[str]) -> list[str]:
        self.repairs.append(set(only))
        return ["p1: settled"] if len(self.repairs) >= 3 else []

    def get(self, payment_id: str) -> SimpleNamespace:
        return SimpleNamespace(status="succeeded" if len(self.repairs) >= 3 else "unknown")

    async def poll(self) -> list[str]:
        return ["polled"]


def test_a_server_repairs_what_it_took_over_each_round_until_the_bank_answers():
    gateway, open_ = _Gateway(), _Open(["p1"])
    round_ = resolving(gateway, open_)  # type: ignore[arg-type]  # the two calls it makes
    notes = [asyncio.run(round_()) for _ in range(4)]
    assert notes == [["polled"], ["polled"], ["p1: settled", "polled"], ["polled"]]
    assert gateway.repairs == [{"p1"}] * 3  # not once settled
