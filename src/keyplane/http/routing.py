"""The route table's row type and the one wrapper that turns a row into an endpoint.

Every Binance-compatible route declares its security (public or signed), the permission a key
needs and its request weight in one table (``binance_routes.ROUTES``), which the tests walk.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import Response
from starlette.types import Scope

from keyplane import jsontext
from keyplane.cluster.channel import Forwarded
from keyplane.cluster.gateway import NoSharedReplayGuard
from keyplane.http.errors import to_response
from keyplane.http.forwarding import forward, forwarded_of, request_ip
from keyplane.keys.errors import KeyError_, RequestRefused
from keyplane.keys.model import ApiKey, Permission
from keyplane.keys.payload import Params, SignedRequest, parse_request
from keyplane.keys.pipeline import RouteNeeds
from keyplane.runtime import ServerParts


class Security(str, Enum):
    PUBLIC = "public"
    SIGNED = "signed"


@dataclass
class Call:
    """One request as a handler sees it: parameters, the verified key (signed routes) and the app."""

    request: HTTPConnection  # a WebSocket for the WebSocket API
    parts: ServerParts
    params: Params
    client_ip: str
    key: ApiKey | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def user_id(self) -> int:
        assert self.key is not None, "only signed routes have a user"
        return self.key.user_id


Handler = Callable[[Call], Awaitable[Any]]
# Binance scales some weights with the request (``limit``, how many symbols): those routes give a function.
Weight = int | Callable[[Params], int]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    security: Security = Security.PUBLIC
    permission: Permission | None = None
    weight: Weight = 1
    symbol_param: str | None = "symbol"
    # Served by the instance that runs the exchange; any other forwards it there once verified.
    on_exchange: bool = False

    def weight_of(self, params: Params) -> int:
        return self.weight(params) if callable(self.weight) else self.weight

    def needs(self, params: Params) -> RouteNeeds:
        if callable(self.weight):
            assert self.permission is not None
            return RouteNeeds(self.permission, self.weight(params), self.symbol_param)
        return self._fixed_needs

    @functools.cached_property
    def _fixed_needs(self) -> RouteNeeds:
        """A fixed-weight route's needs, built once (a frozen record: shared safely)."""
        assert self.permission is not None and not callable(self.weight)
        return RouteNeeds(self.permission, self.weight, self.symbol_param)


def _json(data: Any, headers: dict[str, str]) -> Response:
    if isinstance(data, Response):
        data.headers.update(headers)
        return data
    return Response(jsontext.dumps(data), media_type="application/json", headers=headers)


async def handle(route: Route, request: Request) -> Response:
    """Parse, verify (signed routes), call the handler and serialise; map every error.

    On an instance that does not run the exchange, an exchange route is forwarded once verified."""
    parts: ServerParts = request.app.state.parts
    ip = request_ip(request)
    used: int | None = None  # the IP's weight this minute, once counted
    try:
        body = await request.body() if request.method != "GET" else b""
        raw_query = request.scope.get("query_string", b"")
        try:
            parsed = parse_request(raw_query, body)
        except KeyError_ as unreadable:
            unreadable.used_weight = await parts.verifier.charge_unreadable(ip, route.weight_of({}))
            raise
        forwarded = forwarded_of(request)
        if forwarded is not None:
            call, used = await _proven_call(route, request, parts, parsed.params, forwarded)
        elif route.security is Security.SIGNED:
            signed = SignedRequest(request.method, parsed, _api_key(request.scope), ip, route.path)
            verified = await parts.verifier.verify(signed, route.needs(parsed.params))
            call = Call(request, parts, verified.params, ip, verified.key)
            used = verified.used_weight
        else:
            used = await parts.verifier.charge_public(ip, route.weight_of(parsed.params))
            call = Call(request, parts, parsed.params, ip)
        if route.on_exchange and not parts.platform.runs_exchange:
            if call.key is not None and parts.redis is None:
                raise NoSharedReplayGuard()
            key_id = call.key.key_id if call.key is not None else None
            return await forward(request, body, client_ip=ip, key_id=key_id, weight=used)
        result = await route.handler(call)
        call.headers["X-MBX-USED-WEIGHT-1M"] = str(used)
        return _json(result, call.headers)
    except ClientDisconnect:
        raise  # the client hung up mid-body: a normal end, handled (quietly) by RequestLimits
    except Exception as error:  # noqa: BLE001 - every error becomes a Binance-shaped answer
        response = to_response(error)
        if used is None and isinstance(error, KeyError_):
            used = error.used_weight
        if used is not None:  # Binance reports the weight on every answer that counted it
            response.headers["X-MBX-USED-WEIGHT-1M"] = str(used)
        return response


def _api_key(scope: Scope) -> str | None:
    """``X-MBX-APIKEY`` as ``request.headers.get`` reads it (the first one; ASGI names are lower
    case), without building the whole ``Headers`` of a request that needs no other header."""
    for name, value in scope["headers"]:
        if name == b"x-mbx-apikey":
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


async def _proven_call(
    route: Route, request: Request, parts: ServerParts, params: Params, forwarded: Forwarded
) -> tuple[Call, int]:
    """A request a gateway verified and forwarded: its key is taken as proven, not checked again
    (the replay guard has seen its signature), but it must still exist here and be the one named."""
    if route.security is not Security.SIGNED:
        return Call(request, parts, params, forwarded.client_ip), forwarded.weight or 0
    entry = await parts.cache.get(forwarded.key_id) if forwarded.key_id else None
    if entry is None:
        raise RequestRefused()  # revoked or deleted since the gateway checked it
    return Call(request, parts, params, forwarded.client_ip, entry.key), forwarded.weight or 0
