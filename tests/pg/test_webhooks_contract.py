"""The webhook repository's contract: the same cases, the same results, on both backends."""

from __future__ import annotations

from datetime import date

import pytest
from pg_support import records_on


@pytest.fixture(params=["embedded", "postgres"])
def records(request, tmp_path):
    with records_on(request.param, request, tmp_path, home="HOME") as opened:
        yield opened


def _delivery(did: str, endpoint: str, state: str = "pending") -> dict:
    return {"id": did, "endpoint_id": endpoint, "state": state, "attempts": []}


def test_endpoints_by_id_in_the_order_added_and_updated_in_place(records):
    hooks = records.webhooks
    assert hooks.endpoints() == [] and hooks.endpoint("we_1") is None
    hooks.add_endpoint({"id": "we_1", "url": "https://a", "cursor": {"day": None, "seq": 0}})
    hooks.add_endpoint({"id": "we_2", "url": "https://b", "cursor": {"day": None, "seq": 0}})
    hooks.update_endpoint("we_1", {"cursor": {"day": "2026-11-28", "seq": 7}, "state": "x"})
    hooks.update_endpoint("we_9", {"state": "x"})  # nothing there: nothing made
    assert [e["id"] for e in hooks.endpoints()] == ["we_1", "we_2"]
    assert hooks.endpoint("we_1") == {
        "id": "we_1",
        "url": "https://a",
        "cursor": {"day": "2026-11-28", "seq": 7},
        "state": "x",
    }
    assert hooks.endpoint("we_9") is None
    got = hooks.endpoint("we_2")
    got["url"] = "changed"  # a copy of its own
    assert hooks.endpoint("we_2")["url"] == "https://b"


def test_deliveries_by_endpoint_state_and_newest(records):
    hooks = records.webhooks
    for did, endpoint in (("d1", "we_1"), ("d2", "we_2"), ("d3", "we_1"), ("d4", "we_1")):
        hooks.add_delivery(_delivery(did, endpoint))
    hooks.update_delivery("d3", {"state": "delivered", "attempts": [{"status": 200}]})
    assert [d["id"] for d in hooks.deliveries()] == ["d1", "d2", "d3", "d4"]
    assert [d["id"] for d in hooks.deliveries("we_1")] == ["d1", "d3", "d4"]
    assert [d["id"] for d in hooks.deliveries("we_1", state="pending")] == ["d1", "d4"]
    assert [d["id"] for d in hooks.deliveries(state="delivered")] == ["d3"]
    assert [d["id"] for d in hooks.deliveries(limit=2)] == ["d3", "d4"]
    assert hooks.deliveries("we_1", limit=0) == []
    assert hooks.delivery("d3")["attempts"] == [{"status": 200}]
    assert hooks.delivery("nope") is None


def test_a_unit_that_fails_keeps_no_delivery_nor_cursor(records):
    hooks = records.webhooks
    hooks.add_endpoint({"id": "we_1", "cursor": {"day": None, "seq": 0}})
    with pytest.raises(RuntimeError), records.unit():
        hooks.add_delivery(_delivery("d1", "we_1"))
        hooks.update_endpoint("we_1", {"cursor": {"day": None, "seq": 5}})
        raise RuntimeError("killed")
    assert hooks.deliveries() == [] and hooks.delivery("d1") is None
    assert hooks.deliveries("we_1", state="pending") == []
    assert hooks.endpoint("we_1")["cursor"]["seq"] == 0
    hooks.add_delivery(_delivery("d2", "we_1"))
    assert [d["id"] for d in hooks.deliveries()] == ["d2"]
    with pytest.raises(RuntimeError), records.unit():
        hooks.update_delivery("d2", {"state": "delivered"})
        raise RuntimeError("killed")
    assert [d["id"] for d in hooks.deliveries("we_1", state="pending")] == ["d2"]
    hooks.update_delivery("d2", {"state": "delivered"})
    assert hooks.deliveries(state="pending") == []
    hooks.update_delivery("d2", {"state": "pending"})
    assert [d["id"] for d in hooks.deliveries(state="pending")] == ["d2"]


def test_one_process_at_a_time_delivers(records, request):
    assert records.webhooks.leading() and records.webhooks.leading()
    if request.node.callspec.params["records"] != "postgres":
        return  # the data dir's one writer: always
    from gateway_core.pgstore import PgRecords

    url = records.db.url
    with PgRecords(url, "HOME") as second, PgRecords(url, "OTHER") as other_merchant:
        assert not second.webhooks.leading()
        assert other_merchant.webhooks.leading()  # per merchant
        records.webhooks.close()  # the first one stops (or dies)
        assert second.webhooks.leading()
        assert not records.webhooks.leading()


def test_the_audit_events_after_a_number_oldest_first(records):
    d1, d2, d3 = date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29)
    for seq, day in enumerate((d1, d1, d2, d2, d2, d3), start=1):
        records.audit.append(day, {"seq": seq, "mac": f"m{seq}"})
    after = records.webhooks.audit_after
    assert [(d, e["seq"]) for d, e in after(None, 0, 100)] == [
        (d1, 1), (d1, 2), (d2, 3), (d2, 4), (d2, 5), (d3, 6)
    ]  # fmt: skip
    assert [e["seq"] for _d, e in after(d2, 3, 100)] == [4, 5, 6]
    assert [e["seq"] for _d, e in after(d2, 3, 2)] == [4, 5]
    assert after(d3, 6, 100) == [] and after(date(2026, 12, 1), 0, 100) == []
    assert after(d1, 5, 1) == [(d3, {"seq": 6, "mac": "m6"})]


def test_endpoints_and_deliveries_move_with_a_data_dir(tmp_path, pg_url):
    """`paygate db import` and `export` carry them (and the cursors in them)."""
    from gateway_core.pgstore import PgRecords
    from gateway_core.pgstore.transfer import export_store, import_store
    from gateway_core.store import DataStore
    from gateway_core.store.records import TinyRecords

    endpoint = {"id": "we_1", "state": "enabled", "cursor": {"day": "2026-11-28", "seq": 9}}
    deliveries = [_delivery("d1", "we_1", "delivered"), _delivery("d2", "we_1")]
    with DataStore(tmp_path / "shop") as store:
        hooks = TinyRecords(store).webhooks
        hooks.add_endpoint(endpoint)
        for delivery in deliveries:
            hooks.add_delivery(delivery)
        with PgRecords(pg_url, "HOME") as db:
            assert import_store(store, db).counts["webhook endpoints"] == 1
            assert db.webhooks.endpoints() == [endpoint]
            assert db.webhooks.deliveries() == deliveries
            with DataStore(tmp_path / "back") as back:
                export_store(db, back)
                moved = TinyRecords(back).webhooks
                assert moved.endpoints() == [endpoint] and moved.deliveries() == deliveries
                assert [d["id"] for d in moved.deliveries(state="pending")] == ["d2"]
