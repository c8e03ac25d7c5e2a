"""The ASGI application: every route from the tables, the lifespan that starts background tasks."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute
from starlette.routing import Route as StarletteRoute

from keyplane.http.binance_capital import CAPITAL_ROUTES
from keyplane.http.binance_system import SYSTEM_ROUTES
from keyplane.http.clientip import parse_trusted
from keyplane.http.console import console_routes
from keyplane.http.dispatch import ApiPaths
from keyplane.http.errors import error_response
from keyplane.http.exchange_routes import EXCHANGE_ROUTES
from keyplane.http.forwarding import ForwardedRequests
from keyplane.http.limits import RequestLimits
from keyplane.http.operator_routes import OPERATOR_ROUTES
from keyplane.http.routing import Route, handle
from keyplane.http.ws_api import API_ROUTES
from keyplane.http.ws_streams import STREAM_ROUTES
from keyplane.http.ws_user import USER_STREAM_ROUTES
from keyplane.runtime import Platform, build_server_parts


def all_routes() -> list[Route]:
    """The whole Binance-compatible route table, in one list that tests walk."""
    return [*SYSTEM_ROUTES, *EXCHANGE_ROUTES, *CAPITAL_ROUTES]


# Binance's API prefixes: a client that calls a path under one of them knows an operation that
# Keyplane does not serve, and must not retry it (ccxt retries a 404 -1000 as OperationFailed).
BINANCE_PREFIXES = ("/api/", "/sapi/", "/wapi/", "/fapi/", "/dapi/", "/eapi/", "/papi/", "/vapi/")


def unsupported() -> Response:
    """Binance's answer to an operation it does not offer: 400 -1020 (ccxt: BadRequest, not retried)."""
    return error_response(-1020, "This operation is not supported.", 400)


def _endpoint(by_method: dict[str, Route]):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        route = by_method.get(request.method)
        if route is None:
            return unsupported()
        return await handle(route, request)

    return endpoint


def starlette_routes(routes: list[Route]) -> list[BaseRoute]:
    grouped: dict[str, dict[str, Route]] = defaultdict(dict)
    for route in routes:
        grouped[route.path][route.method] = route
    return [
        StarletteRoute(path, _endpoint(methods), methods=list(methods)) for path, methods in grouped.items()
    ]


async def _not_found(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith(BINANCE_PREFIXES):
        return unsupported()
    return error_response(-1000, "Unknown path.", 404)


async def _root(request: Request) -> Response:
    """A browser opening the server's address lands on the console, not on a JSON error."""
    return RedirectResponse("/console", status_code=302)


async def _internal(request: Request, exc: Exception) -> Response:
    return error_response(-1000, "An unknown error occurred while processing the request.", 500)


Background = Callable[[Platform], Coroutine[Any, Any, None]]


def create_app(platform: Platform, background: Sequence[Background] = ()) -> Starlette:
    """The app; ``background`` coroutines (e.g. the demo's market maker) run while it serves."""
    parts = build_server_parts(platform)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await parts.start()
        tasks: list[asyncio.Task[None]] = [asyncio.create_task(job(platform)) for job in background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await parts.stop()

    settings = platform.settings
    limits = Middleware(
        RequestLimits,
        max_body_bytes=settings.request_body_max_bytes,
        timeout_seconds=settings.request_timeout_seconds,
    )
    api_routes = all_routes()
    app = Starlette(
        routes=[
            StarletteRoute("/", _root, methods=["GET"]),
            *starlette_routes(api_routes),
            *USER_STREAM_ROUTES,
            *STREAM_ROUTES,
            *API_ROUTES,
            *OPERATOR_ROUTES,
            *console_routes(),
        ],
        middleware=[
            limits,
            Middleware(ForwardedRequests, parts=parts),
            Middleware(ApiPaths, routes=api_routes),
        ],
        lifespan=lifespan,
        exception_handlers={404: _not_found, 405: _not_found, 500: _internal},
    )
    app.state.parts = parts
    app.state.trusted_proxies = parse_trusted(settings.trusted_proxies)
    return app
