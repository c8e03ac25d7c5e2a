"""System and key-introspection routes: ping, time, system status, API-key restrictions, stubs
that a zero-option ``ccxt.binance`` calls while loading markets."""

from __future__ import annotations

from typing import Any

from keyplane.clock import now_ms
from keyplane.http.routing import Call, Route, Security
from keyplane.keys.model import Permission


async def ping(call: Call) -> dict[str, Any]:
    return {}


async def server_time(call: Call) -> dict[str, Any]:
    return {"serverTime": now_ms()}


async def system_status(call: Call) -> dict[str, Any]:
    return {"status": 0, "msg": "normal"}


async def api_restrictions(call: Call) -> dict[str, Any]:
    """Binance's fields, then Keyplane's own: the exact policy, so a client can check before use."""
    key = call.key
    assert key is not None
    return {
        "ipRestrict": bool(key.ip_allowlist),
        "createTime": key.created_at,
        "enableReading": Permission.READ in key.permissions,
        "enableSpotAndMarginTrading": Permission.TRADE in key.permissions,
        "enableWithdrawals": Permission.WITHDRAW in key.permissions,
        "enableInternalTransfer": False,
        "enableMargin": False,
        "enableFutures": False,
        "permitsUniversalTransfer": False,
        "enableVanillaOptions": False,
        "enableFixApiTrade": False,
        "enableFixReadOnly": False,
        "enablePortfolioMarginTrading": False,
        "keyplane": {
            "keyId": key.key_id,
            "kind": key.kind.value,
            "label": key.label,
            "permissions": sorted(p.value for p in key.permissions),
            "ipAllowlist": list(key.ip_allowlist),
            "symbols": sorted(key.symbols),
            "expiresAt": key.expires_at,
            "status": key.status.value,
        },
    }


async def empty_list(call: Call) -> list[Any]:
    return []


async def empty_exchange_info(call: Call) -> dict[str, Any]:
    return {"timezone": "UTC", "serverTime": now_ms(), "rateLimits": [], "exchangeFilters": [], "symbols": []}


SYSTEM_ROUTES = [
    Route("GET", "/api/v3/ping", ping, weight=1),
    Route("GET", "/api/v3/time", server_time, weight=1),
    Route("GET", "/sapi/v1/system/status", system_status, weight=1),
    Route(
        "GET", "/sapi/v1/account/apiRestrictions", api_restrictions, Security.SIGNED, Permission.READ, 1, None
    ),
    Route("GET", "/sapi/v1/margin/allPairs", empty_list, Security.SIGNED, Permission.READ, 1, None),
    Route("GET", "/sapi/v1/margin/isolated/allPairs", empty_list, Security.SIGNED, Permission.READ, 10, None),
    Route("GET", "/fapi/v1/exchangeInfo", empty_exchange_info, weight=1),
    Route("GET", "/dapi/v1/exchangeInfo", empty_exchange_info, weight=1),
]
