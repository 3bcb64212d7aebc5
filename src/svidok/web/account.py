"""A person's own account: language, password, authenticator app, personal API tokens.

Every page here is for any signed-in person about themselves (``signed_in``), except API
tokens, which need the ``api.tokens`` permission. Every form posts the session's CSRF
token. Changing the password or turning the second factor off asks for the current
password again, counted by the sign-in rate limit, so a session left open on a shared
computer cannot be turned into the account. Messages are English message ids, shown in
the viewer's language.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from svidok.access import (
    LANGUAGES,
    AccessError,
    authenticate,
    complete_second_factor,
    create_token,
    get_user_by_id,
    list_tokens,
    revoke_token,
    set_language,
    set_password,
)
from svidok.access import totp as second_factor
from svidok.access.passwords import MAX_LENGTH, MIN_LENGTH
from svidok.access.roles import allowed
from svidok.web.confine import totp_required
from svidok.web.guard import Anyone, Viewer, allowed_to, render
from svidok.web.i18n import LANGUAGE_NAMES, N_, Translator, translator
from svidok.web.sessions import set_session_cookie
from svidok.web.signin import refusal

router = APIRouter()
TokenHolder = Annotated[Viewer, Depends(allowed_to("api.tokens"))]
FormText = Annotated[str, Form()]

TOKEN_NAME_LENGTH = 100
# What a redirect back to /account says was done (?done=...).
NOTICES = {
    "language": N_("The interface language is saved."),
    "password": N_("Your password is changed. Your other sessions have ended."),
    "totp": N_("The authenticator app is on: signing in now asks for its code."),
    "totp-off": N_("The authenticator app is off: signing in asks only for the password."),
}

def _t(viewer: Viewer) -> Translator:
    return translator(viewer.language)


def _render(request: Request, viewer: Viewer, template: str, status_code: int = 200,
            **context: Any) -> Response:
    # Every account page can carry the language switch (even one a duty confines to).
    return render(request, viewer, template, status_code=status_code,
                  languages=LANGUAGE_NAMES, **context)


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _issuer(request: Request) -> str:
    # Named after the instance, so a person with accounts on two lockers can tell the two
    # codes apart in their app.
    instance = request.app.state.home.instance_name
    return f"Svidok ({instance})" if instance else second_factor.ISSUER


@router.get("/account", response_class=HTMLResponse)
def overview(request: Request, viewer: Anyone, done: str = "") -> Response:
    user = get_user_by_id(request.app.state.home.engine, viewer.user_id)
    if user is None:
        raise HTTPException(404)
    notice = NOTICES.get(done)
    return _render(request, viewer, "account.html", account=user,
                  notice=_t(viewer).gettext(notice) if notice else None,
                  may_hold_tokens=allowed(viewer.role, "api.tokens"))


@router.post("/account/language")
def choose_language(request: Request, viewer: Anyone, language: FormText = "") -> Response:
    if language not in LANGUAGES:
        raise HTTPException(400, N_("unknown language"))
    set_language(request.app.state.home.engine, viewer.name, language)
    return RedirectResponse("/account?done=language", status_code=303)


@router.get("/account/password", response_class=HTMLResponse)
def password_form(request: Request, viewer: Anyone) -> Response:
    return _render(request, viewer, "account_password.html", error=None,
                  min_length=MIN_LENGTH)


def _current_password_problem(request: Request, viewer: Viewer, current: str) -> str | None:
    """Why ``current`` is not the viewer's password, as they should read it; None if it is.
    Checked as a sign-in is, so guessing here is rate-limited too."""
    home = request.app.state.home
    try:
        authenticate(home.engine, viewer.name, current[:MAX_LENGTH + 1],
                     address=_address(request))
    except AccessError as exc:
        t = _t(viewer)
        return refusal(t, exc, home.engine, viewer.name, _address(request)) \
            if "try again" in str(exc) else t.gettext("The current password is not right.")
    return None


@router.post("/account/password")
def change_password(request: Request, viewer: Anyone, current: FormText = "",
                    new: FormText = "", again: FormText = "") -> Response:
    home = request.app.state.home
    t = _t(viewer)
    error = _new_password_problem(t, current, new, again) or \
        _current_password_problem(request, viewer, current)
    if error is None:
        try:
            # Ends every other session: whoever knew the old password may hold one.
            set_password(home.engine, viewer.name, new, keep_session=viewer.session_id)
        except AccessError as exc:
            error = str(exc)
    if error is not None:
        return _render(request, viewer, "account_password.html", status_code=400,
                      error=error, min_length=MIN_LENGTH)
    # An administrator signing in with a one-time password enrols an app next.
    target = "/account/totp" if viewer.needs_totp else "/account?done=password"
    return RedirectResponse(target, status_code=303)


def _new_password_problem(t: Translator, current: str, new: str, again: str) -> str | None:
    if not current or not new:
        return t.gettext("Fill in the current password and the new one twice.")
    if new != again:
        return t.gettext("The two new passwords differ.")
    if len(new) < MIN_LENGTH:
        return t.ngettext("The new password is too short: use at least %(num)d character.",
                          "The new password is too short: use at least %(num)d characters.",
                          MIN_LENGTH) % {"num": MIN_LENGTH}
    if len(new) > MAX_LENGTH:
        return t.ngettext("The new password is too long: use at most %(num)d character.",
                          "The new password is too long: use at most %(num)d characters.",
                          MAX_LENGTH) % {"num": MAX_LENGTH}
    if new == current:
        return t.gettext("Choose a new password, not the current one.")
    return None


@router.get("/account/totp", response_class=HTMLResponse)
def totp_page(request: Request, viewer: Anyone) -> Response:
    return _totp_page(request, viewer)


def _totp_page(request: Request, viewer: Viewer, error: str | None = None,
               status_code: int = 200) -> Response:
    home = request.app.state.home
    user = get_user_by_id(home.engine, viewer.user_id)
    if user is None:
        raise HTTPException(404)
    pending = None if user.totp_enabled else second_factor.pending_enrolment(
        home.engine, viewer.name, _issuer(request))
    enrolment = None
    if pending is not None:
        secret, uri = pending
        enrolment = {"secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
                     "uri": uri, "qr": qr_svg(uri)}
    return _render(request, viewer, "account_totp.html", status_code=status_code,
                  enabled=user.totp_enabled, enrolment=enrolment, error=error,
                  required=totp_required(viewer.role))


def qr_svg(text: str) -> Markup:
    """A QR code as inline SVG, made here: no script, no image fetched, nothing sent to a
    QR service (the URI holds the secret)."""
    code = segno.make(text, error="m")
    # segno writes only the path of the modules and the attributes given; nothing of
    # ``text`` appears in the markup as text.
    return Markup(code.svg_inline(scale=5, border=4, dark="#000", light="#fff",  # noqa: S704
                                  svgclass="qr", lineclass=None, omitsize=False))


@router.post("/account/totp/begin")
def begin_totp(request: Request, viewer: Anyone) -> Response:
    home = request.app.state.home
    user = get_user_by_id(home.engine, viewer.user_id)
    if user is None or user.totp_enabled:
        # Enrolling again would switch the working factor off until confirmed; turn it
        # off first (or, for a lost phone, an administrator uses `svidok users totp`).
        return _totp_page(request, viewer, status_code=409, error=_t(viewer).gettext(
            "An authenticator app is already on for this account."))
    second_factor.begin_enrolment(home.engine, viewer.name, _issuer(request))
    return RedirectResponse("/account/totp", status_code=303)


@router.post("/account/totp/confirm")
def confirm_totp(request: Request, viewer: Anyone, code: FormText = "") -> Response:
    home = request.app.state.home
    try:
        second_factor.confirm_enrolment(home.engine, viewer.name, code[:20])
    except AccessError:
        return _totp_page(request, viewer, status_code=400, error=_t(viewer).gettext(
            "That code is not right, or was used already. Check the phone's clock and "
            "type the next code."))
    # The code proves the factor for this session too: it continues as a new session
    # (new token) with the second factor done. Sessions elsewhere without it end.
    token, _session = complete_second_factor(home.engine, viewer.session_id)
    response = RedirectResponse("/account?done=totp", status_code=303)
    set_session_cookie(response, request, token)
    return response


@router.post("/account/totp/disable")
def disable_totp(request: Request, viewer: Anyone, current: FormText = "") -> Response:
    home = request.app.state.home
    if totp_required(viewer.role):
        raise HTTPException(403, N_("administrators must keep a second factor"))
    error = _current_password_problem(request, viewer, current)
    if error is not None:
        return _totp_page(request, viewer, status_code=400, error=error)
    second_factor.disable(home.engine, viewer.name)
    return RedirectResponse("/account?done=totp-off", status_code=303)


@router.get("/account/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, viewer: TokenHolder) -> Response:
    return _tokens_page(request, viewer)


def _tokens_page(request: Request, viewer: Viewer, new_token: str | None = None,
                 error: str | None = None, status_code: int = 200) -> Response:
    tokens = list_tokens(request.app.state.home.engine, viewer.user_id)
    # ``now`` tells an expired token from a live one (ApiToken.live, ApiToken.expired).
    return _render(request, viewer, "account_tokens.html", status_code=status_code,
                  tokens=list(reversed(tokens)), new_token=new_token, error=error,
                  name_length=TOKEN_NAME_LENGTH, now=datetime.now(UTC))


@router.post("/account/tokens")
def new_token(request: Request, viewer: TokenHolder, name: FormText = "") -> Response:
    name = name.strip()
    if not name or len(name) > TOKEN_NAME_LENGTH:
        return _tokens_page(request, viewer, status_code=400, error=_t(viewer).ngettext(
            "Give the token a name of at most %(num)d character, saying what uses it.",
            "Give the token a name of at most %(num)d characters, saying what uses it.",
            TOKEN_NAME_LENGTH) % {"num": TOKEN_NAME_LENGTH})
    try:
        raw, _record = create_token(request.app.state.home.engine, viewer.user_id, name)
    except AccessError as exc:
        return _tokens_page(request, viewer, status_code=400, error=str(exc))
    # Shown in this answer only (never in a URL, never stored): no redirect.
    return _tokens_page(request, viewer, new_token=raw)


@router.post("/account/tokens/{token_id}/revoke")
def revoke(request: Request, token_id: int, viewer: TokenHolder) -> Response:
    if not 0 < token_id < 2**63:
        raise HTTPException(404)
    try:
        revoke_token(request.app.state.home.engine, token_id, user_id=viewer.user_id)
    except AccessError:
        raise HTTPException(404, N_("no such token")) from None
    return RedirectResponse("/account/tokens", status_code=303)
