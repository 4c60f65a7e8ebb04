"""The cheap speed-ups of issue 7 on the bank side, pinned so they do not come undone.

- the acquirer's STAN counter and its record of an authorization are one durable write;
- each ISO 8583 frame of a hop is decoded once (the next hop reads what `_frame` decoded).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import VISA, charge, open_world

import bank_sim.acquirer as acquirer_module
from gateway_core.clock import FixedClock


async def test_a_sale_costs_the_banks_five_journal_entries_and_eight_decodes(
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
        # authorization: record + STAN, hold, answer; capture: booking, record
        assert journal.seq - before == 5
        assert len(decodes) == 8  # 4 frames each way: authorization, capture
        frames = await world.gw.bank.frames(payment.id)
        mtis = ["0100", "0100", "0110", "0110", "0220", "0220", "0230", "0230"]
        assert [f.mti for f in frames] == mtis
