"""A monkey at the terminal: thousands of random keys, no exception, a consistent store.

The keys lean towards what moves a sale along (digits, Enter, the demo card list) so
real payments happen, approvals, declines, OTPs and timeouts among them, with every
other key mixed in: Escape, Tab, letters, function keys, voids, theme switches, log
out (the monkey signs in again). Keys go out in small bursts, as a fast typist's
would, so screens change under its fingers. Afterwards the audit chain verifies, the
banks' books balance and no screen shows a full card number.

CI runs a few fixed seeds; PAYGATE_MONKEY_SEEDS=200 runs 200 more (seeds 1..200), e.g.
`PAYGATE_MONKEY_SEEDS=200 pytest -n 2 tests/test_app_monkey.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from pathlib import Path

import pytest
from app_support import (
    assert_no_pan,
    build_app,
    drive,
    login,
    press,
    sale,
    screen_text,
    settle,
    wait_for,
)
from textual import events
from textual.keys import _character_to_key

from bank_sim.testcards import TEST_CARDS
from gateway_core.clock import FixedClock
from gateway_core.settings import Settings

KEYS = (
    [*"0123456789"] * 12
    + ["enter"] * 20
    + ["ctrl+d"] * 5
    + ["down"] * 6
    + ["escape"] * 6
    + ["backspace", "delete", "tab", "shift+tab", ".", "plus", "t", "r", "a", "v", "p"]
    + ["s", "c", "i", "x", "q", "/", " ", "-", "up", "ctrl+u", "ctrl+r", "ctrl+t"]
    + ["f1", "f2", "f3", "ctrl+l", "ctrl+c", "ctrl+p", "home", "end", "pageup", "pagedown"]
)
BURST = 12
PRESSES = 700
SEEDS = [20261128, 7, 1515, *range(1, 1 + int(os.environ.get("PAYGATE_MONKEY_SEEDS", "0")))]
SALE_EVERY = 120  # and a whole sale now and then, on a random demo card, amid the keys


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_keys_leave_the_store_consistent(
    seed: int, settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    quick = settings.model_copy(update={"bank_timeout_s": 0.3})
    app = build_app(quick, clock, tmp_path / "config", demo=True)
    app.rt.banks.config.timeout_fault_s = 0.4
    app.rt.banks.config.slow_fault_s = 0.1
    rng = random.Random(seed)
    seen: list[str] = []
    async with drive(app) as pilot:
        await login(pilot)
        sent = 0
        while sent < PRESSES:
            if type(app.screen).__name__ == "LoginScreen":  # signed out: sign in again
                await press(pilot, "escape")  # clears what the monkey typed there
                await login(pilot, *rng.choice([("asha", "1111"), ("ravi", "2222")]))
                continue
            for _ in range(BURST):
                key = rng.choice(KEYS)
                char = key if len(key) == 1 else None
                name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
                event = events.Key(name, char)
                event.set_sender(app)
                app._driver.send_message(event)
                sent += 1
            try:
                await asyncio.wait_for(settle(pilot), 20)
            except TimeoutError:
                print("STUCK", app.screen_stack, app.focused, app.flow.busy, flush=True)
                for task in asyncio.all_tasks():
                    task.print_stack(limit=6)
                raise
            if sent % SALE_EVERY < BURST and type(app.screen).__name__ == "SaleScreen":
                card = rng.choice(TEST_CARDS)
                app.flow.draft = app.flow.new_draft()  # a clean sale: no tip, reference or focus
                app.screen.reset()  # left in a field by the random keys
                await sale(pilot, str(rng.randint(1, 20_000)), card.pan, cvv=card.cvv, until="")
            if sent % 300 < BURST:
                clock.advance(minutes=2)  # keeps the risk rules from pausing the terminal
                if type(app.screen).__name__ != "HelpScreen":  # it lists the test cards
                    with contextlib.suppress(TypeError):  # a screen caught mid-change
                        seen.append(screen_text(app))
        await wait_for(pilot, lambda: app.flow.busy is None, timeout=15)
        await settle(pilot)
        assert app.is_running, (app.return_code, app._exception)
        seen.append(screen_text(app))
        payments = app.gateway.list_day()
        assert await app.gateway.repair() is not None
        audit = app.rt.audit.verify()
        assert audit.ok, audit
        ledger = await app.gateway.bank.ledger_check()
        assert ledger.ok, ledger.problem
    assert payments, "the monkey should have taken some payments"
    assert_no_pan("\n".join(seen), *(card.pan for card in TEST_CARDS))
