"""Several gateway processes on one PostgreSQL database, as real processes.

`paygate serve --workers 2` under 8 concurrent HTTP clients loses and doubles nothing;
two independent `paygate serve` on the database (one `paygate banks serve` between
them) agree on idempotency keys sent to both at once and on a card's daily limit; a
worker killed with SIGKILL in the middle of sales leaves nothing open: another process
takes its payments over and settles them as the bank did. Nothing here waits for time
to pass: every wait is on a condition, with a generous deadline.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_support import issue
from support import BankServer
from workers_support import Served, drive, established, luhn_card, sale, serve, wait_until

OPEN = ("unknown", "requires_action", "requires_capture", "pending")


@pytest.fixture
def shop(cli, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """A data dir (keys, the banks' store) and a terminal key, on the test's database."""
    monkeypatch.setenv("PAYGATE_DATABASE_URL", pg_url)
    data = tmp_path / "data"
    yield data, issue(cli, data, "T1")


def _payments(url: str, key: str) -> list[dict]:
    got = httpx.get(f"{url}/v1/payments", headers={"Authorization": f"Bearer {key}"}, timeout=60)
    assert got.status_code == 200, got.text
    return got.json()["data"]


def test_eight_clients_on_two_workers_lose_and_double_nothing(paygate_cmd, shop, cli):
    data, key = shop
    served = serve(paygate_cmd, data, "--workers", "2")
    try:
        load = drive(served.url, key, sales=160, clients=8)
        assert load.errors == []
        assert len(load.acked) == 160
        ids = {p["id"] for p in load.acked.values()}
        assert len(ids) == 160  # one payment per key
        stored = _payments(served.url, key)
        assert sorted(p["id"] for p in stored) == sorted(ids)  # each stored once
        assert {p["id"]: p["status"] for p in stored} == {
            p["id"]: p["status"] for p in load.acked.values()
        }
        again = drive(served.url, key, sales=160, clients=8)  # every key sent again
        assert {k: p["id"] for k, p in again.acked.items()} == {
            k: p["id"] for k, p in load.acked.items()
        }
        assert len(_payments(served.url, key)) == 160
        assert len(served.workers()) == 2
    finally:
        assert served.stop() == 0
    assert served.said()[-1] == "gateway stopped"
    assert cli("ledger", "check", "--data-dir", data).code == 0  # the banks agree


def test_the_audit_chain_stays_one_across_two_workers(paygate_cmd, shop, cli):
    data, key = shop
    served = serve(paygate_cmd, data, "--workers", "2")
    try:
        assert drive(served.url, key, sales=40, clients=8).errors == []
    finally:
        served.stop()
    result = cli("audit", "verify", "--data-dir", data)
    assert result.code == 0, result.err


@pytest.fixture
def two(paygate_cmd, shop) -> Iterator[tuple[Served, Served, str]]:
    """Two independent `paygate serve` on the database and one banks' process."""
    data, key = shop
    banks = BankServer(data, 0, 0)
    bank_url = banks.start()
    served: list[Served] = []
    try:
        risk = {"per_minute": 10**6, "per_day": 4, "card_declines": 10**6}
        for _ in range(2):
            served.append(serve(paygate_cmd, data, "--bank-url", bank_url, risk=risk))
        yield served[0], served[1], key
    finally:
        for one in served:
            one.stop()
        banks.stop()


def _at_both_at_once(a: Served, b: Served, key: str, cards: list[str]) -> list[tuple]:
    """Each card's sale sent with one Idempotency-Key to `a` and `b` at the same moment:
    the two answers of each."""
    headers = {"Authorization": f"Bearer {key}"}
    results: dict[tuple[int, str], httpx.Response] = {}

    def send(n: int, url: str, start: threading.Barrier) -> None:
        start.wait()
        results[n, url] = httpx.post(
            f"{url}/v1/payments",
            json=sale(cards[n]),
            headers={**headers, "Idempotency-Key": f"both-{n}"},
            timeout=60,
        )

    for n in range(len(cards)):
        start = threading.Barrier(2)
        threads = [threading.Thread(target=send, args=(n, u, start)) for u in (a.url, b.url)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    return [(results[n, a.url], results[n, b.url]) for n in range(len(cards))]


def _one_payment_each(a: Served, b: Served, key: str, answers: list[tuple]) -> None:
    for first, second in answers:
        assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
        assert first.json()["id"] == second.json()["id"]
    ids = {first.json()["id"] for first, _ in answers}
    assert {p["id"] for p in _payments(a.url, key)} >= ids
    assert len(_payments(a.url, key)) == len(_payments(b.url, key))


def test_one_idempotency_key_sent_to_two_processes_at_once_makes_one_payment(two):
    a, b, key = two
    cards = [luhn_card(n) for n in range(12)]
    for card in cards:  # each card already in the vault (see the test below for a new one)
        got = httpx.post(
            f"{a.url}/v1/payments",
            json=sale(card),
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert got.status_code == 200, got.text
    _one_payment_each(a, b, key, _at_both_at_once(a, b, key, cards))
    assert len(_payments(a.url, key)) == 24


def test_one_idempotency_key_with_a_new_card_at_two_processes_makes_one_payment(two):
    a, b, key = two
    cards = [luhn_card(100 + n) for n in range(12)]
    _one_payment_each(a, b, key, _at_both_at_once(a, b, key, cards))


def test_a_cards_daily_limit_holds_across_processes(two):
    a, b, key = two
    headers = {"Authorization": f"Bearer {key}"}
    card = "4242 4242 4242 4242"  # an approving demo card
    codes = []
    for n in range(8):  # one after another, each process in turn
        url = (a.url, b.url)[n % 2]
        got = httpx.post(f"{url}/v1/payments", json=sale(card), headers=headers, timeout=60)
        assert got.status_code == 200, got.text
        codes.append(got.json().get("decline_code"))
    assert codes == [None] * 4 + ["blocked_by_risk"] * 4


def _kill(served: Served, victim: int | None) -> None:
    """SIGKILL a worker; back once the supervisor has started another in its place."""
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: victim not in served.workers(), "the worker was replaced")


def test_a_worker_killed_mid_sale_leaves_nothing_open(paygate_cmd, shop, cli, pg_url):
    data, key = shop
    served = serve(paygate_cmd, data, "--workers", "2", PAYGATE_BANK_LATENCY_MS="300")
    headers = {"Authorization": f"Bearer {key}"}
    stop = threading.Event()
    acked: dict[str, str] = {}
    cut: list[str] = []  # sales whose worker was killed under them

    def client(c: int) -> None:
        with httpx.Client(base_url=served.url, headers=headers, timeout=60) as http:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    got = http.post("/v1/payments", json=sale(luhn_card(c * 1000 + n)))
                except httpx.HTTPError as exc:
                    cut.append(type(exc).__name__)
                    continue
                if got.status_code == 200:
                    acked[got.json()["id"]] = got.json()["status"]

    def busiest() -> int | None:
        busy = {pid: established(pid, served.port) for pid in served.workers()}
        pid = max(busy, key=busy.__getitem__)
        return pid if busy[pid] else None

    clients = [threading.Thread(target=client, args=(c,)) for c in range(8)]
    try:
        for thread in clients:
            thread.start()
        wait_until(lambda: len(acked) >= 16, "sales acknowledged")
        for _ in range(3):  # until a kill cuts a sale short (a worker between two: again)
            wait_until(busiest, "a worker holding a client's connection")
            _kill(served, busiest())
            if cut:
                break
        assert cut
        done = len(acked)
        wait_until(lambda: len(acked) >= done + 16, "sales go on")
        stop.set()
        for thread in clients:
            thread.join(60)
        wait_until(
            lambda: all(p["status"] not in OPEN for p in _payments(served.url, key)),
            "every payment the killed worker left is settled",
        )
        stored = {p["id"]: p["status"] for p in _payments(served.url, key)}
        assert {pid: stored[pid] for pid in acked} == acked  # acknowledged: as stored
    finally:
        stop.set()
        served.stop()
    assert cli("ledger", "check", "--data-dir", data).code == 0  # holds as the gateway says
