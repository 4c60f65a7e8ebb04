"""A demo day with errors, logs kept: `paygate pci-scan` finds no card data anywhere.

The day: the demo history (sales, declines, an OTP, refunds, a void), then cashier
mistakes and bank faults through the command line (a mistyped number, an expired card,
a short CVV, a bank timeout, a lost card), with every log record at INFO (paygate's own
at DEBUG) and every command's output written to log files. (Not third-party DEBUG:
filelock logs Python object ids, 15-digit numbers of which one in ten is Luhn-valid, and
the scanner reports every Luhn-valid number by design.) The scan must find nothing in
the data dir or the logs, while the logs do hold the masked cards (so they are not empty).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bank_sim.demo import seed_demo_day
from bank_sim.testcards import EXPIRY, TEST_CARDS, card_for
from gateway_core.settings import load_settings

MISTAKES = [
    ("4242 4242 4242 4241", EXPIRY, "123"),  # one digit wrong: fails the Luhn check
    ("4242 4242 4242 4242", "01/21", "123"),  # expired
    ("4242-4242-4242-4242", EXPIRY, "99"),  # CVV too short
    ("4000 0000 0000 9094", EXPIRY, "123"),  # the issuer times out: reversed
    ("4000 0000 0000 9987", EXPIRY, "123"),  # lost card
    ("4242424242424242", EXPIRY, "123"),  # approved, keyed without spaces
]


def test_a_demo_day_with_errors_leaves_no_card_data(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, logs = tmp_path / "data", tmp_path / "logs"
    logs.mkdir()
    monkeypatch.setenv("PAYGATE_BANK_TIMEOUT_S", "0.3")
    handler = logging.FileHandler(logs / "paygate.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    levels = {"": logging.INFO, "gateway_core": logging.DEBUG, "pos_app": logging.DEBUG}
    saved = {name: logging.getLogger(name).level for name in levels}
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)  # setLevel: loggers re-read their level
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        seed_demo_day(load_settings(data_dir=data_dir, timezone="Asia/Kolkata"))
        with (logs / "commands.log").open("w", encoding="utf-8") as out:
            for pan, expiry, cvv in MISTAKES:
                result = cli(
                    "charge", "--data-dir", data_dir, "--amount", "250.00", "--card", pan,
                    "--exp", expiry, "--cvv", cvv,
                )  # fmt: skip
                out.write(f"exit {result.code}\n{result.out}{result.err}")
            for command in (["list"], ["outbox"], ["audit", "verify"], ["ledger", "check"]):
                result = cli(*command, "--data-dir", data_dir)
                out.write(f"exit {result.code}\n{result.out}{result.err}")
    finally:
        root.removeHandler(handler)
        handler.close()
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)

    written = (logs / "commands.log").read_text(encoding="utf-8")
    assert "4242" in written and "exit 2" in written and "exit 0" in written
    assert (logs / "paygate.log").stat().st_size > 0
    for folder in (data_dir, logs):
        scanned = cli("pci-scan", folder)
        assert scanned.code == 0, scanned.out
        assert "0 finding(s)" in scanned.out
    for card in (*TEST_CARDS, card_for("4242 4242 4242 4242")):
        digits = card.digits.encode()
        for path in (p for p in tmp_path.rglob("*") if p.is_file()):
            assert digits not in path.read_bytes(), (path, card.pan)
