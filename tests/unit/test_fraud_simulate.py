"""`paygate risk simulate`: the same seed gives the same bytes, fraud patterns at their
rates with late labels, and no card number on disk."""

from __future__ import annotations

from collections import Counter

from fraud_support import SIM_ARGS, small_history

from bank_sim.fraud.simulate import Sizes, simulate
from gateway_core.fraud.history import history_bytes, read_history
from gateway_core.pciscan import scan

TINY = Sizes(days=5, payers=200, terminals=5)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_others() -> None:
    first = history_bytes(simulate(3, TINY))
    assert history_bytes(simulate(3, TINY)) == first
    assert history_bytes(simulate(4, TINY)) != first


def test_the_history_holds_every_pattern_with_its_label_arriving_late() -> None:
    records = small_history()
    assert [r.attempt.at for r in records] == sorted(r.attempt.at for r in records)
    patterns = Counter(r.pattern for r in records if r.fraud)
    assert set(patterns) == {
        "card_testing",
        "bin_attack",
        "account_takeover",
        "stolen_abroad",
        "velocity",
    }
    assert 0.01 < sum(patterns.values()) / len(records) < 0.06
    for r in records:
        if r.fraud:
            assert r.label_at is not None and r.label_at > r.attempt.at
        else:
            assert r.label_at is None and r.pattern == ""
    testing = [r for r in records if r.pattern == "card_testing"]
    assert all(r.attempt.amount <= 50_00 for r in testing)  # small amounts
    takeovers = [r for r in records if r.pattern == "account_takeover"]
    assert all(r.attempt.at.hour < 6 for r in takeovers)  # at night


def test_simulate_writes_the_data_dir_file_and_no_card_data(cli, tmp_path) -> None:
    data = tmp_path / "d"
    done = cli("risk", "simulate", *SIM_ARGS, "--data-dir", data)
    assert done.code == 0, done.err
    path = data / "risk" / "history.jsonl"
    assert str(path) in done.out and "frauds" in done.out
    records, _digest = read_history(path)
    assert path.read_bytes() == history_bytes(small_history())
    assert scan(path) == []  # no card number, no CVV
    first = records[0]
    assert len(first.attempt.bin6) in (0, 6) and len(first.last4) in (0, 4)
    assert first.attempt.card.startswith("tok_")
    out = tmp_path / "h.jsonl"
    assert cli("risk", "simulate", "--days", "3", "--payers", "50", "--out", out).code == 0
    again = cli("risk", "simulate", "--days", "3", "--payers", "50", "--out", out)
    assert again.code == 2 and "exists" in again.err  # never over a file named
    assert cli("risk", "simulate", "--days", "0", "--out", tmp_path / "x").code == 2
