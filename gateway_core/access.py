"""Who is at the terminal: users, roles, PINs, lockouts and manager approvals.

Roles: `cashier` takes payments; `manager` also approves voids and refunds and opens
the merchant pane; `admin` (merchant admin) also manages users. PINs are 4-8 digits,
kept only as argon2 hashes. Five wrong PINs lock a user for 15 minutes. Every login,
failure, lock, approval and refusal is audited.

Users belong to one merchant: each merchant has its own users (ids are unique within a
merchant), and one merchant's users can neither sign in nor approve at another's. A user
record without a merchant id (written before merchants were told apart) belongs to the
home merchant, the settings' `merchant_id`, and the home merchant's records are still
written without one, so a single-merchant data dir keeps its format.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel

from gateway_core.audit import AuditLog
from gateway_core.clock import Clock
from gateway_core.errors import InputError
from gateway_core.ports import Record, UserRepository
from gateway_core.presentation import time_text

Role = Literal["cashier", "manager", "admin"]
ROLES: tuple[Role, ...] = ("cashier", "manager", "admin")
APPROVERS = frozenset({"manager", "admin"})
ADMINS = frozenset({"admin"})
MAX_TRIES = 5
LOCK_FOR = timedelta(minutes=15)

# Demo users (README lists them): id, name, role, PIN, and the PIN's argon2 hash made
# once ahead of time, so seeding a data dir costs no hashing. Change them with
# `paygate users reset-pin` anywhere real money would be at stake.
DEMO_USERS: tuple[tuple[str, str, Role, str, str], ...] = (
    (
        "asha",
        "Asha (cashier)",
        "cashier",
        "1111",
        "$argon2id$v=19$m=65536,t=3,p=4$rQl67/zOIk9TqyLX2d92Uw$RmvNrt+BZvs8qIrVilIp/SyW/jx6HdP2dB6kIZYPPyE",
    ),
    (
        "ravi",
        "Ravi (cashier)",
        "cashier",
        "2222",
        "$argon2id$v=19$m=65536,t=3,p=4$9DkMfjxGCZq4AIg9sAQmBg$jDhXkVfx29JNEIxEDA4zATxu+otm2gjoRiE1dlyD+D0",
    ),
    (
        "meera",
        "Meera (manager)",
        "manager",
        "4321",
        "$argon2id$v=19$m=65536,t=3,p=4$krkrq61/F8vkEjSJ8mcJ4g$MCcYAxNoCqTZNOKGqTJUAiGV7y5z1ZPk63TPB4eOYiI",
    ),
    (
        "owner",
        "Owner (merchant admin)",
        "admin",
        "9876",
        "$argon2id$v=19$m=65536,t=3,p=4$PBm14mGX+ftNxZWEOLqeRQ$bWqRYSGBDPc5ra6OiSLIDlQtTGf1jOYm3BanYeieQuw",
    ),
)


class AccessError(InputError):
    """A login or approval refused: one line for the cashier."""


class UnknownUser(AccessError):
    """No user with that id."""


class WrongPin(AccessError):
    """The PIN did not match."""


class UserLocked(AccessError):
    """Too many wrong PINs: locked until a time."""


class NotPermitted(AccessError):
    """The user's role does not allow this."""


class User(BaseModel):
    """A user as others may see it: never the PIN or its hash."""

    id: str
    name: str
    role: Role
    failed: int = 0
    locked_until: datetime | None = None


def check_pin(pin: str) -> str:
    """A PIN must be 4 to 8 ASCII digits."""
    if not (isinstance(pin, str) and pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
        raise AccessError("a PIN is 4 to 8 digits")
    return pin


class Access:
    """The users of one merchant, checked against argon2 hashes."""

    def __init__(
        self,
        users: UserRepository,
        audit: AuditLog,
        clock: Clock,
        *,
        tz: tzinfo | None = None,
        hasher: PasswordHasher | None = None,
        merchant_id: str | None = None,
        home: str | None = None,
    ) -> None:
        """`merchant_id`: whose users (default: `home`, the merchant that owns the records
        with no merchant id)."""
        self._users = users
        self._audit = audit
        self._clock = clock
        self._tz = tz
        self._hasher = hasher or PasswordHasher()
        self.merchant_id, self._home = merchant_id or home, home

    def of(self, merchant_id: str) -> Access:
        """The users of another merchant, over the same table."""
        if merchant_id == self.merchant_id:
            return self
        return Access(
            self._users,
            self._audit,
            self._clock,
            tz=self._tz,
            hasher=self._hasher,
            merchant_id=merchant_id,
            home=self._home,
        )

    # -- reading -------------------------------------------------------------------------
    def _doc(self, user_id: str) -> Record:
        doc = self._users.get(self.merchant_id, user_id)
        if doc is None:
            raise UnknownUser(f"no user {user_id!r}")
        return doc

    def get(self, user_id: str) -> User:
        """A user by id."""
        return User.model_validate(self._doc(user_id))

    def list(self) -> list[User]:
        """Every user, in the order they were added."""
        return [User.model_validate(doc) for doc in self._users.list(self.merchant_id)]

    # -- managing users ----------------------------------------------------------------------
    def add(self, user_id: str, name: str, role: Role, pin: str, *, actor: str) -> User:
        """Create a user (ids are unique, lower-case letters, digits, '-' and '_')."""
        if not user_id or not all(c.isascii() and (c.isalnum() or c in "-_") for c in user_id):
            raise AccessError("a user id is letters, digits, '-' or '_'")
        if role not in ROLES:
            raise AccessError(f"a role is one of {', '.join(ROLES)}")
        if self._users.get(self.merchant_id, user_id) is not None:
            raise AccessError(f"user {user_id!r} already exists")
        record = {
            "id": user_id,
            "name": name,
            "role": role,
            "failed": 0,
            "locked_until": None,
            "pin_hash": self._hasher.hash(check_pin(pin)),
        }
        self._users.add(self.merchant_id, record)
        self._audit.record(actor, "user.added", user_id, role=role)
        return User.model_validate(record)

    def seed_demo(self) -> None:
        """Add the demo users that are missing (their hashes are precomputed)."""
        for user_id, name, role, _pin, pin_hash in DEMO_USERS:
            if self._users.get(self.merchant_id, user_id) is None:
                self._users.add(
                    self.merchant_id,
                    {
                        "id": user_id,
                        "name": name,
                        "role": role,
                        "failed": 0,
                        "locked_until": None,
                        "pin_hash": pin_hash,
                    },
                )
                self._audit.record("system", "user.added", user_id, role=role)

    def reset_pin(self, user_id: str, pin: str, *, actor: str) -> User:
        """Set a new PIN and clear any lock."""
        self._doc(user_id)
        self._update(
            user_id, pin_hash=self._hasher.hash(check_pin(pin)), failed=0, locked_until=None
        )
        self._audit.record(actor, "user.pin_reset", user_id)
        return self.get(user_id)

    def lock(self, user_id: str, *, actor: str, until: datetime | None = None) -> User:
        """Lock a user (by default for the standard 15 minutes)."""
        self._doc(user_id)
        until = until or self._clock.now() + LOCK_FOR
        self._update(user_id, locked_until=until.isoformat())
        self._audit.record(actor, "user.locked", user_id, until=until.isoformat())
        return self.get(user_id)

    def unlock(self, user_id: str, *, actor: str) -> User:
        """Lift a lock and forget the wrong tries."""
        self._doc(user_id)
        self._update(user_id, failed=0, locked_until=None)
        self._audit.record(actor, "user.unlocked", user_id)
        return self.get(user_id)

    def _update(self, user_id: str, **fields: Any) -> None:
        self._users.update(self.merchant_id, user_id, fields)

    # -- checking PINs ------------------------------------------------------------------------
    def login(self, user_id: str, pin: str) -> User:
        """Check a user's PIN; five wrong in a row lock the user for 15 minutes."""
        user = self._verify(user_id, pin, action="login")
        self._audit.record(user_id, "user.login", user_id)
        return user

    def approve(
        self,
        approver_id: str,
        pin: str,
        *,
        action: str,
        subject: str,
        operator: str,
        roles: frozenset[str] = APPROVERS,
    ) -> User:
        """An approval of `action` on `subject` for `operator` by a user holding one of
        `roles` (a manager or admin by default; user management needs an admin)."""
        approver = self._verify(approver_id, pin, action=f"approve {action}")
        if approver.role not in roles:
            needed = "an admin" if roles == ADMINS else "a manager"
            self._audit.record(
                approver_id,
                "approval.refused",
                subject,
                approved=action,
                operator=operator,
                reason=f"not {needed}",
            )
            raise NotPermitted(f"{approver.name} is a {approver.role}: {needed} must approve")
        self._audit.record(
            approver_id, "approval.granted", subject, approved=action, operator=operator
        )
        return approver

    def _verify(self, user_id: str, pin: str, *, action: str) -> User:
        try:
            doc = self._doc(user_id)
        except UnknownUser:
            self._audit.record(user_id, "user.unknown", user_id, attempted=action)
            raise
        now = self._clock.now()
        locked = doc["locked_until"] and datetime.fromisoformat(doc["locked_until"]) > now
        if locked:
            self._audit.record(user_id, "user.refused_locked", user_id, attempted=action)
            raise UserLocked(f"{doc['name']} is locked until {self._hhmm(doc['locked_until'])}")
        if doc["locked_until"]:  # an expired lock: start afresh
            doc.update(failed=0, locked_until=None)
            self._update(user_id, failed=0, locked_until=None)
        if self._matches(doc["pin_hash"], pin):
            if doc["failed"]:
                self._update(user_id, failed=0)
            return User.model_validate({**doc, "failed": 0})
        failed = doc["failed"] + 1
        if failed >= MAX_TRIES:
            until = now + LOCK_FOR
            self._update(user_id, failed=failed, locked_until=until.isoformat())
            self._audit.record(
                user_id,
                "user.locked",
                user_id,
                until=until.isoformat(),
                after=f"{failed} wrong PINs",
            )
            raise UserLocked(f"wrong PIN: {doc['name']} is locked until {self._hhmm(until)}")
        self._update(user_id, failed=failed)
        self._audit.record(user_id, "user.wrong_pin", user_id, attempted=action, failed=failed)
        left = MAX_TRIES - failed
        raise WrongPin(f"wrong PIN: {left} {'try' if left == 1 else 'tries'} left")

    def _hhmm(self, when: datetime | str) -> str:
        when = datetime.fromisoformat(when) if isinstance(when, str) else when
        return time_text(when, self._tz, seconds=False)

    def _matches(self, pin_hash: str, pin: str) -> bool:
        try:
            return self._hasher.verify(pin_hash, pin)
        except (VerificationError, InvalidHashError):
            return False
