"""The storage ports: every TinyDB repository and the key file satisfy their Protocol in
`gateway_core.ports`, and nothing outside `gateway_core/store/` imports tinydb."""

from __future__ import annotations

import functools
import inspect
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway_core import ports
from gateway_core.keys import Keyring
from gateway_core.pgstore import PgRecords
from gateway_core.pgstore import repos as pg
from gateway_core.pgstore import state as pg_state
from gateway_core.pgstore import work as pg_work
from gateway_core.store import DataStore
from gateway_core.store.auth_failures import TinyFailedAuthRepository
from gateway_core.store.bills import TinyBillRepository
from gateway_core.store.documents import Documents
from gateway_core.store.records import TinyRecords
from gateway_core.store.repos import (
    TinyAuditRepository,
    TinyClosingRepository,
    TinyPaymentRepository,
    TinyRefundRepository,
    TinyTokenRepository,
)
from gateway_core.store.shifts import TinyShiftRepository
from gateway_core.store.state import (
    TinyApiKeyRepository,
    TinyIdempotencyRepository,
    TinyOpenPaymentRepository,
    TinyRiskRepository,
    TinyUserRepository,
)
from gateway_core.store.tallies import TinyTallyRepository

ROOT = Path(__file__).resolve().parents[2]

PG_ADAPTERS: list[tuple[type, type]] = [  # the PostgreSQL backend's (gateway_core.pgstore)
    (ports.PaymentRepository, pg.PgPaymentRepository),
    (ports.RefundRepository, pg.PgRefundRepository),
    (ports.AuditRepository, pg.PgAuditRepository),
    (ports.ClosingRepository, pg.PgClosingRepository),
    (ports.TokenRepository, pg.PgTokenRepository),
    (ports.UserRepository, pg_state.PgUserRepository),
    (ports.ApiKeyRepository, pg_state.PgApiKeyRepository),
    (ports.RiskRepository, pg_state.PgRiskRepository),
    (ports.IdempotencyRepository, pg_state.PgIdempotencyRepository),
    (ports.OpenPaymentRepository, pg_state.PgOpenPaymentRepository),
    (ports.FailedAuthRepository, pg_state.PgFailedAuthRepository),
    (ports.ShiftRepository, pg_work.PgShiftRepository),
    (ports.BillRepository, pg_work.PgBillRepository),
    (ports.Records, PgRecords),
]

ADAPTERS: list[tuple[type, type]] = [
    (ports.PaymentRepository, TinyPaymentRepository),
    (ports.RefundRepository, TinyRefundRepository),
    (ports.AuditRepository, TinyAuditRepository),
    (ports.ClosingRepository, TinyClosingRepository),
    (ports.TokenRepository, TinyTokenRepository),
    (ports.UserRepository, TinyUserRepository),
    (ports.ApiKeyRepository, TinyApiKeyRepository),
    (ports.RiskRepository, TinyRiskRepository),
    (ports.IdempotencyRepository, TinyIdempotencyRepository),
    (ports.OpenPaymentRepository, TinyOpenPaymentRepository),
    (ports.FailedAuthRepository, TinyFailedAuthRepository),
    (ports.ShiftRepository, TinyShiftRepository),
    (ports.BillRepository, TinyBillRepository),
    (ports.Records, TinyRecords),
    (ports.TallyRepository, TinyTallyRepository),
    (ports.DocumentTable, Documents),
    (ports.KeyProvider, Keyring),
    *PG_ADAPTERS,
]

# Modules outside the store that still import tinydb, each with who removes the import.
STILL_IMPORTING = {"gateway_core/gateway.py"}  # idempotency and open payments: tender change


def _members(protocol: type) -> dict[str, Any]:
    return {
        name: value
        for name, value in vars(protocol).items()
        if (not name.startswith("_") or name in ("__len__", "__iter__"))
        and (callable(value) or isinstance(value, property))
    }


def _shape(function: Any) -> list[tuple[str, Any]]:
    return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize(("port", "adapter"), ADAPTERS, ids=lambda c: c.__name__)
def test_each_adapter_has_every_member_of_its_port_with_the_same_parameters(port, adapter):
    members = _members(port)
    assert members, f"{port.__name__} declares nothing"
    for name, declared in members.items():
        offered = inspect.getattr_static(adapter, name, None)
        assert offered is not None, f"{adapter.__name__} lacks {name}"
        if isinstance(declared, property):
            made_once = (property, functools.cached_property)
            assert isinstance(offered, made_once), f"{adapter.__name__}.{name} is no property"
        else:
            assert _shape(offered) == _shape(declared), f"{adapter.__name__}.{name}"


def test_nothing_outside_the_store_imports_tinydb():
    importing = {
        str(path.relative_to(ROOT))
        for package in ("gateway_core", "bank_sim", "paygate_cli", "pos_app")
        for path in (ROOT / package).rglob("*.py")
        if "gateway_core/store/" not in str(path.relative_to(ROOT))
        and re.search(r"^\s*(from|import) tinydb\b", path.read_text(), re.MULTILINE)
    }
    assert importing <= STILL_IMPORTING


# -- Documents, the generic table --------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path):
    with DataStore(tmp_path / "data") as opened:
        yield opened


def test_documents_are_found_by_their_key_put_and_updated(store):
    table = Documents(store.main, "accounts", key="id")
    assert not table and table.get("a") is None
    table.add({"id": "a", "n": 1})
    table.put({"id": "b", "n": 2})
    table.put({"id": "a", "n": 3})
    table.update("b", {"n": 4})
    table.update("missing", {"n": 5})  # nothing to change: nothing written
    assert list(table) == [{"id": "a", "n": 3}, {"id": "b", "n": 4}]
    again = Documents(store.main, "accounts", key="id")  # its index built from the table
    assert again.get("b") == {"id": "b", "n": 4} and len(again) == 2
    got = again.get("a")
    got["n"] = 99  # a copy: the stored document is untouched
    assert again.get("a") == {"id": "a", "n": 3}


def test_documents_are_searched_changed_and_removed_by_field_values(store):
    table = Documents(store.main, "otp", key="id")
    for i, status in enumerate(["pending", "authenticated", "failed"]):
        table.add({"id": f"c{i}", "payment_id": "p1", "status": status})
    table.add({"id": "c3", "payment_id": "p2", "status": "pending"})
    assert [d["id"] for d in table.where(payment_id="p1")] == ["c0", "c1", "c2"]
    assert table.find(status="pending") == {"id": "c0", "payment_id": "p1", "status": "pending"}
    assert table.find(status="redeemed") is None
    table.update_where(
        {"status": "replaced"},
        lambda d: d["payment_id"] == "p1" and d["status"] in ("pending", "authenticated"),
    )
    assert [d["status"] for d in table] == ["replaced", "replaced", "failed", "pending"]
    table.remove_where(lambda d: d["payment_id"] == "p1")
    assert [d["id"] for d in table] == ["c3"] and table.get("c0") is None
    assert table.get("c3") is not None


def test_a_single_document_table_and_a_table_without_a_key(store):
    counter = Documents(store.main, "counter")
    assert counter.single() is None
    counter.set_single({"stan": 1})
    counter.set_single({"stan": 2})
    assert counter.single() == {"stan": 2} and len(counter) == 1
    with pytest.raises(TypeError, match="no key field"):
        counter.get("x")


def test_a_rolled_back_write_leaves_no_stale_index_entry(store):
    table = Documents(store.main, "holds", key="rrn")
    table.add({"rrn": "r1"})
    assert table.get("r1") == {"rrn": "r1"}  # the index is built
    with pytest.raises(RuntimeError), store.main.journal.atomic():
        table.add({"rrn": "r2"})
        raise RuntimeError("the block fails")
    assert table.get("r2") is None
    table.put({"rrn": "r2", "live": 1})  # stored now, not lost to the stale entry
    assert table.get("r2") == {"rrn": "r2", "live": 1}


# -- the gateway's own state -------------------------------------------------------------------


def test_users_are_kept_per_merchant_and_the_homes_without_a_merchant_id(store):
    users = TinyUserRepository(store, home="HOME")
    users.add(None, {"id": "asha", "failed": 0})
    users.add("SHOP2", {"id": "asha", "failed": 0})
    users.update("SHOP2", "asha", {"failed": 2})
    assert users.get("HOME", "asha") == users.get(None, "asha") == {"id": "asha", "failed": 0}
    assert users.get("SHOP2", "asha") == {"id": "asha", "failed": 2, "merchant_id": "SHOP2"}
    assert users.get("SHOP3", "asha") is None
    assert [u["id"] for u in users.list("SHOP2")] == ["asha"]


def test_risk_state_keeps_each_merchants_ticket(store):
    risk = TinyRiskRepository(store, home="HOME")
    risk.add_ticket("HOME", "INR", 100)
    risk.add_ticket("HOME", "INR", 300)
    risk.add_ticket("SHOP2", "INR", 50)
    risk.add_event("SHOP2", {"fingerprint": "f"})
    risk.add_block(None, {"key": "T1"})
    assert risk.ticket(None, "INR") == {"currency": "INR", "count": 2, "sum": 400}
    assert risk.ticket("SHOP2", "INR")["sum"] == 50 and risk.ticket("HOME", "USD") is None
    assert list(risk.events()) == [{"fingerprint": "f", "merchant_id": "SHOP2"}]
    assert risk.blocks() == [{"key": "T1"}]


def test_idempotency_keys_age_out_and_open_payments_are_let_go(store):
    keys = TinyIdempotencyRepository(store)
    now = datetime(2026, 11, 28, 10, 0)
    keys.add({"key": "old", "payment_id": "p0", "created_at": now.isoformat()})
    keys.add(
        {"key": "new", "payment_id": "p1", "created_at": (now + timedelta(days=8)).isoformat()}
    )
    keys.remove_before(now + timedelta(days=1))
    assert keys.get("old") is None and keys.get("new")["payment_id"] == "p1"
    open_ = TinyOpenPaymentRepository(store)
    open_.add("p1")
    open_.add("p2")
    open_.discard("p1")
    open_.discard("p9")
    assert open_.ids() == ["p2"]


def test_idempotency_keys_are_found_by_index_after_a_rolled_back_write(store):
    """Keys are found through an index (no scan of the week's keys); a key whose write was
    rolled back is not found, and one added later under the same key is."""
    keys = TinyIdempotencyRepository(store)
    at = datetime(2026, 11, 28, 10, 0).isoformat()
    for n in range(50):
        keys.add({"key": f"k{n}", "payment_id": f"p{n}", "created_at": at})
    assert keys.get("k37")["payment_id"] == "p37" and keys.get("k50") is None
    with pytest.raises(RuntimeError), store.unit():
        keys.add({"key": "lost", "payment_id": "p-lost", "created_at": at})
        raise RuntimeError("the unit fails")
    assert keys.get("lost") is None
    keys.add({"key": "lost", "payment_id": "p-again", "created_at": at})
    assert keys.get("lost")["payment_id"] == "p-again"
    assert TinyIdempotencyRepository(store).get("lost")["payment_id"] == "p-again"


def test_the_audit_events_of_one_day(store, clock):
    audit = TinyAuditRepository(store)
    day = date(2026, 11, 28)
    audit.append(day, {"seq": 1})
    assert audit.on(day) == [{"seq": 1}]
    assert audit.on(day + timedelta(days=1)) == []
    assert not store.has_day(day + timedelta(days=1))  # a lookup creates nothing
