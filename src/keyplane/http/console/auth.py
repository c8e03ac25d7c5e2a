"""The console's session cookie, CSRF checks and the two wrappers every page goes through.

``page`` serves a GET to a signed-in user; ``action`` serves a POST and refuses it with 403
before anything else happens unless its form carries the CSRF token of the session. Forms shown
before log-in are protected the same way with a random pre-session cookie.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from keyplane.http.clientip import _is_trusted
from keyplane.http.console.web import (
    BASE,
    ConsoleError,
    internal_error,
    message_of,
    redirect,
    render,
    run,
    source_ip,
)
from keyplane.identity.errors import CsrfInvalid, SessionInvalid, TwoFactorRequired
from keyplane.identity.models import SessionInfo, User
from keyplane.identity.sessions import csrf_token_for
from keyplane.runtime import Platform

SESSION_COOKIE = "kp_session"
PRE_SESSION_COOKIE = "kp_pre"
CSRF_FIELD = "csrf_token"
PRE_SESSION_SECONDS = 3600


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of one request."""

    token: str = field(repr=False)
    session: SessionInfo
    user: User
    ip: str

    @property
    def csrf(self) -> str:
        return csrf_token_for(self.token)

    @property
    def user_id(self) -> int:
        return self.user.user_id


def platform_of(request: Request) -> Platform:
    platform: Platform = request.app.state.parts.platform
    return platform


def browser_uses_tls(request: Request) -> bool:
    """Whether the browser reached us over HTTPS: directly, or through a trusted proxy that
    terminated TLS and says so in ``X-Forwarded-Proto``.

    The header is believed only from a trusted proxy (anyone else could write it), and of
    several values (lines or commas) only the last, which the nearest proxy wrote.
    """
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else ""
    if not _is_trusted(peer, request.app.state.trusted_proxies):
        return False
    values = [v.strip() for line in request.headers.getlist("x-forwarded-proto") for v in line.split(",")]
    values = [v for v in values if v]
    return bool(values) and values[-1].lower() == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=browser_uses_tls(request),
        httponly=True,
        samesite="strict",
    )


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    set_cookie(request, response, SESSION_COOKIE, token, None)


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=browser_uses_tls(request), httponly=True, samesite="strict"
    )


def pre_session(request: Request) -> tuple[str, bool]:
    """The anonymous token that protects the log-in and sign-up forms; True when newly made."""
    token = request.cookies.get(PRE_SESSION_COOKIE, "")
    if len(token) >= 32:
        return token, False
    return secrets.token_urlsafe(32), True


def anonymous_csrf(request: Request, response: Response, token: str, new: bool) -> None:
    if new:
        set_cookie(request, response, PRE_SESSION_COOKIE, token, PRE_SESSION_SECONDS)


async def checked_form(request: Request, token: str) -> FormData:
    """The POSTed form, or ``CsrfInvalid`` when its token does not belong to ``token``."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not token or not isinstance(sent, str):
        raise CsrfInvalid()
    platform_of(request).identity.verify_csrf(token, sent)
    return form


def forbidden() -> Response:
    return render(
        "error.html", {"title": "Request refused", "viewer": None, "error": CsrfInvalid().message}, 403
    )


PageHandler = Callable[[Request, Viewer], Awaitable[Response]]
ActionHandler = Callable[[Request, Viewer, FormData], Awaitable[Response]]


async def _viewer(request: Request) -> Viewer | Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return redirect(f"{BASE}/login")
    identity = platform_of(request).identity
    try:
        info = await run(identity.authenticate, token)
        user = await run(identity.get_user, info.user_id)
    except TwoFactorRequired:
        return redirect(f"{BASE}/login/2fa")
    except SessionInvalid:
        response = redirect(f"{BASE}/login")
        clear_session_cookie(request, response)
        return response
    return Viewer(token, info, user, source_ip(request))


def page(handler: PageHandler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        viewer = await _viewer(request)
        if isinstance(viewer, Response):
            return viewer
        try:
            return await handler(request, viewer)
        except Exception as error:  # noqa: BLE001 - every error becomes a page, never a traceback
            return error_page(viewer, error)

    return endpoint


def action(handler: ActionHandler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE, "")
        try:
            form = await checked_form(request, token)
        except CsrfInvalid:
            return forbidden()
        viewer = await _viewer(request)
        if isinstance(viewer, Response):
            return viewer
        try:
            return await handler(request, viewer, form)
        except Exception as error:  # noqa: BLE001 - every error becomes a page, never a traceback
            return error_page(viewer, error)

    return endpoint


def error_page(viewer: Viewer | None, error: Exception) -> Response:
    known = message_of(error)
    if known is None:
        return internal_error(error)
    text, status = known
    return render(
        "error.html",
        {
            "title": "That did not work",
            "viewer": viewer,
            "csrf": viewer.csrf if viewer else "",
            "error": text,
        },
        status,
    )


async def step_up(request: Request, viewer: Viewer, code: str, purpose: str) -> None:
    """A fresh TOTP code for a sensitive change; without 2FA only if the platform allows it."""
    platform = platform_of(request)
    if not viewer.user.two_factor_enabled:
        if platform.settings.require_2fa_for_keys:
            raise ConsoleError("Turn on two-factor authentication in Security settings first.", 403)
        return
    if not code.strip():
        raise ConsoleError("Enter the current code from your authenticator app to confirm this change.", 400)
    await run(platform.identity.verify_fresh_totp, viewer.user_id, code, source_ip=viewer.ip, purpose=purpose)
