"""Helpers shared by the gateway tests (imported as `from support import ...`).

Demo cards keyed in, charge requests, the issuer account behind a card, the latest OTP,
a payment's audit actions, free ports, an open gateway over the embedded banks (`World`),
and the simulated banks in their own process (`BankServer`).

A plain module, not a conftest: pytest does not rewrite its asserts, so it has none.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bank_sim.embedded import simulated_banks
from bank_sim.testcards import EXPIRY, card_for
from bank_sim.testcards import TestCard as DemoCard
from gateway_core.acquirer_api import Account, AuthorizationRequest
from gateway_core.cards import CardInput, mask_pan
from gateway_core.clock import FixedClock
from gateway_core.gateway import ChargeRequest, Gateway
from gateway_core.payments import Payment
from gateway_core.ports import Approval
from gateway_core.risk_models import RiskLimits
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings, load_settings
from gateway_core.store.snapshot import read_snapshot, snapshot_chunks
from gateway_core.upi_api import TEST_PIN

MANAGER = Approval("meera", "4321")  # the demo manager approves voids and refunds

OTP_RE = re.compile(r"\b\d{6}\b")
VISA = card_for("4242 4242 4242 4242")
TIMEOUT_CARD = card_for("4000 0000 0000 9094")
SLOW_CARD = card_for("4000 0000 0000 0200")


def open_runtime(settings: Settings, **options: Any) -> Runtime:
    """`Runtime.open` with the simulated banks embedded (as the `paygate` command does)."""
    return Runtime.open(settings, banks=simulated_banks, **options)


# -- cards and requests -------------------------------------------------------------------
def card_input(card: DemoCard) -> CardInput:
    """The demo card as a cashier keys it in."""
    return CardInput(pan=SecretStr(card.pan), expiry=EXPIRY, cvv=SecretStr(card.cvv))


def charge(card: DemoCard, amount: int = 100_00, **kw) -> ChargeRequest:
    """A charge in INR on the demo card; `kw` are further `ChargeRequest` fields."""
    return ChargeRequest(amount=amount, currency="INR", card=card_input(card), **kw)


async def pay_upi(
    rt: Runtime, req: ChargeRequest, vpa: str = "success@payer", *, wait_s: float = 0
) -> Payment:
    """A UPI payment taken, its link paid by `vpa` with the test PIN, the clock moved on
    `wait_s` seconds (a slow bank), and refreshed."""
    payment = await rt.gateway.charge(req)
    await rt.payer.pay(vpa, TEST_PIN, link=payment.upi.link)
    if wait_s:
        rt.clock.advance(seconds=wait_s)
    return await rt.gateway.refresh(payment.id)


def amount_for(card: DemoCard) -> int:
    """₹100.00, or ₹2,000.00 for the card with a ₹1,000.00 per-payment limit."""
    return 2_000_00 if card.expect == "61" else 100_00


def authorization_retry(payment: Payment, card: DemoCard, **kw) -> AuthorizationRequest:
    """The acquirer request for `payment` on `card` once more, as a retry sends it."""
    return AuthorizationRequest(
        payment_id=payment.id,
        merchant_id=payment.merchant_id,
        terminal_id=payment.terminal_id,
        pan=SecretStr(card.digits),
        expiry=EXPIRY,
        cvv=SecretStr(card.cvv),
        amount=payment.amount,
        currency=payment.currency,
        **kw,
    )


def pan_pattern(pan: str) -> re.Pattern[bytes]:
    """The PAN's digits with at most one space or dash between any two of them."""
    digits = pan.replace(" ", "")
    return re.compile(rb"(?<![0-9])" + rb"[ -]?".join(d.encode() for d in digits) + rb"(?![0-9])")


# -- what the banks and the audit log say ---------------------------------------------------
async def account(gw: Gateway, card: DemoCard) -> Account:
    """The issuer account behind the demo card, found by its masked number."""
    masked = mask_pan(card.digits)
    (found,) = [a for a in await gw.bank.accounts() if a.card == masked]
    return found


async def latest_otp(gw: Gateway) -> str:
    """The code in the newest OTP message the banks sent."""
    newest = (await gw.bank.outbox())[0]
    return OTP_RE.search(newest.text).group()


def actions(rt: Runtime, payment_id: str) -> list[str]:
    """The audit actions recorded about one payment, oldest first."""
    return [
        event["action"]
        for _day, event in rt.records.audit.events()
        if event["subject"] == payment_id
    ]


def load_snapshot(path: Path) -> dict:
    """A closed database's snapshot as `{"n": ..., "tables": {name: {doc_id: doc}}}`, for
    tests that read or edit the files as someone with file access could."""
    n, tables = read_snapshot(path)
    return {"n": n, "tables": tables}


def save_snapshot(path: Path, snap: dict) -> None:
    """Write `snap` (as `load_snapshot` gives it) back in the snapshot format."""
    path.write_bytes(b"".join(snapshot_chunks(snap["n"], snap["tables"])))


def free_port() -> int:
    """A local port nothing listens on (for now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- a gateway over the embedded banks ------------------------------------------------------
def gateway_settings(data_dir: Path, timeout_s: float, database_url: str | None = None) -> Settings:
    """Settings with IST business days, relaxed risk limits and the given bank timeout
    (the records in the database of `database_url` when given)."""
    return load_settings(
        data_dir=data_dir,
        timezone="Asia/Kolkata",
        bank_timeout_s=timeout_s,
        risk=RiskLimits.relaxed(),
        database_url=database_url,
    )


@dataclass
class World:
    rt: Runtime
    gw: Gateway
    clock: FixedClock

    @property
    def merchant(self) -> int:
        """The merchant's balance at the acquirer."""
        banks = self.rt.banks
        return banks.ledger.balance(banks.acquirer.merchant_account)


@asynccontextmanager
async def open_world(
    data_dir: Path,
    clock: FixedClock,
    timeout_s: float,
    world: type[World] = World,
    database_url: str | None = None,
) -> AsyncIterator[World]:
    """An open Runtime on `gateway_settings`: the timeout card's issuer sits on its answer
    for 3 × `timeout_s`, the slow card's for 0.02 s."""
    rt = open_runtime(gateway_settings(data_dir, timeout_s, database_url), clock=clock)
    gw = rt.gateway  # opens the embedded banks
    rt.banks.config.timeout_fault_s = 3 * timeout_s
    rt.banks.config.slow_fault_s = 0.02
    try:
        yield world(rt, gw, clock)
    finally:
        await rt.aclose()


# -- the banks in their own process ---------------------------------------------------------
LAUNCHER = """
import sys
from pathlib import Path
from bank_sim.config import BankConfig
from bank_sim.serve import serve
data_dir, port, timeout_fault_s, slow_fault_s = sys.argv[1:]
config = BankConfig(
    Path(data_dir), timeout_fault_s=float(timeout_fault_s), slow_fault_s=float(slow_fault_s)
)
serve(config, host="127.0.0.1", port=int(port))
"""


@dataclass
class BankServer:
    """A `paygate banks serve` process: start, kill, start again on the same data dir.

    The banks' store lives in `data_dir/banks`; their stderr goes to `data_dir.log`.
    """

    data_dir: Path
    timeout_fault_s: float
    slow_fault_s: float
    proc: subprocess.Popen | None = None
    url: str = ""

    def start(self) -> str:
        port = free_port()
        args = [str(self.data_dir), str(port), str(self.timeout_fault_s), str(self.slow_fault_s)]
        log = self.data_dir.with_name(self.data_dir.name + ".log")
        with log.open("ab") as err:  # a file, not a pipe: a full pipe would stall the server
            self.proc = subprocess.Popen(
                [sys.executable, "-c", LAUNCHER, *args], stdout=subprocess.DEVNULL, stderr=err
            )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the banks did not start: {log.read_text()}")
            try:
                if httpx.get(f"{self.url}/banks/v1/health", timeout=1).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the banks did not answer /banks/v1/health in 30 s")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no compaction, as if the machine died."""
        if self.proc is None:
            raise RuntimeError("the banks were never started")
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


CLI_SALE = ("--amount", "10", "--card", "4242424242424242", "--exp", "12/30", "--cvv", "123")


async def charge_until_killed(data_dir: Path) -> None:
    """Take approved test-card sales one after another, printing "ready" once and then
    each acknowledged payment's id and status (for crash tests that kill this process)."""
    import itertools

    from bank_sim.testcards import TEST_CARDS

    cards = [c for c in TEST_CARDS if c.expect == "00" and c.fault is None]
    gw = open_runtime(gateway_settings(data_dir, 10.0)).gateway
    print("ready", flush=True)
    for n in itertools.count():
        payment = await gw.charge(charge(cards[n % len(cards)], 1_00 + n % 500))
        print(payment.id, payment.status, flush=True)  # acknowledged


async def pay_upi_until_killed(data_dir: Path) -> None:
    """Take UPI QR payments one after another, each paid by a test payer in turn and
    refreshed, printing "ready" once and then each acknowledged payment's id and status
    (for crash tests that kill this process)."""
    import itertools

    payers = ["success@payer", "insufficient@payer", "deemed@payer", "slow@payer"]
    rt = open_runtime(gateway_settings(data_dir, 10.0))
    print("ready", flush=True)
    for n in itertools.count():
        req = ChargeRequest(amount=1_00 + n % 500, currency="INR", method="upi")
        payment = await rt.gateway.charge(req)
        print(payment.id, payment.status, flush=True)  # acknowledged
        await rt.payer.pay(payers[n % len(payers)], TEST_PIN, link=payment.upi.link)
        payment = await rt.gateway.refresh(payment.id)
        print(payment.id, payment.status, flush=True)


def kill_writer(
    writer: str, data_dir: Path, rng: random.Random, *, acks: tuple[int, int], within_s: float
) -> dict[str, str]:
    """Run `writer` (a support function printing "ready", then "<payment id> <status>"
    per acknowledged payment) on `data_dir` in a subprocess, read `acks` (a random count
    in that range) acknowledgements, SIGKILL it within `within_s` seconds: payment id →
    the last status acknowledged."""
    script = (
        "import asyncio, sys\nfrom pathlib import Path\nsys.path.insert(0, sys.argv[2])\n"
        f"from support import {writer}\nasyncio.run({writer}(Path(sys.argv[1])))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(data_dir), str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise AssertionError(f"the writer did not start: {proc.communicate()[1][-2000:]}")
    acked = {}
    for _ in range(rng.randint(*acks)):
        payment_id, status = proc.stdout.readline().split()
        acked[payment_id] = status
    time.sleep(rng.uniform(0, within_s))  # land anywhere inside the next step
    os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate()
    for line in out.splitlines(keepends=True):  # acked before it died: whole lines only
        if line.endswith("\n"):  # a line the kill cut short acknowledged nothing
            parts = line.split()
            assert len(parts) == 2, f"the writer printed {line!r}"  # only acknowledgements
            acked[parts[0]] = parts[1]
    return acked
