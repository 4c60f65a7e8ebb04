"""A lookup never creates a file, and open days are bounded.

An id of a day with no data is "no such payment" (exit 2 / HTTP 404) with nothing made
and no descriptor kept; a writer keeps at most `MAX_OPEN_DAYS` days open, the least
recently used closed first, and a closed day opens again, whole, when next used.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import httpx
from support import VISA, charge, gateway_settings, open_runtime

from gateway_core.clock import FixedClock
from gateway_core.gateway import UnknownPayment
from gateway_core.service.app import create_app
from gateway_core.service.keys import ApiKeys
from gateway_core.store import DataStore
from gateway_core.store.database import MAX_OPEN_DAYS

SALE = ("--amount", "10", "--card", "4242424242424242", "--exp", "12/30", "--cvv", "123")


def files(data_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*"))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def other_days(n: int) -> list[str]:
    """`n` payment ids of days with no data, 1990 onwards."""
    return [f"pay_{date(1990, 1, 1) + timedelta(days=i):%Y%m%d}_0123456789" for i in range(n)]


def test_status_of_a_day_with_no_data_is_no_such_payment_and_makes_nothing(
    cli, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    assert cli("charge", *SALE, "--data-dir", data).code == 0
    before = files(data)
    for payment_id in ["pay_20000101_0123456789", "pay_99991231_x", "pay_19700101_abc"]:
        result = cli("status", payment_id, "--data-dir", data)
        assert (result.code, result.out) == (2, "")
        assert result.err == f"paygate: no payment {payment_id}\n"
    assert files(data) == before


async def test_thousands_of_lookups_of_empty_days_keep_no_descriptor_nor_file(
    tmp_path: Path, clock: FixedClock
) -> None:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    try:
        sale = await rt.gateway.charge(charge(VISA))  # today's day is open, as in a service
        before, fds = files(rt.settings.data_dir), open_fds()
        for payment_id in other_days(2000):
            try:
                rt.gateway.get(payment_id)
            except UnknownPayment:
                continue
            raise AssertionError(f"{payment_id} was found")
        assert files(rt.settings.data_dir) == before
        assert open_fds() <= fds
        assert rt.gateway.get(sale.id).status == "succeeded"
        assert (await rt.gateway.charge(charge(VISA))).status == "succeeded"
    finally:
        await rt.aclose()


async def test_http_lookup_of_a_day_with_no_data_is_404_and_makes_nothing(
    tmp_path: Path, clock: FixedClock
) -> None:
    rt = open_runtime(gateway_settings(tmp_path / "data", 5.0), clock=clock)
    _key, secret = ApiKeys(rt.records.api_keys, rt.keyring, rt.audit, rt.clock).issue(
        "PAYGATEDEMO0001", "TERM0001", actor="owner"
    )
    transport = httpx.ASGITransport(app=create_app(rt, repair_on_start=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            headers = {"Authorization": f"Bearer {secret}"}
            await client.get("/v1/payments/pay_20261128_0123456789", headers=headers)
            before, fds = files(rt.settings.data_dir), open_fds()
            for payment_id in other_days(300):
                got = await client.get(f"/v1/payments/{payment_id}", headers=headers)
                assert got.status_code == 404, got.text
            assert files(rt.settings.data_dir) == before
            assert open_fds() <= fds
    finally:
        await rt.aclose()


def test_a_writer_keeps_a_bounded_number_of_days_open(tmp_path: Path) -> None:
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(3 * MAX_OPEN_DAYS)]
    with DataStore(tmp_path) as store:
        fds = open_fds()
        for n, day in enumerate(days):
            store.day(day).table("payments").insert({"id": f"p{n}"})
        assert len(store._days) <= MAX_OPEN_DAYS
        assert open_fds() <= fds + 2 * MAX_OPEN_DAYS
        for n, day in enumerate(days):  # closed days open again, whole, and take writes
            store.day(day).table("payments").insert({"id": f"q{n}"})
    with DataStore(tmp_path, read_only=True) as store:
        for n, day in enumerate(days):
            ids = [doc["id"] for doc in store.day(day).table("payments")]
            assert ids == [f"p{n}", f"q{n}"]
