"""Binance API requests go straight to their route by exact path and method.

Why: Starlette's router tries every route's pattern in turn (about twenty before
``/api/v3/account``) and wraps each call in exception-handling layers that :func:`handle` makes
redundant, since it turns every error into a Binance-shaped answer itself. A dictionary lookup does
the same job in constant time on the hot path. Anything else (the console, operator routes, an
unknown path, a method a path does not serve) goes on to the router exactly as before.
"""

from __future__ import annotations

from collections import defaultdict

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from keyplane.http.routing import Route, handle


class ApiPaths:
    """ASGI middleware, innermost: serves the API route table's exact paths itself."""

    def __init__(self, app: ASGIApp, routes: list[Route]) -> None:
        self.app = app
        table: dict[str, dict[str, Route]] = defaultdict(dict)
        for route in routes:
            table[route.path][route.method] = route
        self.table = dict(table)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            by_method = self.table.get(scope["path"])
            route = by_method.get(scope["method"]) if by_method is not None else None
            if route is not None:
                response = await handle(route, Request(scope, receive, send))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
