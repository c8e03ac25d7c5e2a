"""Rendering, error mapping and response headers shared by every console page.

Domain errors become a message on the page and a 4xx status; anything else is logged (redacted)
and answered with a plain 500 page, so a traceback never reaches the browser.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from keyplane.exchange.errors import ExchangeError
from keyplane.http.clientip import client_ip, forwarded_for
from keyplane.identity import errors as identity_errors
from keyplane.keys.errors import KeyManagementError
from keyplane.redaction import redact_text

log = logging.getLogger("keyplane.http.console")

BASE = "/console"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

# Key errors whose CLI wording ("add --ip") does not fit a web form.
CONSOLE_WORDING = {
    "withdraw_needs_ip": "The withdraw permission needs an IP allowlist: add the addresses that may withdraw.",
}

P = ParamSpec("P")
T = TypeVar("T")


class ConsoleError(Exception):
    """A refusal decided by the console itself (not by a domain service), shown on the page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def when(ms: int | None) -> str:
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(ms: int | None) -> str:
    return "" if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def last_day(ms: int | None) -> str:
    """The last day a key works, as its expiry form shows it (expiry is the end of that day)."""
    return "" if ms is None else day(ms - 1)


_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
_env.filters["when"] = when
_env.filters["day"] = day
_env.filters["last_day"] = last_day


def render(template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    html = _env.get_template(template).render(base=BASE, **context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers=SECURITY_HEADERS)


def source_ip(request: Request) -> str:
    """The client's address as the API sees it: every ``X-Forwarded-For`` line counts."""
    peer = request.client.host if request.client else ""
    hops = forwarded_for(request.headers.getlist("x-forwarded-for"))
    return client_ip(peer, hops, request.app.state.trusted_proxies)


async def run(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Domain calls are blocking (database, Argon2): keep them off the event loop."""
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


KNOWN_ERRORS = (ConsoleError, KeyManagementError, identity_errors.IdentityError)


def describe(error: ConsoleError | KeyManagementError | identity_errors.IdentityError) -> tuple[str, int]:
    """The user-facing message and the HTTP status of a refusal."""
    known = message_of(error)
    assert known is not None
    return known


def message_of(error: Exception) -> tuple[str, int] | None:
    """The user-facing message and status of a known error; None for anything unexpected."""
    if isinstance(error, ConsoleError):
        return error.message, error.status
    if isinstance(error, KeyManagementError):
        text = CONSOLE_WORDING.get(error.reason, error.msg)
        return text[:1].upper() + text[1:], 404 if error.reason == "unknown_key" else 400
    if isinstance(error, identity_errors.IdentityError):
        return error.message, _identity_status(error)
    if isinstance(error, ExchangeError):
        return error.msg, getattr(error, "status", 400)
    return None


def _identity_status(error: identity_errors.IdentityError) -> int:
    table: list[tuple[type[identity_errors.IdentityError], int]] = [
        (identity_errors.LockedOut, 429),
        (identity_errors.TooManySignUps, 429),
        (identity_errors.CsrfInvalid, 403),
        (identity_errors.AuthenticationFailed, 401),
        (identity_errors.InvalidInput, 400),
        (identity_errors.EmailTaken, 409),
        (identity_errors.TwoFactorStateError, 409),
        (identity_errors.NotFound, 404),
        (identity_errors.SealedSecretUnreadable, 503),
    ]
    return next((status for kind, status in table if isinstance(error, kind)), 400)


def internal_error(error: Exception) -> Response:
    log.error("console error: %s", redact_text(repr(error)), exc_info=error)
    return render(
        "error.html",
        {
            "title": "Something went wrong",
            "viewer": None,
            "error": "The request could not be completed. Try again later.",
        },
        500,
    )


NOTICES = {
    "welcome": "Your account is ready. Turn on two-factor authentication to create API keys.",
    "logged_out": "You are logged out.",
    "logged_out_everywhere": "You are logged out on every device.",
    "expired": "That log-in took too long. Log in again.",
    "saved": "The key was saved.",
    "disabled": "The key is disabled: requests signed with it are refused until you enable it.",
    "enabled": "The key is enabled.",
    "revoked": "The key is revoked. This is final.",
    "rotated": "The key has a new public key.",
    "created": "The key was created.",
    "session_revoked": "The session was ended.",
    "2fa_off": "Two-factor authentication is off.",
}


def notice_of(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))
