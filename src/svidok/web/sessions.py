"""From a session cookie to the :class:`~svidok.web.guard.Viewer` behind a request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from svidok.access import lookup_session, touch
from svidok.home import Home
from svidok.web.guard import Viewer

PRE_CSRF_COOKIE = "svidok_csrf"
# Activity is written at most this often: a page with twenty thumbnails would otherwise
# write the session row twenty times.
TOUCH_EVERY = timedelta(seconds=60)


def live_viewer(home: Home, token: str) -> Viewer | None:
    """The signed-in person, or None when the session is unknown, ended, timed out, or still
    waits for the second factor its user has enrolled."""
    found = lookup_session(home.engine, token)
    if found is None or (found.user.totp_enabled and not found.second_factor_done):
        return None
    now = datetime.now(UTC)
    if now - found.last_seen_at >= TOUCH_EVERY:
        touch(home.engine, found.id, now=now)
    user = found.user
    return Viewer(user_id=user.id, name=user.name, role=user.role, language=user.language,
                  csrf_token=found.csrf_token, session_id=found.id)
