"""API management: the key table, create, edit, disable/enable, revoke and rotate.

A new or rotated HMAC secret is rendered into the response of the POST that made it and nowhere
else: it is not kept in the session, and the page swaps its URL so a reload shows the plain table.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from keyplane.clock import now_ms
from keyplane.http.console.auth import Viewer, action, page, platform_of, step_up
from keyplane.http.console.forms import (
    MAX_GRACE_SECONDS,
    ascii_count,
    form_values,
    needs_step_up,
    parse_key_form,
    text,
)
from keyplane.http.console.views import key_row, key_rows
from keyplane.http.console.web import BASE, KNOWN_ERRORS, describe, last_day, notice_of, redirect, render, run
from keyplane.keys import policy
from keyplane.keys.errors import KeyManagementError
from keyplane.keys.model import ApiKey, KeyKind
from keyplane.keys.service import UNSET, Actor, IssuedKey
from keyplane.runtime import Platform

KEYS = f"{BASE}/keys"


def _actor(viewer: Viewer) -> Actor:
    return Actor(f"user:{viewer.user_id}", viewer.ip)


async def _own_key(platform: Platform, viewer: Viewer, key_id: str) -> ApiKey:
    """The viewer's key; someone else's key is reported exactly like a missing one."""
    try:
        key = await run(platform.keys.get, key_id)
    except KeyManagementError:
        key = None
    if key is None or key.user_id != viewer.user_id:
        raise KeyManagementError("no such API key", "unknown_key")
    return key


async def _keys_page(request: Request, viewer: Viewer, status: int = 200, **context: object) -> Response:
    platform = platform_of(request)
    rows = await run(key_rows, platform.keys, viewer.user_id, now_ms())
    can_create = viewer.user.two_factor_enabled or not platform.settings.require_2fa_for_keys
    values = context.pop("values", None) or {"kind": "hmac", "permissions": set()}
    return render(
        "keys.html",
        {
            "title": "API keys",
            "nav": "keys",
            "viewer": viewer,
            "csrf": viewer.csrf,
            "rows": rows,
            "can_create": can_create,
            "needs_totp": viewer.user.two_factor_enabled,
            "values": values,
            "notice": notice_of(request),
            **context,
        },
        status,
    )


def _secret_once(issued: IssuedKey) -> dict[str, object]:
    return {"issued_key": issued.key, "issued_secret": issued.secret, "replace_url": KEYS}


@page
async def keys_page(request: Request, viewer: Viewer) -> Response:
    return await _keys_page(request, viewer)


@action
async def create_key(request: Request, viewer: Viewer, form: FormData) -> Response:
    platform = platform_of(request)
    try:
        fields = parse_key_form(form, now_ms(), creating=True)
        await step_up(request, viewer, text(form, "totp_code"), "create_key")
        issued = await run(
            platform.keys.create,
            viewer.user_id,
            _actor(viewer),
            label=fields.label,
            permissions=fields.permissions,
            ip_allowlist=fields.ip_allowlist,
            symbols=fields.symbols,
            expires_at=fields.expires_at,
            public_key_pem=fields.public_key_pem,
        )
    except KNOWN_ERRORS as error:
        message, status = describe(error)
        return await _keys_page(request, viewer, status, error=message, values=form_values(form))
    if issued.secret is None:
        return redirect(f"{KEYS}?notice=created")
    return await _keys_page(request, viewer, 200, **_secret_once(issued))


async def _detail(
    request: Request, viewer: Viewer, key: ApiKey, status: int = 200, **context: object
) -> Response:
    platform = platform_of(request)
    return render(
        "key_detail.html",
        {
            "title": f"Key {key.label or key.key_id}",
            "nav": "keys",
            "viewer": viewer,
            "csrf": viewer.csrf,
            "row": key_row(key, platform.keys, now_ms()),
            "needs_totp": viewer.user.two_factor_enabled,
            "notice": notice_of(request),
            **context,
        },
        status,
    )


@page
async def key_page(request: Request, viewer: Viewer) -> Response:
    key = await _own_key(platform_of(request), viewer, request.path_params["key_id"])
    return await _detail(request, viewer, key)


@action
async def edit_key(request: Request, viewer: Viewer, form: FormData) -> Response:
    platform = platform_of(request)
    key = await _own_key(platform, viewer, request.path_params["key_id"])
    try:
        fields = parse_key_form(form, now_ms(), creating=False)
        expiry_changed = fields.expiry_text != ("" if key.expires_at is None else last_day(key.expires_at))
        if expiry_changed:
            policy.clean_expiry(fields.expires_at, now_ms())
        if needs_step_up(key, fields, expiry_changed=expiry_changed):
            await step_up(request, viewer, text(form, "totp_code"), "edit_key")
        await run(
            platform.keys.edit,
            key.key_id,
            _actor(viewer),
            label=fields.label,
            permissions=fields.permissions,
            ip_allowlist=fields.ip_allowlist,
            symbols=fields.symbols,
            expires_at=fields.expires_at if expiry_changed else UNSET,
        )
    except KNOWN_ERRORS as error:
        message, status = describe(error)
        return await _detail(request, viewer, key, status, error=message)
    return redirect(f"{KEYS}/{key.key_id}?notice=saved")


@action
async def disable_key(request: Request, viewer: Viewer, form: FormData) -> Response:
    platform = platform_of(request)
    key = await _own_key(platform, viewer, request.path_params["key_id"])
    await run(platform.keys.disable, key.key_id, _actor(viewer), "disabled by its owner in the console")
    return redirect(f"{KEYS}/{key.key_id}?notice=disabled")


@action
async def enable_key(request: Request, viewer: Viewer, form: FormData) -> Response:
    platform = platform_of(request)
    key = await _own_key(platform, viewer, request.path_params["key_id"])
    try:
        # Disabling is the quick safe reaction to a leak; undoing it must prove it is the owner.
        await step_up(request, viewer, text(form, "totp_code"), "enable_key")
        await run(platform.keys.enable, key.key_id, _actor(viewer))
    except KNOWN_ERRORS as error:
        message, status = describe(error)
        return await _detail(request, viewer, key, status, error=message)
    return redirect(f"{KEYS}/{key.key_id}?notice=enabled")


@page
async def revoke_page(request: Request, viewer: Viewer) -> Response:
    key = await _own_key(platform_of(request), viewer, request.path_params["key_id"])
    return render(
        "key_revoke.html",
        {"title": "Revoke API key", "nav": "keys", "viewer": viewer, "csrf": viewer.csrf, "key": key},
    )


@action
async def revoke_key(request: Request, viewer: Viewer, form: FormData) -> Response:
    platform = platform_of(request)
    key = await _own_key(platform, viewer, request.path_params["key_id"])
    await run(platform.keys.revoke, key.key_id, _actor(viewer), "revoked by its owner in the console")
    back = f"{BASE}/review" if text(form, "return_to") == "review" else KEYS
    return redirect(f"{back}?notice=revoked")


@action
async def rotate_key(request: Request, viewer: Viewer, form: FormData) -> Response:
    platform = platform_of(request)
    key = await _own_key(platform, viewer, request.path_params["key_id"])
    grace = ascii_count(text(form, "grace_seconds") or "0")
    if grace is None or grace > MAX_GRACE_SECONDS:  # refused before the TOTP code is spent
        error = f"The grace period is a number of seconds, from 0 to {MAX_GRACE_SECONDS} (7 days)."
        return await _detail(request, viewer, key, 400, error=error)
    pem = None if key.kind is KeyKind.HMAC else (text(form, "public_key_pem").strip() or None)
    try:
        await step_up(request, viewer, text(form, "totp_code"), "rotate_key")
        issued = await run(platform.keys.rotate, key.key_id, _actor(viewer), grace, pem)
    except KNOWN_ERRORS as error:
        message, status = describe(error)
        return await _detail(request, viewer, key, status, error=message)
    if issued.secret is None:
        return redirect(f"{KEYS}/{key.key_id}?notice=rotated")
    return await _keys_page(request, viewer, 200, rotated=True, **_secret_once(issued))
