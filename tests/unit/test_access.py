"""Users, PINs, lockouts and manager approvals."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from gateway_core.access import (
    DEMO_USERS,
    Access,
    AccessError,
    NotPermitted,
    UnknownUser,
    UserLocked,
    WrongPin,
)
from gateway_core.store.state import TinyUserRepository

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def access(runtime, clock) -> Access:
    access = Access(
        TinyUserRepository(runtime.store), runtime.audit, clock, tz=runtime.settings.tz, hasher=FAST
    )
    access.seed_demo()
    return access


def actions(runtime, subject: str) -> list[str]:
    return [e["action"] for _d, e in runtime.audit._repo.events() if e["subject"] == subject]


def test_demo_users_log_in_with_their_pins(access):
    for user_id, _name, role, pin, _hash in DEMO_USERS:
        assert access.login(user_id, pin).role == role


def test_five_wrong_pins_lock_for_fifteen_minutes(access, clock, runtime):
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongPin, match=f"{left} tr"):
            access.login("asha", "0000")
    with pytest.raises(UserLocked, match="locked until 10:15"):
        access.login("asha", "0000")
    with pytest.raises(UserLocked):  # even the right PIN waits for the lock
        access.login("asha", "1111")
    clock.advance(minutes=14, seconds=59)
    with pytest.raises(UserLocked):
        access.login("asha", "1111")
    clock.advance(seconds=1)
    assert access.login("asha", "1111").failed == 0
    assert actions(runtime, "asha").count("user.wrong_pin") == 4
    assert "user.locked" in actions(runtime, "asha")
    assert "user.refused_locked" in actions(runtime, "asha")


def test_a_right_pin_resets_the_count(access):
    for _ in range(4):
        with pytest.raises(WrongPin):
            access.login("ravi", "9999")
    access.login("ravi", "2222")
    with pytest.raises(WrongPin, match="4 tries left"):
        access.login("ravi", "9999")


def test_unknown_user_is_refused_and_audited(access, runtime):
    with pytest.raises(UnknownUser, match="no user 'nobody'"):
        access.login("nobody", "1234")
    assert actions(runtime, "nobody") == ["user.unknown"]


def test_only_managers_and_admins_approve(access, runtime):
    with pytest.raises(NotPermitted, match="a manager must approve"):
        access.approve("asha", "1111", action="refund", subject="pay_x", operator="ravi")
    assert access.approve("meera", "4321", action="refund", subject="pay_x", operator="ravi")
    assert access.approve("owner", "9876", action="void", subject="pay_y", operator="asha")
    with pytest.raises(WrongPin):
        access.approve("meera", "0000", action="void", subject="pay_y", operator="asha")
    assert actions(runtime, "pay_x") == ["approval.refused", "approval.granted"]


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "١٢٣٤", "", " 1234"])
def test_pins_are_four_to_eight_ascii_digits(access, pin):
    with pytest.raises(AccessError, match="4 to 8 digits"):
        access.add("new", "New", "cashier", pin, actor="owner")
    with pytest.raises(UnknownUser):
        access.get("new")


def test_add_lock_unlock_reset(access, clock):
    access.add("kiran", "Kiran", "cashier", "5555", actor="owner")
    with pytest.raises(AccessError, match="already exists"):
        access.add("kiran", "Kiran", "cashier", "5555", actor="owner")
    with pytest.raises(AccessError, match="role"):
        access.add("x", "X", "boss", "5555", actor="owner")  # type: ignore[arg-type]
    access.lock("kiran", actor="owner")
    with pytest.raises(UserLocked):
        access.login("kiran", "5555")
    access.unlock("kiran", actor="owner")
    access.reset_pin("kiran", "6666", actor="owner")
    with pytest.raises(WrongPin):
        access.login("kiran", "5555")
    assert access.login("kiran", "6666").id == "kiran"


def test_no_pin_reaches_any_file(access, runtime, settings):
    access.add("zed", "Zed", "manager", "73915", actor="owner")
    runtime.close()
    for path in settings.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"73915" not in data, path
            assert b'"pin"' not in data
    # and the scan can fail: the hash is there, the PIN is not
    main = (settings.data_dir / "db" / "main.snapshot.json").read_bytes()
    assert b"$argon2" in main
