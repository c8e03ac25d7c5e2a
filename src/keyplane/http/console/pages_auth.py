"""Sign-up, log-in (password, then a TOTP or recovery code), log-out and log-out everywhere."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from keyplane.http.console.auth import (
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    Viewer,
    action,
    anonymous_csrf,
    checked_form,
    clear_session_cookie,
    forbidden,
    platform_of,
    pre_session,
    set_session_cookie,
)
from keyplane.http.console.forms import text
from keyplane.http.console.web import BASE, describe, notice_of, redirect, render, run, source_ip
from keyplane.identity.errors import (
    AddressLockedOut,
    CsrfInvalid,
    IdentityError,
    SessionInvalid,
    TwoFactorRequired,
)
from keyplane.identity.sessions import csrf_token_for

HOME = f"{BASE}/keys"


def _anonymous_form(
    request: Request, template: str, title: str, status: int = 200, **context: object
) -> Response:
    token, new = pre_session(request)
    context = {
        "title": title,
        "viewer": None,
        "csrf": csrf_token_for(token),
        "notice": notice_of(request),
        **context,
    }
    response = render(template, context, status)
    anonymous_csrf(request, response, token, new)
    return response


async def _anonymous_post(request: Request) -> FormData | None:
    try:
        return await checked_form(request, request.cookies.get(PRE_SESSION_COOKIE, ""))
    except CsrfInvalid:
        return None


async def sign_up_page(request: Request) -> Response:
    return _anonymous_form(request, "signup.html", "Create your account")


async def sign_up(request: Request) -> Response:
    form = await _anonymous_post(request)
    if form is None:
        return forbidden()
    identity = platform_of(request).identity
    email, password = text(form, "email"), text(form, "password")
    try:
        await run(identity.sign_up, email, password, source_ip=source_ip(request))
        session = await run(
            identity.log_in,
            email,
            password,
            source_ip=source_ip(request),
            user_agent=request.headers.get("user-agent", ""),
        )
    except IdentityError as error:
        message, status = describe(error)
        return _anonymous_form(
            request, "signup.html", "Create your account", status, error=message, email=email
        )
    response = redirect(f"{BASE}/security?notice=welcome")
    set_session_cookie(request, response, session.token)
    return response


async def log_in_page(request: Request) -> Response:
    return _anonymous_form(request, "login.html", "Log in")


async def log_in(request: Request) -> Response:
    form = await _anonymous_post(request)
    if form is None:
        return forbidden()
    email = text(form, "email")
    try:
        session = await run(
            platform_of(request).identity.log_in,
            email,
            text(form, "password"),
            source_ip=source_ip(request),
            user_agent=request.headers.get("user-agent", ""),
            totp_code=text(form, "totp_code").strip() or None,
        )
    except IdentityError as error:
        message, status = describe(error)
        return _anonymous_form(
            request,
            "login.html",
            "Log in",
            status,
            error=message,
            email=email,
            with_code=isinstance(error, AddressLockedOut),
        )
    response = redirect(f"{BASE}/login/2fa" if session.needs_second_factor else HOME)
    set_session_cookie(request, response, session.token)
    return response


async def _pending_token(request: Request) -> str | Response:
    """The cookie's session when it still waits for its second factor, else where to go."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return redirect(f"{BASE}/login")
    try:
        await run(platform_of(request).identity.authenticate, token)
    except TwoFactorRequired:
        return token
    except SessionInvalid:
        return redirect(f"{BASE}/login?notice=expired")
    return redirect(HOME)


def _second_factor_form(token: str, status: int = 200, **context: object) -> Response:
    return render(
        "two_factor.html",
        {"title": "Two-factor authentication", "viewer": None, "csrf": csrf_token_for(token), **context},
        status,
    )


async def second_factor_page(request: Request) -> Response:
    token = await _pending_token(request)
    if isinstance(token, Response):
        return token
    return _second_factor_form(token)


async def second_factor(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    try:
        form = await checked_form(request, token)
    except CsrfInvalid:
        return forbidden()
    identity = platform_of(request).identity
    code, recovery = text(form, "code").strip(), text(form, "recovery_code").strip()
    try:
        if recovery:
            session = await run(
                identity.complete_two_factor_with_recovery_code, token, recovery, source_ip=source_ip(request)
            )
        else:
            session = await run(identity.complete_two_factor, token, code, source_ip=source_ip(request))
    except SessionInvalid:
        return redirect(f"{BASE}/login?notice=expired")
    except IdentityError as error:
        message, status = describe(error)
        return _second_factor_form(token, status, error=message, use_recovery=bool(recovery))
    response = redirect(HOME)
    set_session_cookie(request, response, session.token)
    return response


async def log_out(request: Request) -> Response:
    """Log out also works for a session still waiting for its second factor."""
    token = request.cookies.get(SESSION_COOKIE, "")
    try:
        await checked_form(request, token)
    except CsrfInvalid:
        return forbidden()
    await run(platform_of(request).identity.log_out, token, source_ip=source_ip(request))
    response = redirect(f"{BASE}/login?notice=logged_out")
    clear_session_cookie(request, response)
    return response


@action
async def log_out_everywhere(request: Request, viewer: Viewer, form: FormData) -> Response:
    await run(platform_of(request).identity.log_out_everywhere, viewer.user_id, source_ip=viewer.ip)
    response = redirect(f"{BASE}/login?notice=logged_out_everywhere")
    clear_session_cookie(request, response)
    return response
