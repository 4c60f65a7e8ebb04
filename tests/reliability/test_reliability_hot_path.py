"""The cheap speed-ups of issues 7 and 19 on the bank side, pinned so they do not come
undone.

- a sale is one single message (0200/0210), not an 0100 and a separate 0220 capture;
- the acquirer's STAN counter and its record of an authorization are one write, and
  everything the banks write for a sale is made durable by one fdatasync;
- each ISO 8583 frame of a hop is decoded once (the next hop reads what `_frame` decoded).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import VISA, charge, open_world

import bank_sim.acquirer as acquirer_module
from gateway_core.clock import FixedClock


async def test_a_sale_costs_the_banks_three_journal_entries_and_four_decodes(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes = []
    decode = acquirer_module.iso8583.decode
    monkeypatch.setattr(
        acquirer_module.iso8583, "decode", lambda raw: decodes.append(raw) or decode(raw)
    )
    async with open_world(tmp_path / "data", clock, 5.0) as world:
        journal = world.rt.banks.store.main.journal
        before = journal.seq
        decodes.clear()
        payment = await world.gw.charge(charge(VISA, 100_00))
        assert payment.status == "succeeded"
        # record + STAN, the issuer's booking, the answer with its clearing line
        assert journal.seq - before == 3
        assert len(decodes) == 4  # 2 frames each way
        frames = await world.gw.bank.frames(payment.id)
        assert [f.mti for f in frames] == ["0200", "0200", "0210", "0210"]
