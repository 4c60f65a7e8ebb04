"""The key file and the token vault: file modes, keyed fingerprints, AES-GCM, rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import stat
import typing
from pathlib import Path

import orjson
import pytest
from pydantic import SecretStr
from support import load_snapshot, open_runtime, save_snapshot

from bank_sim.demo import DEMO_CARDS
from gateway_core.audit import AuditLog
from gateway_core.cards import CardData, CardInput, check_card
from gateway_core.clock import FixedClock, business_day
from gateway_core.keys import KeyFileError, Keyring, KeyVersion
from gateway_core.ports import KeyProvider
from gateway_core.runtime import Runtime
from gateway_core.settings import Settings
from gateway_core.store.repos import TinyAuditRepository, TinyTokenRepository
from gateway_core.vault import UnknownToken, Vault, VaultTampered

VISA, MASTERCARD, AMEX = DEMO_CARDS[0], DEMO_CARDS[1], DEMO_CARDS[2]
START_ISO = "2026-11-28T10:00:00+05:30"  # the `clock` fixture
STORED_FIELDS = {
    "token",
    "fingerprints",
    "key_version",
    "brand",
    "bin6",
    "last4",
    "length",
    "expiry",
    "created",
    "nonce",
    "ciphertext",
}


def digits(pan: str) -> str:
    return pan.replace(" ", "").replace("-", "")


def card(pan: str, clock: FixedClock, expiry: str = "12/30", cvv: str = "123") -> CardData:
    keyed = CardInput(pan=SecretStr(pan), expiry=expiry, cvv=SecretStr(cvv))
    return check_card(keyed, business_day(clock)).without_cvv()


def demo(index: int, clock: FixedClock) -> CardData:
    c = DEMO_CARDS[index]
    return card(c.pan, clock, c.expiry, c.cvv)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def stored_tokens(settings: Settings) -> dict[str, dict]:
    """The tokens table as written to disk (the Runtime must be closed)."""
    snap = settings.data_dir / "db" / "main.snapshot.json"
    journal = settings.data_dir / "db" / "wal.jsonl"
    assert journal.stat().st_size == 0, "close the Runtime first: the log is not folded"
    return load_snapshot(snap)["tables"]["tokens"]


def edit_tokens(settings: Settings, edit: typing.Callable[[dict[str, dict]], None]) -> None:
    """Change the stored tokens table in place, as someone with file access could."""
    snap_path = settings.data_dir / "db" / "main.snapshot.json"
    tokens = stored_tokens(settings)
    edit(tokens)
    snap = load_snapshot(snap_path)
    snap["tables"]["tokens"] = tokens
    save_snapshot(snap_path, snap)


def by_token(tokens: dict[str, dict], token: str) -> dict:
    (record,) = [r for r in tokens.values() if r["token"] == token]
    return record


# ---------------------------------------------------------------------------- key file
def test_key_file_is_created_0600_in_a_0700_dir(runtime: Runtime, settings: Settings) -> None:
    key_file = settings.resolved_key_file
    assert key_file.is_file()
    assert mode(key_file) == 0o600
    assert mode(key_file.parent) == 0o700
    assert key_file.parent != settings.data_dir / "db"  # keys live apart from the data files


@pytest.mark.parametrize("unsafe", [0o640, 0o604, 0o644, 0o660, 0o606])
def test_key_file_open_to_other_users_is_refused(tmp_path: Path, unsafe: int) -> None:
    path = tmp_path / "keys" / "keyring.json"
    Keyring.open(path)
    path.chmod(unsafe)
    with pytest.raises(KeyFileError, match="chmod 600") as err:
        Keyring.open(path)
    assert str(path) in str(err.value)
    path.chmod(0o600)
    assert Keyring.open(path).current.version == 1


def test_missing_key_file_is_created_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "keyring.json"
    with pytest.raises(KeyFileError, match="does not exist"):
        Keyring.open(path, create=False)
    assert not path.exists()
    ring = Keyring.open(path)
    again = Keyring.open(path, create=False)
    assert [v.version for v in again.versions] == [1]
    assert again.current.enc == ring.current.enc
    assert again.current.fp == ring.current.fp
    assert again.current.audit == ring.current.audit


def _b64(n: int) -> str:
    return base64.b64encode(b"k" * n).decode()


def key_file_with(**fields: object) -> bytes:
    """A key file with one version, `fields` replacing the good values."""
    good = {"version": 1, "created": "x", "enc": _b64(32), "fp": _b64(32), "audit": _b64(32)}
    return orjson.dumps({"format": 1, "keys": [{**good, **fields}]})


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"[]",
        b'{"format": 1}',
        b'{"format": 1, "keys": []}',
        b'{"format": 1, "keys": [{"version": 1}]}',
        b'{"format": 1, "keys": ["v1"]}',
        key_file_with(enc="!!"),  # not base64
        key_file_with(enc=_b64(5)),  # a 40-bit key
        key_file_with(version="one"),
    ],
    ids=range(10),
)
def test_damaged_key_file_is_a_key_file_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "keyring.json"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match=r"damaged|no usable key"):
        Keyring.open(path)


def test_key_version_repr_shows_no_key_material(tmp_path: Path) -> None:
    key = Keyring.open(tmp_path / "keyring.json").current
    shown = repr(key) + str(key) + repr([key]) + f"{key}"
    assert "version=1" in shown
    for secret in (key.enc, key.fp, key.audit):
        for spelling in (secret.hex(), base64.b64encode(secret).decode(), repr(secret)):
            assert spelling not in shown
    assert isinstance(key, KeyVersion)


# ---------------------------------------------------------------------------- tokenize
def test_same_card_same_token_and_fingerprint(runtime: Runtime, clock: FixedClock) -> None:
    first = runtime.vault.tokenize(demo(0, clock))
    # keyed differently (no spaces, another CVV) it is still the same card
    again = runtime.vault.tokenize(card(digits(VISA.pan), clock, cvv="999"))
    assert again.token == first.token
    assert again.fingerprint == first.fingerprint
    assert len(list(runtime.vault._tokens.all())) == 1


def test_different_cards_get_different_tokens_and_fingerprints(
    runtime: Runtime, clock: FixedClock
) -> None:
    records = [runtime.vault.tokenize(demo(i, clock)) for i in range(len(DEMO_CARDS))]
    assert len({r.token for r in records}) == len(DEMO_CARDS)
    assert len({r.fingerprint for r in records}) == len(DEMO_CARDS)


def test_new_expiry_updates_the_same_token(runtime: Runtime, clock: FixedClock) -> None:
    old = runtime.vault.tokenize(card(VISA.pan, clock, expiry="12/30"))
    new = runtime.vault.tokenize(card(VISA.pan, clock, expiry="06/31"))
    assert new.token == old.token
    assert runtime.vault.get(old.token).expiry == "06/31"


def test_fingerprint_is_keyed_hmac_not_plain_sha256(runtime: Runtime, clock: FixedClock) -> None:
    record = runtime.vault.tokenize(demo(0, clock))
    pan = digits(VISA.pan).encode()
    fp_key = runtime.keyring.current.fp
    assert record.fingerprint == hmac.new(fp_key, pan, hashlib.sha256).hexdigest()
    assert record.fingerprint != hashlib.sha256(pan).hexdigest()
    # the fingerprint key is its own key, not the encryption or audit key
    for other in (runtime.keyring.current.enc, runtime.keyring.current.audit):
        assert record.fingerprint != hmac.new(other, pan, hashlib.sha256).hexdigest()


def test_token_record_holds_only_the_safe_parts(runtime: Runtime, clock: FixedClock) -> None:
    record = runtime.vault.tokenize(demo(2, clock))  # Amex, 15 digits
    assert record.token.startswith("tok_")
    assert (record.brand, record.bin6, record.last4) == ("amex", "378282", "0005")
    assert (record.length, record.expiry, record.key_version) == (15, "12/30", 1)
    assert record.created == START_ISO
    assert record.fingerprints == {"1": record.fingerprint}
    dumped = record.model_dump_json()
    assert digits(AMEX.pan) not in dumped
    assert "ciphertext" not in dumped and "nonce" not in dumped
    assert record.masked == "3782 82•••• •0005"


def test_cvv_cannot_reach_the_vault(
    runtime: Runtime, settings: Settings, clock: FixedClock
) -> None:
    hints = typing.get_type_hints(Vault.tokenize)
    assert hints["card"] is CardData
    assert "cvv" not in CardData.model_fields
    with pytest.raises(ValueError):
        CardData(**demo(0, clock).model_dump(), cvv=SecretStr("123"))
    for i in range(len(DEMO_CARDS)):
        runtime.vault.tokenize(demo(i, clock))
    runtime.close()
    for record in stored_tokens(settings).values():
        assert set(record) == STORED_FIELDS
        assert not any("cvv" in key.lower() or "cvc" in key.lower() for key in record)


# ---------------------------------------------------------------------------- reveal
def test_reveal_round_trips_the_pan_and_keeps_it_secret(
    runtime: Runtime, clock: FixedClock
) -> None:
    records = [runtime.vault.tokenize(demo(i, clock)) for i in range(len(DEMO_CARDS))]
    for c, record in zip(DEMO_CARDS, records, strict=True):
        revealed = runtime.vault.reveal(record.token)
        assert isinstance(revealed, SecretStr)
        assert revealed.get_secret_value() == digits(c.pan)
        assert digits(c.pan) not in repr(revealed) + str(revealed)


def test_unknown_token_is_an_input_error(runtime: Runtime) -> None:
    with pytest.raises(UnknownToken, match="tok_missing"):
        runtime.vault.reveal("tok_missing")


def test_pan_is_stored_only_as_ciphertext(
    runtime: Runtime, settings: Settings, clock: FixedClock
) -> None:
    record = runtime.vault.tokenize(demo(0, clock))
    runtime.close()
    stored = by_token(stored_tokens(settings), record.token)
    raw = base64.b64decode(stored["ciphertext"])
    assert digits(VISA.pan).encode() not in raw
    assert len(raw) == len(digits(VISA.pan)) + 16  # AES-GCM: plaintext + 16-byte tag
    assert len(base64.b64decode(stored["nonce"])) == 12


def _flip_one_bit(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[3] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("field", ["ciphertext", "nonce"])
def test_edited_ciphertext_is_detected(
    runtime: Runtime, settings: Settings, clock: FixedClock, field: str
) -> None:
    victim = runtime.vault.tokenize(demo(0, clock)).token
    bystander = runtime.vault.tokenize(demo(1, clock)).token
    runtime.close()

    def edit(tokens: dict[str, dict]) -> None:
        record = by_token(tokens, victim)
        record[field] = _flip_one_bit(record[field])

    edit_tokens(settings, edit)
    with open_runtime(settings, read_only=True) as rt:
        with pytest.raises(VaultTampered, match=victim) as err:
            rt.vault.reveal(victim)
        assert digits(VISA.pan) not in str(err.value)
        assert rt.vault.reveal(bystander).get_secret_value() == digits(MASTERCARD.pan)


def test_ciphertext_swapped_between_tokens_is_detected(
    runtime: Runtime, settings: Settings, clock: FixedClock
) -> None:
    a = runtime.vault.tokenize(demo(0, clock)).token
    b = runtime.vault.tokenize(demo(1, clock)).token
    runtime.close()

    def swap(tokens: dict[str, dict]) -> None:
        ra, rb = by_token(tokens, a), by_token(tokens, b)
        for field in ("nonce", "ciphertext"):
            ra[field], rb[field] = rb[field], ra[field]

    edit_tokens(settings, swap)
    with open_runtime(settings, read_only=True) as rt:
        for token in (a, b):
            with pytest.raises(VaultTampered):
                rt.vault.reveal(token)


def test_key_version_relabelled_is_detected(
    runtime: Runtime, settings: Settings, clock: FixedClock
) -> None:
    token = runtime.vault.tokenize(demo(0, clock)).token
    runtime.keyring.rotate()  # v2 exists, but this token is still under v1
    runtime.close()

    def relabel(tokens: dict[str, dict]) -> None:
        record = by_token(tokens, token)
        record["key_version"] = 2
        record["fingerprints"]["2"] = record["fingerprints"]["1"]

    edit_tokens(settings, relabel)
    with open_runtime(settings, read_only=True) as rt, pytest.raises(VaultTampered):
        rt.vault.reveal(token)


# ---------------------------------------------------------------------------- rotation
def test_rotate_and_rekey_keeps_every_card_reachable(runtime: Runtime, clock: FixedClock) -> None:
    vault = runtime.vault
    before = {i: vault.tokenize(demo(i, clock)) for i in range(3)}
    ciphertexts = {r.token: vault._tokens.get(r.token)["ciphertext"] for r in before.values()}

    new = runtime.keyring.rotate()
    assert new.version == 2 and runtime.keyring.current is new
    assert runtime.keyring.get(1).enc != new.enc and runtime.keyring.get(1).fp != new.fp

    # rotated but not yet re-keyed: everything still works under v1
    assert vault.reveal(before[0].token).get_secret_value() == digits(VISA.pan)
    assert vault.tokenize(demo(0, clock)).token == before[0].token

    assert vault.rekey() == 3
    assert vault.rekey() == 0  # idempotent
    for i, old in before.items():
        pan = digits(DEMO_CARDS[i].pan)
        now = vault.get(old.token)
        assert now.key_version == 2
        assert vault._tokens.get(old.token)["ciphertext"] != ciphertexts[old.token]
        assert vault.reveal(old.token).get_secret_value() == pan
        assert now.fingerprint == hmac.new(new.fp, pan.encode(), hashlib.sha256).hexdigest()
        assert now.fingerprint != old.fingerprint
        assert now.fingerprints == {"1": old.fingerprint, "2": now.fingerprint}
        # a fingerprint captured before the rotation still finds the same card
        assert vault.find_by_fingerprint(old.fingerprint).token == old.token
        assert vault.find_by_fingerprint(now.fingerprint).token == old.token
        assert vault.find(DEMO_CARDS[i].pan).token == old.token
        assert vault.tokenize(demo(i, clock)).token == old.token
    # a card first seen after the rotation is written under v2 only
    fresh = vault.tokenize(demo(3, clock))
    assert fresh.key_version == 2 and set(fresh.fingerprints) == {"2"}
    assert vault.find(DEMO_CARDS[4].pan) is None
    assert vault.find_by_fingerprint("0" * 64) is None


def test_rekey_works_across_reopens_and_a_second_rotation(
    runtime: Runtime, settings: Settings, clock: FixedClock
) -> None:
    first = [runtime.vault.tokenize(demo(i, clock)) for i in range(2)]
    runtime.close()

    with open_runtime(settings, clock=clock) as rt:
        rt.keyring.rotate()
    with open_runtime(settings, clock=clock) as rt:  # the rekey runs in a later process
        assert rt.keyring.current.version == 2
        assert rt.vault.rekey() == 2
    with open_runtime(settings, clock=clock) as rt:
        assert rt.keyring.rotate().version == 3
        assert rt.vault.rekey() == 2
    with open_runtime(settings, read_only=True) as rt:
        assert [v.version for v in rt.keyring.versions] == [1, 2, 3]
        for i, old in enumerate(first):
            now = rt.vault.get(old.token)
            assert now.key_version == 3
            assert set(now.fingerprints) == {"1", "2", "3"}
            assert rt.vault.reveal(old.token).get_secret_value() == digits(DEMO_CARDS[i].pan)
            assert rt.vault.find_by_fingerprint(old.fingerprint).token == old.token
            assert rt.vault.find(DEMO_CARDS[i].pan).token == old.token
    for record in stored_tokens(settings).values():
        assert record["key_version"] == 3


def test_failed_rekey_write_leaves_the_record_unchanged(
    runtime: Runtime, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = runtime.vault.tokenize(demo(0, clock)).token
    runtime.keyring.rotate()

    def broken_replace(self: TinyTokenRepository, record: dict) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch, pytest.raises(OSError):
        patch.setattr(TinyTokenRepository, "replace", broken_replace)
        runtime.vault.rekey()
    record = runtime.vault.get(token)
    assert record.key_version == 1
    assert set(record.fingerprints) == {"1"}  # nothing of the failed rekey stuck in memory
    assert runtime.vault.rekey() == 1
    assert runtime.vault.get(token).key_version == 2


# ---------------------------------------------------------------------------- the CLI
def test_cli_keys_rotate_and_list(runtime: Runtime, settings: Settings, clock: FixedClock, cli):
    tokens = [runtime.vault.tokenize(demo(i, clock)).token for i in range(3)]
    runtime.close()
    data_dir = settings.data_dir

    result = cli("keys", "rotate", "--data-dir", data_dir)
    assert result.code == 0, result.err
    assert "key version 2 is now current; 3 vault tokens re-encrypted" in result.out

    listed = cli("keys", "list", "--data-dir", data_dir)
    assert listed.code == 0, listed.err
    lines = listed.out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("v1 ") and "(current)" not in lines[0]
    assert lines[1].startswith("v2 ") and lines[1].endswith("(current)")
    key_file = settings.resolved_key_file
    assert mode(key_file) == 0o600
    for secret in orjson.loads(key_file.read_bytes())["keys"]:
        assert secret["enc"] not in listed.out + result.out

    with open_runtime(settings, read_only=True) as rt:
        for i, token in enumerate(tokens):
            assert rt.vault.get(token).key_version == 2
            assert rt.vault.reveal(token).get_secret_value() == digits(DEMO_CARDS[i].pan)
        assert rt.audit.verify().ok
        assert rt.audit.verify().count == 1  # the rotation itself is audited


class MemoryKeys:
    """A key provider that is not the key file (as a KMS-backed one would be): the vault
    and the audit log work with it unchanged."""

    def __init__(self) -> None:
        self._versions = [KeyVersion.generate(1)]

    @property
    def current(self) -> KeyVersion:
        return self._versions[-1]

    @property
    def versions(self) -> list[KeyVersion]:
        return list(self._versions)

    def get(self, version: int) -> KeyVersion:
        return self._versions[version - 1]

    def rotate(self) -> KeyVersion:
        self._versions.append(KeyVersion.generate(len(self._versions) + 1))
        return self.current


def test_vault_and_audit_take_any_key_provider(runtime: Runtime, clock: FixedClock) -> None:
    keys: KeyProvider = MemoryKeys()
    vault = Vault(TinyTokenRepository(runtime.store), keys, clock=clock)
    token = vault.tokenize(demo(0, clock))
    keys.rotate()
    assert vault.rekey() == 1
    assert vault.reveal(token.token).get_secret_value() == digits(VISA.pan)
    audit = AuditLog(TinyAuditRepository(runtime.store), keys, clock=clock)
    audit.record("t", "test.event")
    assert audit.verify().ok
