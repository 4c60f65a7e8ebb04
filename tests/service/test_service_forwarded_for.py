"""X-Forwarded-For is believed only from the proxies of the `trusted_proxies` setting
(none by default): a local process cannot dodge the failed-authentication limit or
write another address into the audit log by sending the header."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from server_support import issue, start

from gateway_core.settings import SettingsError, load_settings
from gateway_core.store import DataStore
from gateway_core.store.repos import TinyAuditRepository

BAD = {"Authorization": "Bearer pk_000000000000_" + "x" * 43}


def failed_from_each_address(url: str, tries: int = 11) -> list[int]:
    """`tries` bad keys, each claiming to come from another address."""
    return [
        httpx.get(
            f"{url}/v1/payments", headers={**BAD, "X-Forwarded-For": f"203.0.113.{n}"}
        ).status_code
        for n in range(tries)
    ]


def audited_subjects(data_dir: Path) -> set[str]:
    with DataStore(data_dir, read_only=True) as store:
        return {
            e["subject"]
            for _day, e in TinyAuditRepository(store).events()
            if e["action"] == "api.auth_failed"
        }


def test_forwarded_for_from_an_untrusted_peer_is_ignored_by_limiter_and_audit(
    cli: Callable, paygate_cmd: list[str], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    issue(cli, data_dir, "TERM0001")
    server = start(paygate_cmd, data_dir)
    try:
        codes = failed_from_each_address(server.url)
    finally:
        assert server.stop() == 0
    assert codes == [401] * 10 + [429]
    assert audited_subjects(data_dir) == {"127.0.0.1"}


def test_forwarded_for_from_a_trusted_proxy_names_the_client(
    cli: Callable, paygate_cmd: list[str], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    issue(cli, data_dir, "TERM0001")
    server = start(paygate_cmd, data_dir, PAYGATE_TRUSTED_PROXIES='["127.0.0.1"]')
    try:
        codes = failed_from_each_address(server.url, tries=3)
    finally:
        assert server.stop() == 0
    assert codes == [401] * 3
    assert audited_subjects(data_dir) == {f"203.0.113.{n}" for n in range(3)}


def test_a_trusted_proxy_that_is_not_an_address_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not an IP address or network"):
        load_settings(data_dir=tmp_path, trusted_proxies=["proxy.example"])
    assert load_settings(trusted_proxies=["10.0.0.0/8", "::1"]).trusted_proxies == [
        "10.0.0.0/8",
        "::1",
    ]
