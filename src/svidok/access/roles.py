"""Roles and what each may do. Deny by default: a role or permission not listed here is
allowed nothing, so a typo in a route's permission closes the route instead of opening it.
"""

from __future__ import annotations

ROLES = ("admin", "analyst", "documenter", "viewer")

PERMISSIONS = (
    "items.read",     # list, show, search items and their suggestions
    "items.upload",   # add evidence (ingest, capture)
    "items.status",   # confirm or reject suggestions, change an item's review status
    "users.manage",   # add, reset, disable users
    "api.tokens",     # hold personal API tokens, for scripts
)

# Need-to-know: a viewer reads; a documenter collects; an analyst reviews what machines
# suggested; only an admin manages people. Documenters get API tokens so field tools can
# upload; viewers do not, since a token is a long-lived credential.
GRANTS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"items.read"}),
    "documenter": frozenset({"items.read", "items.upload", "api.tokens"}),
    "analyst": frozenset({"items.read", "items.status", "api.tokens"}),
    "admin": frozenset(PERMISSIONS),
}


def allowed(role: str, permission: str) -> bool:
    """Whether ``role`` may do ``permission``; False for anything unknown."""
    return permission in GRANTS.get(role, frozenset())


def check_role(role: str) -> str:
    """The role, if it is one; otherwise AccessError naming the roles there are."""
    from svidok.access.errors import AccessError

    if role not in ROLES:
        raise AccessError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    return role
