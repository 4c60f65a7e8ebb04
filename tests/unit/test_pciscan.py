"""The card-data scanner finds what it must and nothing else; a demo day is clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_sim.demo import seed_demo_day
from bank_sim.testcards import TEST_CARDS
from gateway_core.cards import luhn_check_digit
from gateway_core.pciscan import scan, scan_bytes


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424242",
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
        "3782 822463 10005",
        "card=378282246310005;",
        '{"pan": "6011111111111117"}',
    ],
)
def test_finds_card_numbers_in_any_spelling(tmp_path: Path, text: str) -> None:
    (tmp_path / "f.log").write_text(f"x {text} y\n")
    [finding] = scan(tmp_path)
    assert finding.kind == "pan" and "•" in finding.excerpt
    assert text.replace(" ", "").replace("-", "")[6:-4] not in str(finding)


@pytest.mark.parametrize(
    "text", ['"cvv": "123"', "CVV=737", "cvc: 1234", "'security_code': '999'", "CVV2 = 123"]
)
def test_finds_cvv_fields(tmp_path: Path, text: str) -> None:
    (tmp_path / "f.json").write_text(text)
    assert [f.kind for f in scan(tmp_path)] == ["cvv"]


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424241",
        "rrn 633211000001 stan 000001",
        "2026-11-28T10:00:00.123456+05:30",
        "CVV=***",
        "amount 000000125050",
        "411111******1111",
        "4111 11•• •••• 1111",
    ],
)
def test_ignores_what_is_not_card_data(tmp_path: Path, text: str) -> None:
    (tmp_path / "f.txt").write_text(text)
    assert scan(tmp_path) == []


@given(st.text(alphabet="0123456789", min_size=12, max_size=18))
def test_any_luhn_valid_number_is_found(body: str) -> None:
    pan = body + luhn_check_digit(body)
    found = list(scan_bytes(f"<{pan}>".encode(), Path("x")))
    assert [f.kind for f in found] == ["pan"]


def test_a_demo_day_leaves_no_card_data_anywhere(tmp_path: Path, settings) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    demo = settings.model_copy(update={"data_dir": tmp_path / "demo"})
    now = datetime(2026, 11, 28, 18, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert seed_demo_day(demo, now=now) >= 30
    assert scan(demo.data_dir) == []
    text = b"".join(p.read_bytes() for p in demo.data_dir.rglob("*") if p.is_file())
    for card in TEST_CARDS:
        assert card.digits.encode() not in text
    assert b"CVV=" not in text.replace(b"CVV=***", b"")


def test_pci_scan_command(cli, tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "a.log").write_text("rrn 633211000001 amount 125050\n")
    ok = cli("pci-scan", clean)
    assert ok.code == 0 and "0 finding(s)" in ok.out
    (clean / "b.log").write_text("card 4111-1111-1111-1111 cvv=123\n")
    leak = cli("pci-scan", clean)
    assert leak.code == 1
    assert "pan 4111 11•• •••• 1111" in leak.out and "cvv" in leak.out
    assert "4111-1111-1111-1111" not in leak.out
    assert cli("pci-scan", tmp_path / "nope").code == 2
