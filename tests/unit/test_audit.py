"""The audit chain: every kind of tampering with the stored events is named by seq."""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from support import load_snapshot, open_runtime, save_snapshot

from gateway_core.audit import GENESIS, mask_card_numbers
from gateway_core.cards import luhn_valid
from gateway_core.clock import FixedClock
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings, load_settings

N = 10  # events in the log: seq 1-5 on the first business day, 6-10 on the next
FIRST_DAY = 5

Entry = list  # [day_index, event]: where an event is filed, and the event itself


def write_log(runtime: Runtime, clock: FixedClock) -> list[dict]:
    events = []
    for seq in range(1, N + 1):
        if seq == FIRST_DAY + 1:
            clock.advance(days=1)
        events.append(
            runtime.audit.record(
                "cashier-1", "payment.created", f"pay_{seq:04d}", amount_minor=seq * 100
            )
        )
        clock.advance(minutes=7)
    return events


@pytest.fixture
def log(runtime: Runtime, clock: FixedClock, settings: Settings) -> list[dict]:
    """A closed data dir holding an intact log of N events over two business days."""
    events = write_log(runtime, clock)
    runtime.close()
    return events


def day_files(settings: Settings) -> list[Path]:
    return sorted((settings.data_dir / "db" / "days").glob("*.snapshot.json"))


def tamper(settings: Settings, change: Callable[[list[Entry]], None]) -> None:
    """Rewrite the stored events the way someone with the files (but not the key) could.

    `change` gets every event in stored order as [day_index, event] and edits the list in
    place; each day's table is then written back in the list's order.
    """
    paths = day_files(settings)
    wal = settings.data_dir / "db" / "wal.jsonl"
    assert wal.stat().st_size == 0, "the log must be folded into the snapshots"
    snaps = [load_snapshot(p) for p in paths]
    flat: list[Entry] = [
        [day, event] for day, snap in enumerate(snaps) for event in snap["tables"]["audit"].values()
    ]
    change(flat)
    for day, (path, snap) in enumerate(zip(paths, snaps, strict=True)):
        events = [event for d, event in flat if d == day]
        snap["tables"]["audit"] = {str(i): event for i, event in enumerate(events, 1)}
        save_snapshot(path, snap)


def verify(settings: Settings):
    with open_runtime(settings, read_only=True) as rt:
        return rt.audit.verify()


def at(seq: int) -> int:
    """List index of `seq` in an intact log."""
    return seq - 1


# ---------------------------------------------------------------------------- intact
def test_intact_log_verifies(log: list[dict], settings: Settings) -> None:
    assert len(day_files(settings)) == 2
    verdict = verify(settings)
    assert verdict.ok and verdict.count == N and verdict.bad_seq is None
    assert str(verdict) == f"audit log intact: {N} events verified"


def test_rewriting_without_changes_keeps_it_intact(log: list[dict], settings: Settings) -> None:
    tamper(settings, lambda flat: None)
    assert verify(settings).ok


def test_events_chain_and_continue_after_reopen(
    log: list[dict], settings: Settings, clock: FixedClock
) -> None:
    assert [e["seq"] for e in log] == list(range(1, N + 1))
    assert log[0]["prev"] == GENESIS
    assert all(b["prev"] == a["mac"] for a, b in itertools.pairwise(log))
    assert log[0]["time"] == "2026-11-28T10:00:00.000+05:30"
    with open_runtime(settings, clock=clock) as rt:
        more = rt.audit.record("manager", "day.closed")
    assert more["seq"] == N + 1 and more["prev"] == log[-1]["mac"]
    verdict = verify(settings)
    assert verdict.ok and verdict.count == N + 1


# ---------------------------------------------------------------------------- tampering
def assert_broken_at(settings: Settings, seq: int) -> str:
    verdict = verify(settings)
    assert not verdict.ok
    assert verdict.bad_seq == seq, str(verdict)
    assert verdict.count == seq - 1
    assert f"seq {seq}" in str(verdict)
    return verdict.reason


HEX_WITH_PAN = f"digest {'ab' * 8}4111111111111111{'cd' * 8}"


@pytest.mark.parametrize("k", [1, 4, FIRST_DAY, FIRST_DAY + 1, N])
@pytest.mark.parametrize(
    "edit",
    [
        lambda e: e["details"].update(amount_minor=1),
        lambda e: e.update(actor="manager"),
        lambda e: e.update(time="2026-11-27T09:00:00.000+05:30"),
        lambda e: e.update(subject="pay_9999"),
        lambda e: e.update(extra="added field"),
        lambda e: e.update(key_version=7),
        lambda e: e.pop("details"),
    ],
    ids=["details", "actor", "time", "subject", "new-field", "key-version", "dropped-field"],
)
def test_edited_event_is_named(log, settings, k: int, edit) -> None:
    tamper(settings, lambda flat: edit(flat[at(k)][1]))
    assert_broken_at(settings, k)


@pytest.mark.parametrize("k", [1, 3, FIRST_DAY, FIRST_DAY + 1, N - 1])
def test_deleted_event_is_named(log, settings, k: int) -> None:
    tamper(settings, lambda flat: flat.pop(at(k)))
    reason = assert_broken_at(settings, k)
    assert "missing" in reason


@pytest.mark.parametrize("cut", [1, 2, N])
def test_deleted_newest_events_are_caught_by_the_head(log, settings, cut: int) -> None:
    tamper(settings, lambda flat: flat.__delitem__(slice(N - cut, None)))
    reason = assert_broken_at(settings, N - cut + 1)
    assert "cut short" in reason


def test_deleted_day_file_is_caught(log, settings) -> None:
    first_day = day_files(settings)[0]
    first_day.unlink()  # the log holds nothing of it: folded in at close
    assert_broken_at(settings, 1)


def forged(flat: list[Entry], k: int, mac: str) -> dict:
    """A made-up event that claims to be seq k and to follow seq k-1."""
    real = flat[at(k)][1]
    return {
        **real,
        "seq": k,
        "subject": "pay_forged",
        "prev": flat[at(k - 1)][1]["mac"] if k > 1 else GENESIS,
        "mac": mac,
    }


@pytest.mark.parametrize("k", [1, 4, FIRST_DAY + 1, N])
@pytest.mark.parametrize("mac", ["made-up", "copied"])
def test_inserted_event_is_named(log, settings, k: int, mac: str) -> None:
    def insert(flat: list[Entry]) -> None:
        real_mac = flat[at(k)][1]["mac"]
        event = forged(flat, k, "ab" * 32 if mac == "made-up" else real_mac)
        flat.insert(at(k), [flat[at(k)][0], event])

    tamper(settings, insert)
    assert_broken_at(settings, k)


def test_forged_event_with_valid_looking_fields_of_another_key_is_named(log, settings) -> None:
    def insert(flat: list[Entry]) -> None:
        event = forged(flat, 3, "0" * 64)
        event["key_version"] = 1
        event["mac"] = flat[at(9)][1]["mac"]  # a real MAC, but of another event
        flat.insert(at(3), [0, event])

    tamper(settings, insert)
    assert_broken_at(settings, 3)


@pytest.mark.parametrize("k", [1, 3, FIRST_DAY, N - 1])
def test_swapped_neighbours_are_named(log, settings, k: int) -> None:
    def swap(flat: list[Entry]) -> None:
        # keep each position's day, swap the events: crosses days when k is FIRST_DAY
        flat[at(k)][1], flat[at(k + 1)][1] = flat[at(k + 1)][1], flat[at(k)][1]

    tamper(settings, swap)
    reason = assert_broken_at(settings, k)
    assert "reordered" in reason


def test_reordered_table_keys_are_named(log, settings) -> None:
    """Same doc ids, same contents: only the order of the stored table changes."""
    path = day_files(settings)[0]
    snap = load_snapshot(path)
    table = snap["tables"]["audit"]
    order = ["1", "3", "2", "4", "5"]
    snap["tables"]["audit"] = {doc_id: table[doc_id] for doc_id in order}
    save_snapshot(path, snap)
    assert_broken_at(settings, 2)


def test_events_moved_later_are_named(log, settings) -> None:
    tamper(settings, lambda flat: flat.append(flat.pop(at(2))))
    assert_broken_at(settings, 2)


@pytest.mark.parametrize("k", [1, 4, FIRST_DAY, N])
def test_duplicated_event_is_caught(log, settings, k: int) -> None:
    def duplicate(flat: list[Entry]) -> None:
        day, event = flat[at(k)]
        flat.insert(at(k) + 1, [day, dict(event)])

    tamper(settings, duplicate)
    reason = assert_broken_at(settings, k + 1)
    assert "again" in reason


def test_replayed_old_event_at_the_end_is_caught(log, settings) -> None:
    tamper(settings, lambda flat: flat.append([1, dict(flat[at(3)][1])]))
    assert_broken_at(settings, N + 1)


@pytest.mark.parametrize("replaced", [5, 6, 7])
def test_event_spliced_in_from_a_diverged_copy_is_named(
    runtime: Runtime, settings: Settings, clock: FixedClock, tmp_path: Path, replaced: int
) -> None:
    """A backup that went on writing on its own: its events carry valid MACs (same key)
    but belong to another chain; one of them put into this log breaks it."""
    for _ in range(4):
        runtime.audit.record("cashier-1", "payment.created")
    runtime.close()
    backup = load_settings(data_dir=tmp_path / "backup", timezone="Asia/Kolkata")
    shutil.copytree(settings.data_dir, backup.data_dir)
    for target, actor in ((settings, "cashier-1"), (backup, "cashier-2")):
        with open_runtime(target, clock=clock) as rt:
            for _ in range(3):
                rt.audit.record(actor, "payment.created")
    assert verify(settings).ok and verify(backup).ok
    with open_runtime(backup, read_only=True) as rt:
        theirs = [event for _day, event in rt.audit._repo.events()]

    def splice(flat: list[Entry]) -> None:
        assert flat[at(replaced)][1]["mac"] != theirs[at(replaced)]["mac"]
        flat[at(replaced)][1] = theirs[at(replaced)]

    tamper(settings, splice)
    # their seq 5 follows our seq 4 (shared history), so the break shows at seq 6;
    # their seq 6 and 7 follow their own events, not ours
    assert_broken_at(settings, max(replaced, 6))


def test_clock_stepping_back_over_midnight_is_not_tampering(runtime: Runtime, clock) -> None:
    clock.advance(hours=13, minutes=59, seconds=59)  # 23:59:59 IST
    runtime.audit.record("cashier-1", "login")
    clock.advance(seconds=2)  # next business day
    runtime.audit.record("cashier-1", "payment.created")
    clock.advance(seconds=-3)  # NTP steps the clock back
    runtime.audit.record("cashier-1", "logout")
    assert runtime.audit.verify().ok


# ---------------------------------------------------------------------------- the CLI
def test_cli_audit_verify_intact(log, settings, cli) -> None:
    result = cli("audit", "verify", "--data-dir", settings.data_dir)
    assert result.code == 0, result.err
    assert f"{N} events verified" in result.out
    assert result.err == ""


@pytest.mark.parametrize("k", [2, 7])
def test_cli_audit_verify_tampered(log, settings, cli, k: int) -> None:
    tamper(settings, lambda flat: flat[at(k)][1].update(actor="mallory"))
    result = cli("audit", "verify", "--data-dir", settings.data_dir)
    assert result.code == 1
    assert re.search(rf"\bseq {k}\b", result.err), result.err
    assert result.out == ""


def test_verify_takes_no_lock_and_writes_nothing(log, settings, clock) -> None:
    def files() -> dict[Path, bytes]:
        return {p: p.read_bytes() for p in settings.data_dir.rglob("*") if p.is_file()}

    with open_runtime(settings, clock=clock) as writer:  # a writer is busy on the data dir
        before = files()
        with open_runtime(settings, read_only=True) as reader:
            assert reader.audit.verify().ok
        assert files() == before
        writer.audit.record("cashier-1", "login")
    assert verify(settings).count == N + 1


# ---------------------------------------------------------------------------- masking
PAN = "4111111111111111"
MASKED = "4111 11•• •••• 1111"


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("4111111111111111", MASKED),
        ("4111 1111 1111 1111", MASKED),
        ("4111-1111-1111-1111", MASKED),
        ("card 4111 1111 1111 1111 declined", f"card {MASKED} declined"),
        ("card 4111 1111 1111 1111 12/30", f"card {MASKED} 12/30"),
        ("ref 12 4111 1111 1111 1111", f"ref 12 {MASKED}"),
        ("3782 822463 10005 1234", "3782 82•••• •0005 1234"),
        ("pan=4111111111111111;", f"pan={MASKED};"),
        # not card numbers: left alone
        ("4111 1111 1111 1112", "4111 1111 1111 1112"),
        ("amount 150000 on 2026-11-28", "amount 150000 on 2026-11-28"),
        ("12345", "12345"),
        # a hex digest whose digits hold a Luhn-valid run is one token, kept whole
        (HEX_WITH_PAN, HEX_WITH_PAN),
        (f"{'ab' * 8} 4111111111111111", f"{'ab' * 8} {MASKED}"),
    ],
)
def test_mask_card_numbers(text: str, stored: str) -> None:
    assert mask_card_numbers(text) == stored


def test_the_shortest_card_number_is_masked_and_fewer_digits_are_not_searched() -> None:
    """12 digits (the shortest card number) as text, in groups or as a number are masked;
    11 are not a card number."""
    shortest = next(str(n) for n in range(10**11, 10**11 + 10) if luhn_valid(str(n)))
    assert mask_card_numbers(shortest) == mask_card_numbers(int(shortest)) != shortest
    assert mask_card_numbers(f"{shortest[:6]} {shortest[6:]}") != f"{shortest[:6]} {shortest[6:]}"
    assert mask_card_numbers(shortest[:11]) == shortest[:11]
    assert mask_card_numbers(int(shortest[:11])) == int(shortest[:11])


def test_card_numbers_in_events_are_stored_masked(
    runtime: Runtime, settings: Settings, clock: FixedClock
) -> None:
    event = runtime.audit.record(
        f"terminal {PAN}",
        f"card.keyed {PAN}",
        "4111 1111 1111 1111",
        card="4111 1111 1111 1111",
        note=f"customer read out {PAN} twice",
        nested={"cards": [PAN, "5555-5555-5555-4444"], PAN: "as a key"},
        number=int(PAN),
        count=3,
    )
    assert event["subject"] == MASKED
    assert event["details"]["card"] == MASKED
    assert event["details"]["note"] == f"customer read out {MASKED} twice"
    assert event["details"]["nested"]["cards"] == [MASKED, "5555 55•• •••• 4444"]
    assert event["details"]["count"] == 3
    runtime.close()
    files = [p for p in settings.data_dir.joinpath("db").rglob("*") if p.is_file()]
    stored = b"".join(p.read_bytes() for p in files)
    assert b"4111 11" in stored  # the masked form is there...
    for spelling in (PAN, "4111 1111 1111 1111", "5555555555554444", "5555-5555-5555-4444"):
        assert spelling.encode() not in stored  # ...the full number is not
    assert verify(settings).ok
