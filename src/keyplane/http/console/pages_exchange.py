"""Balances and orders: a placeholder until the platform carries an exchange to show."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from keyplane.http.console.auth import Viewer, page, platform_of
from keyplane.http.console.web import render


def _has_exchange(platform: object) -> bool:
    """Looked up on the class: reading a lazy ``exchange`` property would start the exchange."""
    return hasattr(type(platform), "exchange") or "exchange" in vars(platform)


@page
async def exchange_page(request: Request, viewer: Viewer) -> Response:
    return render("exchange.html", {
        "title": "Balances and orders", "nav": "exchange", "viewer": viewer, "csrf": viewer.csrf,
        "exchange_ready": _has_exchange(platform_of(request)),
    })
