"""Who may do what: users and roles, passwords, sessions, TOTP, API tokens and sign-in
rate limiting, for the web app and ``svidok users``. See docs/access.md.

Every function takes the engine (``home.engine``) and, where time matters, a ``now`` to
pass in tests. Secrets are kept only as hashes (passwords Argon2id, tokens SHA-256), and
no function returns a hash; the raw values meant for a person (a one-time password, a
session or API token, a TOTP secret at enrolment) are returned exactly once.
"""

from __future__ import annotations

from svidok.access.errors import AccessError
from svidok.access.passwords import MIN_LENGTH, generate_password
from svidok.access.ratelimit import check as check_rate_limit
from svidok.access.ratelimit import record as record_attempt
from svidok.access.ratelimit import retry_after
from svidok.access.roles import GRANTS, PERMISSIONS, ROLES, allowed
from svidok.access.sessions import (
    ABSOLUTE_TIMEOUT,
    IDLE_TIMEOUT,
    Session,
    complete_second_factor,
    create_session,
    lookup_session,
    revoke_all_for_user,
    revoke_session,
    touch,
)
from svidok.access.tokens import ApiToken, create_token, list_tokens, lookup_token, revoke_token
from svidok.access.users import (
    LANGUAGES,
    User,
    add_user,
    authenticate,
    disable_user,
    enable_user,
    get_user,
    get_user_by_id,
    list_users,
    reset_password,
    set_language,
    set_password,
)

__all__ = [
    "ABSOLUTE_TIMEOUT", "GRANTS", "IDLE_TIMEOUT", "LANGUAGES", "MIN_LENGTH", "PERMISSIONS",
    "ROLES", "AccessError", "ApiToken", "Session", "User", "add_user", "allowed",
    "authenticate", "check_rate_limit", "complete_second_factor", "create_session",
    "create_token", "disable_user", "enable_user", "generate_password", "get_user",
    "get_user_by_id", "list_tokens", "list_users", "lookup_session", "lookup_token",
    "record_attempt", "reset_password", "retry_after", "revoke_all_for_user",
    "revoke_session", "revoke_token", "set_language", "set_password", "touch",
]
