"""The day's payments a page at a time (`PaymentRepository.page`, `paygate list`): newest
first by creation time then id, a keyset cursor, one merchant's or every merchant's; the
pages put together are the day sorted, whatever was stored since."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway_core.store import DataStore
from gateway_core.store.repos import TinyPaymentRepository

IST = timezone(timedelta(hours=5, minutes=30))
DAY = date(2026, 11, 28)

stored = st.lists(
    st.tuples(st.integers(0, 30), st.sampled_from(["SHOP1", "SHOP2"]), st.booleans()),
    min_size=0,
    max_size=60,
)


def _record(n: int, minute: int, merchant: str, odd: bool) -> dict:
    at = datetime(2026, 11, 28, 10, tzinfo=IST) + timedelta(minutes=minute)
    return {
        "id": f"pay_20261128_{(n * 7919) % 1000:010d}",  # ids not in the order stored
        "status": "succeeded",
        "merchant_id": merchant,
        "risk": {"created_at": "9999"} if odd else None,  # a nested created_at, before its own
        "operator": 'a "quoted" name' if odd else "asha",
        "created_at": at.isoformat(),
        "updated_at": at.isoformat(),
    }


def _pages(repo: TinyPaymentRepository, merchant: str | None, size: int) -> list[str]:
    ids, cursor = [], None
    while batch := repo.page(DAY, merchant, cursor, size):
        ids += [r["id"] for r in batch]
        cursor = (batch[-1]["created_at"], batch[-1]["id"])
    return ids


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=stored, later=stored, size=st.integers(1, 7))
def test_pages_put_together_are_the_day_newest_first(
    tmp_path_factory, first: list, later: list, size: int
) -> None:
    data = tmp_path_factory.mktemp("pages")
    records = [_record(n, *spec) for n, spec in enumerate(first)]
    with DataStore(data) as store:
        repo = TinyPaymentRepository(store)
        for r in records:
            repo.save(DAY, r)
    with DataStore(data) as store:  # read back from the snapshot, then written to
        repo = TinyPaymentRepository(store)
        for merchant in ("SHOP1", None):
            mine = [r for r in records if merchant in (None, r["merchant_id"])]
            newest = sorted(mine, key=lambda r: (r["created_at"], r["id"]), reverse=True)
            assert _pages(repo, merchant, size) == [r["id"] for r in newest]
        more = [_record(len(records) + n, *spec) for n, spec in enumerate(later)]
        for r in more:
            repo.save(DAY, r)
        everything = sorted(records + more, key=lambda r: (r["created_at"], r["id"]), reverse=True)
        assert _pages(repo, None, size) == [r["id"] for r in everything]
        assert repo.page(date(2026, 11, 27), None, None, size) == []
        assert not store.has_day(date(2026, 11, 27))  # a lookup creates nothing


VISA = ("--card", "4242 4242 4242 4242", "--exp", "12/30", "--cvv", "123")


def test_paygate_list_pages_through_the_day_newest_first(cli, tmp_path: Path) -> None:
    data = ("--data-dir", tmp_path / "data")
    ids = []
    for amount in ("10", "20", "30"):
        sale = cli("charge", *data, "--amount", amount, *VISA, "--json")
        assert sale.code == 0, sale.err
        ids.append(json.loads(sale.out)["id"])
    everything = json.loads(cli("list", *data, "--json").out)
    newest = [p["id"] for p in everything]
    assert sorted(newest) == sorted(ids)
    stamps = [(p["created_at"], p["id"]) for p in everything]
    assert stamps == sorted(stamps, reverse=True)

    first = cli("list", *data, "--limit", "2")
    assert first.code == 0, first.err
    assert [line.split()[1] for line in first.out.splitlines()[1:3]] == newest[:2]
    hint = first.out.splitlines()[-1]
    assert hint.startswith("newest first; the next page: paygate list --date ")
    assert hint.endswith(f"--after {newest[1]}")
    rest = json.loads(cli("list", *data, "--limit", "2", "--after", newest[1], "--json").out)
    assert [p["id"] for p in rest] == newest[2:]

    unknown = cli("list", *data, "--after", "pay_20000101_0000000000")
    assert unknown.code == 2 and unknown.err.count("\n") == 1
    assert cli("list", *data, "--limit", "-1").code == 2
