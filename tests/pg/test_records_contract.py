"""The repository contract: the same cases, the same results, on both backends (the
embedded store and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pg_support import records_on

from gateway_core.ports import TallyKey, TallySums
from gateway_core.store.journal import StorageCorrupt

D1, D2, D3 = date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29)
T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["embedded", "postgres"])
def records(request, tmp_path):
    with records_on(request.param, request, tmp_path, home="HOME") as opened:
        yield opened


def _pay(pid: str, status: str = "approved", **more) -> dict:
    return {"id": pid, "status": status, "amount": 1250, "terminal_id": "T1", **more}


def test_payments_by_day_and_id_in_the_order_first_saved(records):
    records.payments.save(D2, _pay("p1"))
    records.payments.save(D2, _pay("p2", "declined"))
    records.payments.save(D1, _pay("p0"))
    records.payments.save(D2, _pay("p1", "captured"))
    assert records.payments.get(D2, "p1") == _pay("p1", "captured")
    assert records.payments.get(D1, "p1") is None and records.payments.get(D2, "nope") is None
    assert records.payments.get(D3, "p1") is None
    assert [p["id"] for p in records.payments.for_day(D2)] == ["p1", "p2"]
    assert list(records.payments.each(D2)) == records.payments.for_day(D2)
    assert records.days() == [D1, D2]
    assert records.payments.for_day(D3) == []
    got = records.payments.get(D2, "p2")
    got["status"] = "changed"  # a copy of its own
    assert records.payments.get(D2, "p2")["status"] == "declined"
    records.payments.forget_indexes()
    assert records.payments.get(D2, "p2")["status"] == "declined"


def test_refunds_are_found_by_payment_across_days_and_by_day(records):
    records.refunds.add(D1, {"id": "r1", "payment_id": "p1", "amount": 100})
    records.refunds.add(D2, {"id": "r2", "payment_id": "p1", "amount": 200})
    records.refunds.add(D2, {"id": "r3", "payment_id": "p2", "amount": 300})
    assert [r["id"] for r in records.refunds.for_payment("p1")] == ["r1", "r2"]
    assert records.refunds.for_payment("p9") == []
    assert [r["amount"] for r in records.refunds.for_day(D2)] == [200, 300]
    assert records.refunds.for_day(D3) == []


def test_audit_events_in_order_of_days_and_appends_with_the_head_apart(records):
    assert records.audit.last() is None and records.audit.head() is None
    events = [(D2, {"seq": 1, "mac": "a"}), (D2, {"seq": 2, "mac": "b"}), (D3, {"seq": 3})]
    for day, event in events:
        records.audit.append(day, event)
        records.audit.set_head({"seq": event["seq"], "mac": event.get("mac", "")})
    records.audit.append(D1, {"seq": 4, "mac": "late"})  # filed under an older day
    assert list(records.audit.events()) == [(D1, {"seq": 4, "mac": "late"}), *events]
    assert records.audit.on(D2) == [{"seq": 1, "mac": "a"}, {"seq": 2, "mac": "b"}]
    assert records.audit.on(date(2020, 1, 1)) == []
    assert records.audit.last() == (D3, {"seq": 3})
    assert records.audit.head() == {"seq": 3, "mac": ""}


def test_a_writer_refuses_an_audit_log_whose_newest_events_are_missing(records):
    records.audit.append(D2, {"seq": 1})
    records.audit.set_head({"seq": 3, "mac": "c"})
    with pytest.raises(StorageCorrupt, match="head names event 3, the newest stored is 1"):
        records.audit.last()


def test_z_reports_once_per_day_and_merchant(records):
    home, shop2 = records.closings(), records.closings("SHOP2")
    assert home.get(D2) is None and home.closed_at(D2) is None
    home.add(D2, {"number": 2, "closed_at": "2026-11-28T23:00:00+05:30"})
    home.add(D1, {"number": 1, "closed_at": "2026-11-27T23:00:00+05:30"})
    with pytest.raises(ValueError, match="already closed"):
        home.add(D2, {"number": 3, "closed_at": "2026-11-28T23:30:00+05:30"})
    assert home.closed_at(D2) == datetime.fromisoformat("2026-11-28T23:00:00+05:30")
    assert [r["number"] for r in home.all()] == [1, 2]
    assert records.closings("HOME").get(D1) == home.get(D1)
    assert shop2.get(D2) is None and shop2.all() == []


def test_tokens_by_token_and_by_every_fingerprint(records):
    first = {"token": "tok1", "fingerprints": {"1": "fp1"}, "v": 1}
    assert records.tokens.add(first) == first
    records.tokens.add({"token": "tok2", "fingerprints": {"1": "fp2"}, "v": 1})
    records.tokens.replace({"token": "tok1", "fingerprints": {"1": "fp1", "2": "fp1b"}, "v": 2})
    assert records.tokens.get("tok1")["v"] == 2 and records.tokens.get("nope") is None
    assert records.tokens.find_by_fingerprint("fp1")["token"] == "tok1"
    assert records.tokens.find_by_fingerprint("fp1b")["v"] == 2
    assert records.tokens.find_by_fingerprint("fp9") is None
    assert [t["token"] for t in records.tokens.all()] == ["tok1", "tok2"]


def test_users_per_merchant_the_homes_without_a_merchant_id(records):
    users = records.users
    users.add(None, {"id": "asha", "failed": 0})
    users.add("SHOP2", {"id": "asha", "failed": 0})
    users.add("SHOP2", {"id": "ravi", "failed": 0})
    users.update("SHOP2", "asha", {"failed": 2})
    users.update("SHOP2", "nobody", {"failed": 2})
    assert users.get("HOME", "asha") == users.get(None, "asha") == {"id": "asha", "failed": 0}
    assert users.get("SHOP2", "asha") == {"id": "asha", "failed": 2, "merchant_id": "SHOP2"}
    assert users.get("SHOP3", "asha") is None
    assert [u["id"] for u in users.list("SHOP2")] == ["asha", "ravi"]
    assert [u["id"] for u in users.list(None)] == ["asha"]


def test_api_keys_in_the_order_issued(records):
    records.api_keys.add({"id": "k1", "terminal_id": "T1", "revoked": False})
    records.api_keys.add({"id": "k2", "terminal_id": "T2", "revoked": False})
    records.api_keys.update("k1", {"revoked": True})
    assert records.api_keys.get("k1")["revoked"] is True and records.api_keys.get("k3") is None
    assert [k["id"] for k in records.api_keys.all()] == ["k1", "k2"]


def test_risk_state_keeps_each_merchants_ticket(records):
    risk = records.risk
    risk.add_ticket("HOME", "INR", 100)
    risk.add_ticket(None, "INR", 300)
    risk.add_ticket("SHOP2", "INR", 50)
    risk.add_event("SHOP2", {"fingerprint": "f", "day": "2026-11-28"})
    risk.add_event(None, {"fingerprint": "g", "day": "2026-11-28"})
    risk.add_block(None, {"key": "T1"})
    risk.add_block("SHOP2", {"key": "T2"})
    assert risk.ticket(None, "INR") == {"currency": "INR", "count": 2, "sum": 400}
    assert risk.ticket("SHOP2", "INR") == {
        "currency": "INR",
        "count": 1,
        "sum": 50,
        "merchant_id": "SHOP2",
    }
    assert risk.ticket("HOME", "USD") is None
    assert list(risk.events()) == [
        {"fingerprint": "f", "day": "2026-11-28", "merchant_id": "SHOP2"},
        {"fingerprint": "g", "day": "2026-11-28"},
    ]
    assert risk.blocks() == [{"key": "T1"}, {"key": "T2", "merchant_id": "SHOP2"}]


def test_idempotency_keys_age_out_and_open_payments_are_let_go(records):
    keys = records.idempotency
    now = datetime(2026, 11, 28, 10, 0)
    keys.add({"key": "old", "payment_id": "p0", "created_at": now.isoformat()})
    later = (now + timedelta(days=8)).isoformat()
    keys.add({"key": "new", "payment_id": "p1", "created_at": later})
    keys.remove_before(now + timedelta(days=1))
    assert keys.get("old") is None and keys.get("new")["payment_id"] == "p1"
    open_ = records.open_payments
    for pid in ("p1", "p2", "p3"):
        open_.add(pid)
    open_.discard("p2")
    open_.discard("p9")
    assert open_.ids() == ["p1", "p3"] and open_.take_over() == []  # no other process


def _shift(sid: str, terminal: str, opened: str, **more) -> dict:
    return {
        "id": sid,
        "merchant_id": "HOME",
        "terminal_id": terminal,
        "status": "open",
        "day": "2026-11-28",
        "opened_at": opened,
        "expected": 1000,
        **more,
    }


def test_shifts_and_their_drawer_moves(records):
    shifts = records.shifts
    shifts.add(_shift("s2", "T2", "2026-11-28T09:00"), {"shift_id": "s2", "amount": 1000})
    shifts.add(
        _shift("s1", "T1", "2026-11-27T09:00", day="2026-11-27"), {"shift_id": "s1", "amount": 5}
    )
    shifts.add_move({"shift_id": "s2", "amount": -300, "refund_id": "r1"}, 700)
    assert shifts.get("s2")["expected"] == 700 and shifts.get("s9") is None
    assert shifts.open_on("HOME", "T2")["id"] == "s2" and shifts.open_on("HOME", "T3") is None
    assert shifts.open_on("SHOP2", "T2") is None
    shifts.update("s1", {"status": "closed"})
    assert shifts.open_on("HOME", "T1") is None
    assert [s["id"] for s in shifts.of_merchant("HOME")] == ["s1", "s2"]
    assert [s["id"] for s in shifts.of_merchant("HOME", D1)] == ["s1", "s2"]
    assert [s["id"] for s in shifts.of_merchant("HOME", D3)] == ["s2"]
    assert [m["amount"] for m in shifts.moves("s2")] == [1000, -300]
    assert shifts.refund_move("r1")["amount"] == -300 and shifts.refund_move("r2") is None


def test_bills_by_day_the_open_ones_and_their_keys(records):
    bills = records.bills
    with records.unit(D2):
        bills.save(D2, {"id": "b1", "status": "open"})
        bills.add_key("key-1", "b1")
    bills.save(D2, {"id": "b2", "status": "open"})
    bills.save(D2, {"id": "b1", "status": "canceling"})
    bills.save(D2, {"id": "b2", "status": "paid"})
    assert bills.open_ids() == ["b1"]
    assert bills.get(D2, "b2")["status"] == "paid" and bills.get(D3, "b2") is None
    assert [b["id"] for b in bills.for_day(D2)] == ["b1", "b2"] and bills.for_day(D3) == []
    assert bills.by_key("key-1") == "b1" and bills.by_key("key-2") is None


def test_failed_authentications_age_out(records):
    failed = records.failed_auth
    failed.record("10.0.0.1", T0, since=T0 - timedelta(minutes=15))
    failed.record("10.0.0.2", T0 + timedelta(minutes=1), since=T0 - timedelta(minutes=14))
    failed.record("10.0.0.1", T0 + timedelta(minutes=2), since=T0 - timedelta(minutes=13))
    assert failed.failures("10.0.0.1") == [T0, T0 + timedelta(minutes=2)]
    later = T0 + timedelta(minutes=20)
    failed.record("10.0.0.3", later, since=later - timedelta(minutes=15))
    assert failed.failures("10.0.0.1") == [] and failed.failures("10.0.0.2") == []
    assert failed.failures("10.0.0.3") == [later]


def test_a_unit_is_all_or_nothing(records):
    with records.unit(D2):
        records.payments.save(D2, _pay("p1"))
        records.audit.append(D2, {"seq": 1})
        records.audit.set_head({"seq": 1, "mac": ""})
    with pytest.raises(RuntimeError), records.unit(D2):
        records.payments.save(D2, _pay("p1", "captured"))
        records.payments.save(D2, _pay("p2"))
        records.open_payments.add("p2")
        records.audit.append(D2, {"seq": 2})
        records.audit.set_head({"seq": 2, "mac": ""})
        raise RuntimeError("the block fails")
    assert records.payments.for_day(D2) == [_pay("p1")]
    assert records.open_payments.ids() == [] and records.audit.on(D2) == [{"seq": 1}]
    assert records.audit.head() == {"seq": 1, "mac": ""}
    records.sync()


def test_a_day_pages_newest_first_after_a_cursor(records):
    for i in range(5):
        at = f"2026-11-28T10:0{i}:00+00:00"
        records.payments.save(D2, _pay(f"p{i}", created_at=at, merchant_id="HOME"))
    late = "2026-11-28T10:09:00+00:00"
    records.payments.save(D2, _pay("q", created_at=late, merchant_id="OTHER"))
    first = records.payments.page(D2, "HOME", None, 2)
    assert [p["id"] for p in first] == ["p4", "p3"]
    cursor = (first[-1]["created_at"], first[-1]["id"])
    assert [p["id"] for p in records.payments.page(D2, "HOME", cursor, 10)] == ["p2", "p1", "p0"]
    assert [p["id"] for p in records.payments.page(D2, None, None, 2)] == ["q", "p4"]
    assert records.payments.page(D3, "HOME", None, 5) == []


def test_running_totals_add_up_and_are_rebuilt_when_stale(records):
    taken = TallyKey("HOME", "taken", method="card", currency="INR", status="succeeded")
    seen, basis = TallyKey("", "seen", code="payments"), TallyKey("", "basis", code="b1")
    rebuilt = {taken: TallySums(1, 1250), seen: TallySums(1), basis: TallySums(1)}
    rebuilds: list[str] = []

    def rebuild() -> dict:
        rebuilds.append("rebuilt")
        return rebuilt

    assert records.tallies.kept(D2, "HOME", "b1", rebuild) == {}  # no data: nothing made
    records.payments.save(D2, _pay("p1"))  # a payment the totals have not seen
    assert records.tallies.kept(D2, "HOME", "b1", rebuild) == {taken: TallySums(1, 1250)}
    assert records.tallies.kept(D2, "HOME", "b1", rebuild) == {taken: TallySums(1, 1250)}
    assert len(rebuilds) == 1  # the second read found them fresh
    with records.unit(D2):
        records.payments.save(D2, _pay("p2"))
        records.tallies.add(D2, {taken: TallySums(1, 1250), seen: TallySums(1)})
    assert records.tallies.kept(D2, "HOME", "b1", rebuild) == {taken: TallySums(2, 2500)}
    assert len(rebuilds) == 1
    records.tallies.kept(D2, "HOME", "another fee basis", rebuild)
    assert len(rebuilds) == 2
