"""Debian's Chromium for the tests that drive a browser: one place says where it is, how it
is launched and what happens when it is missing.

Launched as the project launches it for captures (svidok.sources.web_browser): headless,
no sandbox, nothing phoned home; never a browser Playwright downloaded. Missing, a test
skips, except under CI=true, where it fails: there, browser tests must run.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from svidok.sources.web import CHROMIUM
from svidok.sources.web_browser import ARGS


def chromium_available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


def need_chromium() -> None:
    if chromium_available():
        return
    message = f"{CHROMIUM} is missing (scripts/system-deps.sh installs it)"
    if os.environ.get("CI", "").lower() == "true":  # as conftest.IN_CI; scripts import this too
        pytest.fail(message + " (CI=true: browser tests must run)")
    pytest.skip(message)


def launch_options() -> dict[str, Any]:
    """Keyword arguments for Playwright's ``chromium.launch``."""
    return {"executable_path": CHROMIUM, "headless": True, "args": list(ARGS)}
