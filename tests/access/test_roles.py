"""Roles: deny by default."""

from __future__ import annotations

import pytest

from svidok.access import PERMISSIONS, ROLES, allowed


def test_an_admin_may_do_everything() -> None:
    assert all(allowed("admin", p) for p in PERMISSIONS)


@pytest.mark.parametrize(("role", "permission", "expected"), [
    ("viewer", "items.read", True),
    ("viewer", "items.upload", False),
    ("viewer", "api.tokens", False),
    ("documenter", "items.upload", True),
    ("documenter", "items.status", False),
    ("analyst", "items.status", True),
    ("analyst", "users.manage", False),
    ("documenter", "users.manage", False),
])
def test_each_role_may_do_what_it_needs(role: str, permission: str, expected: bool) -> None:
    assert allowed(role, permission) is expected


def test_unknown_roles_and_permissions_are_denied() -> None:
    assert not allowed("admin", "items.delete")
    assert not allowed("admin", "")
    assert not allowed("root", "items.read")
    assert not allowed("", "items.read")
    assert not allowed("Admin", "items.read")


def test_every_role_reads() -> None:
    assert all(allowed(role, "items.read") for role in ROLES)
