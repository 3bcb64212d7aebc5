"""Fixtures for access tests: a data folder (SQLite and PostgreSQL, from tests/conftest.py)
with people in it, and a clock the tests move by hand instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from svidok.access import User, add_user
from svidok.home import Home

# A fixed moment, so that time steps and windows fall the same way every run.
NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@pytest.fixture
def engine(home: Home) -> Engine:
    return home.engine


@pytest.fixture
def olena(engine: Engine) -> User:
    """An analyst who chose her own password."""
    user, _ = add_user(engine, "olena", "analyst", PASSWORD, now=NOON)
    return user
