"""The route wrapper's per-request shortcuts read exactly what the slower way read."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from keyplane.http.routing import Route, Security, _api_key
from keyplane.keys.model import Permission
from keyplane.keys.pipeline import RouteNeeds


async def _handler(call: Any) -> dict[str, Any]:
    return {}


def _scope(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": list(headers)}


@pytest.mark.parametrize(
    "headers",
    [
        (),
        ((b"host", b"x"),),
        ((b"x-mbx-apikey", b"kp_first"),),
        ((b"host", b"x"), (b"x-mbx-apikey", b"kp_first"), (b"x-mbx-apikey", b"kp_second")),
        ((b"x-mbx-apikey", b""),),
        ((b"x-mbx-apikey", "clé".encode("latin-1")),),
        ((b"X-MBX-APIKEY", b"kp_upper"),),  # ASGI servers send lower-case names; Starlette matches those only
    ],
)
def test_the_api_key_is_read_as_starlette_reads_the_header(headers: tuple[tuple[bytes, bytes], ...]) -> None:
    scope = _scope(*headers)
    assert _api_key(scope) == Request(scope).headers.get("x-mbx-apikey")


def test_a_fixed_weight_route_builds_its_needs_once() -> None:
    route = Route("GET", "/x", _handler, Security.SIGNED, Permission.TRADE, 20, None)
    needs = route.needs({})
    assert needs == RouteNeeds(Permission.TRADE, 20, None)
    assert route.needs({"limit": "5000"}) is needs


def test_a_route_whose_weight_depends_on_the_request_weighs_each_request() -> None:
    route = Route("GET", "/x", _handler, Security.SIGNED, Permission.READ, lambda q: 1 + len(q))
    assert route.needs({}) == RouteNeeds(Permission.READ, 1, "symbol")
    assert route.needs({"a": "1", "b": "2"}) == RouteNeeds(Permission.READ, 3, "symbol")
