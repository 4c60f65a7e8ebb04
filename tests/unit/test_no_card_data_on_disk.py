"""No full card number in any file of the data dir, in any spelling (PCI DSS in spirit).

The scan is done twice: by gateway_core.pciscan and by an independent regex that
accepts any single space or dash between any two digits, so the test does not only trust
the code under test. The CVVs are not scanned for: 3-digit strings are everywhere.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import open_runtime

from bank_sim.demo import DEMO_CARDS, DemoCard
from gateway_core.cards import check_card
from gateway_core.clock import FixedClock, business_day
from gateway_core.pciscan import files_with_card_numbers, pan_spellings
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings
from gateway_core.store import DataDirBusy
from paygate_cli.terminal import DEMO_MARKER, reset_demo_dir


def digits(pan: str) -> str:
    return pan.replace(" ", "").replace("-", "")


def pan_pattern(pan: str) -> re.Pattern[bytes]:
    """The PAN's digits with at most one space or dash between any two of them."""
    return re.compile(
        rb"(?<![0-9])" + rb"[ -]?".join(d.encode() for d in digits(pan)) + rb"(?![0-9])"
    )


PATTERNS = {card.label: pan_pattern(card.pan) for card in DEMO_CARDS}


def scan(data_dir: Path) -> dict[str, list[str]]:
    """Independent scan: card label -> files (relative) that hold its number."""
    found: dict[str, list[str]] = {}
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file():
            continue
        content = path.read_bytes()
        for label, pattern in PATTERNS.items():
            if pattern.search(content):
                found.setdefault(label, []).append(str(path.relative_to(data_dir)))
    return found


def fill_data_dir(rt: Runtime, clock: FixedClock) -> None:
    """Everything that writes card-related data today: vault, audit, a key rotation."""
    today = business_day(clock)
    for card in DEMO_CARDS:
        checked = check_card(card.as_input(), today)
        token = rt.vault.tokenize(checked.without_cvv())
        rt.audit.record("cashier-1", "card.tokenized", token.token, card=token.masked)
        # careless callers: the audit log must mask what they pass in
        rt.audit.record("cashier-1", "card.keyed", card.pan, note=f"read out as {card.pan}")
        rt.audit.record("cashier-1", "card.keyed", digits(card.pan), digits=digits(card.pan))
        clock.advance(minutes=3)
    rt.keyring.rotate()
    rt.vault.rekey()
    clock.advance(days=1)
    for card in DEMO_CARDS:
        token = rt.vault.find(card.pan)
        assert token is not None
        rt.audit.record("manager", "card.reviewed", token.token, card=token.masked)


def file_count(data_dir: Path) -> int:
    return sum(1 for p in data_dir.rglob("*") if p.is_file())


def test_no_card_number_in_any_file(
    runtime: Runtime, settings: Settings, clock: FixedClock
) -> None:
    data_dir = settings.data_dir
    fill_data_dir(runtime, clock)

    # while open, the changes sit in the logs
    assert any(p.stat().st_size for p in data_dir.rglob("wal.jsonl"))
    assert scan(data_dir) == {}
    assert files_with_card_numbers(data_dir, [c.pan for c in DEMO_CARDS]) == []

    runtime.close()  # compaction: now everything is in the snapshots
    assert len(list(data_dir.rglob("*.snapshot.json"))) == 3  # main + two days
    assert file_count(data_dir) >= 6
    assert scan(data_dir) == {}
    assert files_with_card_numbers(data_dir, [c.pan for c in DEMO_CARDS]) == []

    # ...and the data is really there: every card can still be found and revealed
    with open_runtime(settings, read_only=True) as rt:
        for card in DEMO_CARDS:
            token = rt.vault.find(card.pan)
            assert token is not None and token.key_version == 2
            assert rt.vault.reveal(token.token).get_secret_value() == digits(card.pan)
        assert rt.audit.verify().count == 4 * len(DEMO_CARDS)


@pytest.mark.parametrize("card", DEMO_CARDS, ids=[c.label for c in DEMO_CARDS])
@pytest.mark.parametrize("spelling", ["digits", "spaces", "dashes", "as-keyed", "keyed-dashes"])
def test_the_scans_find_a_planted_card_number(
    runtime: Runtime, settings: Settings, clock: FixedClock, card: DemoCard, spelling: str
) -> None:
    """The scans can fail: a card number planted in the data dir is found by both."""
    data_dir = settings.data_dir
    fill_data_dir(runtime, clock)
    runtime.close()
    plain = digits(card.pan)
    fours = [plain[i : i + 4] for i in range(0, len(plain), 4)]
    text = {
        "digits": plain,
        "spaces": " ".join(fours),
        "dashes": "-".join(fours),
        "as-keyed": card.pan,
        "keyed-dashes": card.pan.replace(" ", "-"),
    }[spelling]
    planted = data_dir / "db" / "days" / "notes.txt"
    planted.write_text(f"customer card: {text}\n", encoding="utf-8")

    assert scan(data_dir) == {card.label: ["db/days/notes.txt"]}
    assert files_with_card_numbers(data_dir, [c.pan for c in DEMO_CARDS]) == [planted]


def test_pan_spellings_cover_the_usual_forms() -> None:
    amex = next(c for c in DEMO_CARDS if c.label == "Amex")
    spellings = pan_spellings(amex.pan)
    for expected in (
        b"378282246310005",
        b"3782 8224 6310 005",
        b"3782-8224-6310-005",
        b"3782 822463 10005",
        b"3782-822463-10005",
    ):
        assert expected in spellings


def test_demo_reset_refuses_a_dir_that_is_not_paygate_data(tmp_path: Path, cli) -> None:
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work", encoding="utf-8")
    result = cli("--demo", "--data-dir", precious, "--reset")
    assert result.code == 2
    assert result.err.startswith("paygate: ") and result.err.count("\n") == 1
    assert (precious / "thesis.txt").read_text(encoding="utf-8") == "years of work"


def test_demo_reset_refuses_while_another_process_writes(
    runtime: Runtime, settings: Settings, clock: FixedClock
) -> None:
    fill_data_dir(runtime, clock)
    (settings.data_dir / DEMO_MARKER).write_text("paygate demo data\n", encoding="utf-8")
    with pytest.raises(DataDirBusy, match="in use by another paygate process"):
        reset_demo_dir(settings.data_dir)
    # the writer's data is untouched and it can go on working
    runtime.audit.record("cashier-1", "login")
    runtime.close()
    with open_runtime(settings, read_only=True) as rt:
        assert rt.audit.verify().ok
        assert rt.vault.find(DEMO_CARDS[0].pan) is not None
    reset_demo_dir(settings.data_dir)  # with nobody writing, the demo dir is emptied
    assert sorted(p.name for p in settings.data_dir.iterdir()) == [DEMO_MARKER, "paygate.lock"]
