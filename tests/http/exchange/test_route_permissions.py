"""Every signed route in the one route table refuses a key without its permission (-2015)."""

from __future__ import annotations

import pytest

from keyplane.http.app import all_routes
from keyplane.http.routing import Route, Security
from keyplane.keys.model import Permission
from tests.http.conftest import issue_key
from tests.http.exchange.conftest import Venue
from tests.http.exchange.raw import signed

SIGNED_ROUTES = [r for r in all_routes() if r.security is Security.SIGNED]


@pytest.fixture(scope="module")
def keys(venue: Venue) -> dict[str, dict[str, str]]:
    """A key per permission set; read is always on, withdraw needs an IP allowlist."""
    server = venue.server
    return {
        "read": venue.reader,
        "read,trade": venue.alice,
        "read,withdraw": issue_key(server, "--permissions", "read,withdraw", "--ip", "127.0.0.1"),
    }


def lacking(route: Route) -> str | None:
    return {Permission.TRADE: "read", Permission.WITHDRAW: "read,trade"}.get(route.permission)


def holding(route: Route) -> str:
    return {Permission.READ: "read", Permission.TRADE: "read,trade", Permission.WITHDRAW: "read,withdraw"}[
        route.permission
    ]


def test_every_signed_route_declares_a_permission() -> None:
    assert SIGNED_ROUTES and all(r.permission is not None for r in SIGNED_ROUTES)


@pytest.mark.parametrize("route", SIGNED_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_signed_route_refuses_a_key_without_its_permission(
    route: Route, venue: Venue, keys: dict[str, dict[str, str]]
) -> None:
    without = lacking(route)
    if without is not None:
        refused = signed(venue.url, keys[without], route.method, route.path)
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == -2015 and "no operation privilege" in refused.json()["msg"]
    allowed = signed(venue.url, keys[holding(route)], route.method, route.path)
    assert allowed.status_code < 500, allowed.text
    assert allowed.status_code == 200 or allowed.json()["code"] != -2015, allowed.text
