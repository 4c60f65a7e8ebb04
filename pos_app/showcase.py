"""`paygate --demo` until the terminal lands: a scripted tour of the gateway core.

Tokenizes the demo cards, shows that the same card finds the same token, rejects a
mistyped card, writes and verifies the audit chain, then prints what is on disk and
proves no card number is in any file of the data dir.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import orjson

from gateway_core.cards import CardError, check_card, group_digits
from gateway_core.demo import DEMO_CARDS, DemoCard
from gateway_core.errors import InputError
from gateway_core.settings import Settings
from gateway_core.store.lock import WriterLock
from pos_app.cli import open_runtime


def pan_spellings(pan: str) -> list[bytes]:
    """A card number as digits, and with spaces or dashes in groups of four, in the
    brand's own grouping (Amex 4-6-5) and as keyed."""
    digits = pan.replace(" ", "").replace("-", "")
    fours = " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))
    grouped = sorted({fours, group_digits(digits), pan.replace("-", " ")})
    return [digits.encode()] + [s.encode() for g in grouped for s in (g, g.replace(" ", "-"))]


def files_with_card_numbers(data_dir: Path, cards: tuple[DemoCard, ...]) -> list[Path]:
    """Every file under `data_dir` holding any of the cards' numbers in any spelling."""
    needles = [s for card in cards for s in pan_spellings(card.pan)]
    return [
        path
        for path in sorted(data_dir.rglob("*"))
        if path.is_file() and any(n in path.read_bytes() for n in needles)
    ]


def run_showcase(settings: Settings, *, reset: bool = False) -> int:
    """Run the tour on `settings.data_dir`; returns the exit code."""
    data_dir = settings.data_dir
    if reset and data_dir.exists():
        _reset(data_dir)
    print(f"paygate demo - data dir {data_dir}\n")
    today = date.today()
    with open_runtime(settings) as rt:
        print("Tokenizing the demo cards (PAN -> vault, CVV checked then dropped):")
        for card in DEMO_CARDS:
            checked = check_card(card.as_input(), today)
            token = rt.vault.tokenize(checked.without_cvv())
            rt.audit.record(
                "demo", "card.tokenized", token.token, brand=token.brand, card=token.masked
            )
            print(
                f"  {card.label:<11} {token.masked:<22} {token.token}  "
                f"fp {token.fingerprint[:12]}…  key v{token.key_version}"
            )
        again = rt.vault.tokenize(check_card(DEMO_CARDS[0].as_input(), today).without_cvv())
        print(f"\nThe Visa card keyed again finds its token: {again.token}")
        mistyped = DEMO_CARDS[0]._replace(pan="4111 1111 1111 1112")
        try:
            check_card(mistyped.as_input(), today)
        except CardError as exc:
            rt.audit.record("demo", "card.rejected", reason=exc.message)
            print(f"A mistyped card is refused: {exc}")
        verdict = rt.audit.verify()
        print(f"\nAudit chain: {verdict}")
    _print_stored(data_dir)
    leaks = files_with_card_numbers(data_dir, DEMO_CARDS)
    files = sum(1 for p in data_dir.rglob("*") if p.is_file())
    print(f"\nCard numbers found in the {files} files of the data dir: {len(leaks)}")
    for path in leaks:
        print(f"  LEAK: {path}")
    print(f"\nNext: `paygate audit verify --data-dir {data_dir}` and `paygate keys rotate`.")
    return 1 if leaks or not verdict.ok else 0


def _reset(data_dir: Path) -> None:
    """Empty a paygate data dir, holding its writer lock; refuse any other directory."""
    if any(data_dir.iterdir()) and not (data_dir / "db").is_dir():
        raise InputError(f"{data_dir} does not look like a paygate data dir; not resetting it")
    lock = WriterLock(data_dir)
    lock.acquire()  # DataDirBusy while another paygate process writes here
    try:
        for child in data_dir.iterdir():
            if child.name in ("paygate.lock", "writer.json"):
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    finally:
        lock.release()


def _print_stored(data_dir: Path) -> None:
    print("\nOn disk:")
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            mode = oct(path.stat().st_mode & 0o777)
            print(f"  {path.relative_to(data_dir)!s:<42} {path.stat().st_size:>7} bytes  {mode}")
    snapshot = data_dir / "db" / "main.snapshot.json"
    tokens = orjson.loads(snapshot.read_bytes())["tables"]["tokens"]
    first = next(iter(tokens.values()))
    print("\nOne vault record as stored (the PAN only as AES-GCM ciphertext):")
    print(orjson.dumps(first, option=orjson.OPT_INDENT_2).decode())
