"""A sale is one single message (ISO 8583 0200/0210) and one durable write at the banks.

- the 0200 crosses acquirer → network → issuer and back as real frames, each parsed at
  its hop; the issuer pays the merchant at once; the banks make it durable with one
  fdatasync and the gateway with one (its intent written before the banks are asked,
  its result with it), and their clearing line is read before it is copied into its day;
- the card calls of the embedded banks skip HTTP and still answer as their HTTP face;
- a SIGKILL after the banks answered and before the gateway stored the result is
  repaired: the sale is reversed at the banks (its money back, its clearing line
  cancelled), and reconcile and the books agree;
- the codec that writes and reads the frames writes what pyiso8583 writes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import iso8583 as pyiso8583
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import (
    VISA,
    account,
    authorization_retry,
    charge,
    gateway_settings,
    open_runtime,
    open_world,
)

import bank_sim.acquirer as acquirer_module
import bank_sim.clearing as clearing_module
from bank_sim import iso8583
from gateway_core.clock import FixedClock
from gateway_core.errors import BankRefused
from gateway_core.payments import day_of
from gateway_core.settlement import Settlement

TESTS = str(Path(__file__).parents[1])


def count_fdatasyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every os.fdatasync from now on, by the file it syncs (counted, then done)."""
    calls: list[str] = []
    real = os.fdatasync

    def counted(fd: int) -> None:
        calls.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fdatasync", counted)
    return calls


async def test_a_sale_is_one_0200_parsed_at_every_hop_and_two_fdatasyncs_in_all(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_world(tmp_path / "data", clock, 5.0) as world:
        gw, banks = world.gw, world.rt.banks
        await gw.charge(charge(VISA, 1_00))  # warm: the day's files exist
        before, merchant = await account(gw, VISA), world.merchant
        decoded = []
        decode = acquirer_module.iso8583.decode
        monkeypatch.setattr(
            acquirer_module.iso8583, "decode", lambda raw: decoded.append(raw) or decode(raw)
        )
        synced = count_fdatasyncs(monkeypatch)
        payment = await gw.charge(charge(VISA, 250_00))
        assert payment.status == "succeeded" and payment.amount_captured == 250_00
        banks_dir = str(banks.data_dir)
        assert len([path for path in synced if path.startswith(banks_dir)]) == 1
        assert len(synced) <= 2  # a count, not a time: the banks' one and the gateway's one
        hops = [decode(raw) for raw in decoded]  # what each hop read
        assert [h["t"] for h in hops] == ["0200", "0200", "0210", "0210"]
        assert {h["3"] for h in hops} == {iso8583.PROCESSING_PURCHASE}
        assert hops[1]["2"] == VISA.digits and "2" not in hops[2]  # the PAN goes one way
        assert hops[3]["39"] == "00" and hops[3]["38"] == payment.auth_code
        frames = await gw.bank.frames(payment.id)
        assert [(f.source, f.target, f.mti) for f in frames] == [
            ("acquirer", "network", "0200"),
            ("network", "issuer", "0200"),
            ("issuer", "network", "0210"),
            ("network", "acquirer", "0210"),
        ]
        after = await account(gw, VISA)
        assert (after.available, after.held) == (before.available - 250_00, 0)
        assert world.merchant == merchant + 250_00  # paid at once, nothing held
        clearing = await gw.bank.clearing(day_of(payment.id))
        assert [line["ref"] for line in clearing if line["ref"] == payment.id] == [payment.id]
        assert (await gw.bank.ledger_check()).ok


async def test_sale_lines_are_copied_into_their_day_in_batches_never_twice(
    tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clearing_module, "BATCH", 3)
    async with open_world(tmp_path / "data", clock, 5.0) as world:
        gw, banks = world.gw, world.rt.banks
        sales = [await gw.charge(charge(VISA, 10_00 + n)) for n in range(2)]
        day = day_of(sales[0].id)
        assert not banks.store.has_day(day)  # owed: not copied yet, read all the same
        assert {line["ref"] for line in await gw.bank.clearing(day)} == {p.id for p in sales}
        sales.append(await gw.charge(charge(VISA, 12_00)))  # the batch is full: copied
        held = banks.store.day(day).table("clearing")
        assert sorted(line["ref"] for line in held) == sorted(p.id for p in sales)
        assert [line["ref"] for line in await gw.bank.clearing(day)].count(sales[0].id) == 1
        assert banks.check().ok


async def test_the_embedded_card_calls_fail_as_their_http_face(
    tmp_path: Path, clock: FixedClock
) -> None:
    async with open_world(tmp_path / "data", clock, 5.0) as world:
        gw = world.gw
        payment = await gw.charge(charge(VISA, 10_00))
        assert (await gw.bank.authorize(authorization_retry(payment, VISA))).captured == 10_00
        with pytest.raises(BankRefused, match="sent before with other details"):
            await gw.bank.authorize(authorization_retry(payment, VISA, capture=False))


# -- SIGKILL after the banks answered ----------------------------------------------------------
KILLED_AFTER_ANSWER = textwrap.dedent(
    """
    import asyncio, os, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from support import VISA, charge, gateway_settings, open_runtime
    from gateway_core.tenders.card import CardTender

    async def died(self, host, payment, answer):
        print(payment.id, answer.response_code, flush=True)
        os._exit(9)  # as SIGKILL would: the banks answered, the gateway stored nothing

    async def main():
        rt = open_runtime(gateway_settings(Path(sys.argv[1]), 10.0))
        await rt.gateway.charge(charge(VISA, 77_00))  # stored and acknowledged
        CardTender._settle_answer = died
        await rt.gateway.charge(charge(VISA, 123_00))

    asyncio.run(main())
    """
)


async def test_sigkill_between_the_banks_answer_and_the_result_is_repaired(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_ANSWER, str(data_dir), TESTS],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 9, proc.stderr[-2000:]
    payment_id, code = proc.stdout.split()
    assert code == "00"  # the banks took the money and answered
    rt = open_runtime(gateway_settings(data_dir, 10.0))
    try:
        gw = rt.gateway
        assert gw.get(payment_id).status == "unknown"  # stored before the bank was asked
        merchant = rt.banks.acquirer.merchant_account
        assert rt.banks.ledger.balance(merchant) == 77_00 + 123_00
        assert await gw.repair() == [f"{payment_id}: reversed, declined 91"]
        payment = gw.get(payment_id)
        assert (payment.status, payment.response_code) == ("declined", "91")
        assert rt.banks.ledger.balance(merchant) == 77_00  # the sale's money went back
        assert [f.mti for f in await gw.bank.frames(payment_id)][-2:] == ["0410", "0410"]
        day = day_of(payment_id)
        assert [line["ref"] for line in await gw.bank.clearing(day)] != []
        assert payment_id not in {line["ref"] for line in await gw.bank.clearing(day)}
        settlement = Settlement(rt.records, rt.settings, clock=rt.clock)
        rec = await settlement.reconcile(day, gw.bank)
        assert (rec.missing_at_acquirer, rec.missing_at_gateway, rec.amount_mismatch) == (
            [],
            [],
            [],
        )
        assert rt.banks.check().ok and rt.audit.verify().ok
    finally:
        await rt.aclose()


# -- the codec ---------------------------------------------------------------------------------
_DIGITS = st.text("0123456789", min_size=1, max_size=19)
_FIELDS = st.fixed_dictionaries(
    {
        "t": st.sampled_from(sorted(iso8583.MTIS)),
        "3": st.text("0123456789", min_size=6, max_size=6),
        "4": st.integers(0, 10**12 - 1).map(iso8583.amount_field),
        "41": st.text("ABCXYZ0189 ", min_size=1, max_size=8).filter(str.strip),
    },
    optional={
        "2": _DIGITS.filter(lambda d: len(d) >= 12),
        "11": st.text("0123456789", min_size=6, max_size=6),
        "37": st.text("ABC0123456789 ", min_size=12, max_size=12),
        "42": st.text("M0123456789", min_size=1, max_size=15),
        "48": st.text("ABC=;0123456789xyz", min_size=1, max_size=60),
        "100": st.text("0123456789", min_size=1, max_size=11),
        "102": st.text("ABC 0123", min_size=1, max_size=28),
    },
)


@settings(max_examples=300, deadline=None)
@given(_FIELDS)
def test_the_codec_writes_and_reads_what_pyiso8583_does(fields: dict[str, str]) -> None:
    ours = iso8583.encode(fields)
    theirs, _ = pyiso8583.encode(iso8583._wire_doc(fields), iso8583.SPEC)
    assert ours == bytes(theirs)
    read = iso8583.decode(ours)
    doc, _ = pyiso8583.decode(ours, iso8583.SPEC)
    expected = {k: v.rstrip(" ") if k in ("41", "42") else v for k, v in doc.items()}
    assert read == {k: expected[k] for k in read} and set(expected) - set(read) <= {"p", "1"}


@pytest.mark.parametrize(
    "frame",
    [
        b"0200" + b"3" + b"0" * 15,  # a bitmap naming fields that are not there
        b"0200" + b"3000000000000000" + b"000000",  # too short for its fields
        b"0200" + b"2000000000000000" + b"20" + b"4242424242424242",  # prefix too long
        b"0200" + b"a000000000000000" + b"00",  # lower-case bitmap: not canonical
    ],
)
def test_a_frame_the_codec_refuses_is_named_by_the_strict_reader(frame: bytes) -> None:
    with pytest.raises(iso8583.FrameError, match="malformed frame") as raised:
        iso8583.decode(frame)
    assert "4242" not in str(raised.value)
