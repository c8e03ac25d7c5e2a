"""Security review (risky keys, recent audit events) and security settings (2FA, sessions).

The TOTP secret, its QR code and the recovery codes are rendered into the response of the POST
that made them, once; none of them is kept in the session.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from keyplane.clock import now_ms
from keyplane.http.console.auth import Viewer, action, page, platform_of
from keyplane.http.console.forms import ascii_count, text
from keyplane.http.console.views import AuditRow, audit_row, key_rows
from keyplane.http.console.web import (
    BASE,
    KNOWN_ERRORS,
    ConsoleError,
    describe,
    notice_of,
    redirect,
    render,
    run,
)
from keyplane.identity.errors import EnrolmentNotStarted
from keyplane.runtime import Platform
from keyplane.store import key_repo

SECURITY = f"{BASE}/security"
AUDIT_ROWS = 50


def _recent_events(platform: Platform, user_id: int) -> list[AuditRow]:
    with platform.engine.connect() as conn:
        return [audit_row(row) for row in key_repo.audit_of(conn, user_id=user_id, limit=AUDIT_ROWS)]


@page
async def review_page(request: Request, viewer: Viewer) -> Response:
    platform = platform_of(request)
    rows = await run(key_rows, platform.keys, viewer.user_id, now_ms())
    events = await run(_recent_events, platform, viewer.user_id)
    return render(
        "review.html",
        {
            "title": "Security review",
            "nav": "review",
            "viewer": viewer,
            "csrf": viewer.csrf,
            "risky": [row for row in rows if row.live and row.findings],
            "events": events,
            "notice": notice_of(request),
        },
    )


async def _settings(request: Request, viewer: Viewer, status: int = 200, **context: object) -> Response:
    platform = platform_of(request)
    sessions = await run(platform.identity.list_sessions, viewer.user_id)
    user = await run(platform.identity.get_user, viewer.user_id)
    return render(
        "security.html",
        {
            "title": "Security settings",
            "nav": "security",
            "viewer": viewer,
            "csrf": viewer.csrf,
            "user": user,
            "sessions": sessions,
            "current_session": viewer.session.session_id,
            "require_2fa": platform.settings.require_2fa_for_keys,
            "notice": notice_of(request),
            **context,
        },
        status,
    )


@page
async def settings_page(request: Request, viewer: Viewer) -> Response:
    return await _settings(request, viewer)


@action
async def begin_enrolment(request: Request, viewer: Viewer, form: FormData) -> Response:
    enrolment = await run(
        platform_of(request).identity.begin_totp_enrolment, viewer.user_id, source_ip=viewer.ip
    )
    return await _settings(request, viewer, enrolment=enrolment, replace_url=SECURITY)


@action
async def confirm_enrolment(request: Request, viewer: Viewer, form: FormData) -> Response:
    try:
        codes = await run(
            platform_of(request).identity.confirm_totp_enrolment,
            viewer.user_id,
            text(form, "code"),
            source_ip=viewer.ip,
        )
    except KNOWN_ERRORS as error:
        message, status = describe(error)
        if not isinstance(error, EnrolmentNotStarted):
            message += " Start the set-up again and scan the new QR code."
        return await _settings(request, viewer, status, error=message)
    fresh = Viewer(
        viewer.token,
        viewer.session,
        await run(platform_of(request).identity.get_user, viewer.user_id),
        viewer.ip,
    )
    return await _settings(request, fresh, recovery_codes=codes.codes, replace_url=SECURITY)


@action
async def disable_two_factor(request: Request, viewer: Viewer, form: FormData) -> Response:
    code = text(form, "code")
    try:
        if not code.strip():
            raise ConsoleError("Enter the current code from your authenticator app to turn 2FA off.")
        await run(platform_of(request).identity.disable_totp, viewer.user_id, code, source_ip=viewer.ip)
    except KNOWN_ERRORS as error:
        message, status = describe(error)
        return await _settings(request, viewer, status, error=message)
    return redirect(f"{SECURITY}?notice=2fa_off")


@action
async def regenerate_recovery_codes(request: Request, viewer: Viewer, form: FormData) -> Response:
    try:
        codes = await run(
            platform_of(request).identity.regenerate_recovery_codes,
            viewer.user_id,
            text(form, "code"),
            source_ip=viewer.ip,
        )
    except KNOWN_ERRORS as error:
        message, status = describe(error)
        return await _settings(request, viewer, status, error=message)
    return await _settings(request, viewer, recovery_codes=codes.codes, replace_url=SECURITY)


@action
async def revoke_session(request: Request, viewer: Viewer, form: FormData) -> Response:
    session_id = ascii_count(request.path_params["session_id"])
    if session_id is None:
        raise ConsoleError("No such session.", 404)
    await run(platform_of(request).identity.revoke_session, viewer.user_id, session_id, source_ip=viewer.ip)
    if session_id == viewer.session.session_id:
        return redirect(f"{BASE}/login?notice=logged_out")
    return redirect(f"{SECURITY}?notice=session_revoked")
