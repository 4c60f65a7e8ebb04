"""The browser the tests in this folder drive: Debian's Chromium through playwright.

The set-up installs Chromium with apt-get where it is missing and it can (root, apt-get
present); without a browser (or without playwright) a test asking for one is skipped,
saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

CHROMIUMS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def _found() -> str | None:
    return next((path for path in CHROMIUMS if os.access(path, os.X_OK)), None)


def _install() -> str:
    """apt-get install chromium (root only): what went wrong, or "" when it ran."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "not root, or no apt-get, so it cannot be installed here"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        try:
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"`{' '.join(argv)}` failed: {exc}"
        if done.returncode != 0:
            return f"`{' '.join(argv)}` failed: {done.stderr.strip()[-200:]}"
    return ""


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed first where it is missing and it can be."""
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make test)")
    path = _found()
    if path is None:
        why = _install()
        path = _found()
        if path is None:
            pytest.skip(f"no Chromium at {' or '.join(CHROMIUMS)}: {why or 'apt-get ran'}")
    return path
