"""The WebSocket API's methods as rows of the REST route table, and its parameter rules.

One table, so a WebSocket request needs the same permission and weighs the same as its REST twin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from keyplane.http.binance_system import SYSTEM_ROUTES
from keyplane.http.exchange_routes import EXCHANGE_ROUTES
from keyplane.http.routing import Route
from keyplane.keys.errors import BadParameter

# method -> (HTTP method, REST path)
METHODS: dict[str, tuple[str, str]] = {
    "order.place": ("POST", "/api/v3/order"),
    "order.test": ("POST", "/api/v3/order/test"),
    "order.cancel": ("DELETE", "/api/v3/order"),
    "order.cancelReplace": ("POST", "/api/v3/order/cancelReplace"),
    "order.amend.keepPriority": ("PUT", "/api/v3/order/amend/keepPriority"),
    "order.status": ("GET", "/api/v3/order"),
    "openOrders.status": ("GET", "/api/v3/openOrders"),
    "openOrders.cancelAll": ("DELETE", "/api/v3/openOrders"),
    "allOrders": ("GET", "/api/v3/allOrders"),
    "myTrades": ("GET", "/api/v3/myTrades"),
    "myPreventedMatches": ("GET", "/api/v3/myPreventedMatches"),
    "orderList.place": ("POST", "/api/v3/order/oco"),
    "orderList.place.oco": ("POST", "/api/v3/orderList/oco"),
    "orderList.place.oto": ("POST", "/api/v3/orderList/oto"),
    "orderList.place.otoco": ("POST", "/api/v3/orderList/otoco"),
    "orderList.status": ("GET", "/api/v3/orderList"),
    "orderList.cancel": ("DELETE", "/api/v3/orderList"),
    "openOrderLists.status": ("GET", "/api/v3/openOrderList"),
    "allOrderLists": ("GET", "/api/v3/allOrderList"),
    "account.status": ("GET", "/api/v3/account"),
    "account.rateLimits.orders": ("GET", "/api/v3/rateLimit/order"),
    "account.commission": ("GET", "/api/v3/account/commission"),
    "depth": ("GET", "/api/v3/depth"),
    "trades.recent": ("GET", "/api/v3/trades"),
    "klines": ("GET", "/api/v3/klines"),
    "uiKlines": ("GET", "/api/v3/uiKlines"),
    "ticker.24hr": ("GET", "/api/v3/ticker/24hr"),
    "ticker": ("GET", "/api/v3/ticker"),
    "ticker.tradingDay": ("GET", "/api/v3/ticker/tradingDay"),
    "ticker.price": ("GET", "/api/v3/ticker/price"),
    "ticker.book": ("GET", "/api/v3/ticker/bookTicker"),
    "avgPrice": ("GET", "/api/v3/avgPrice"),
    "exchangeInfo": ("GET", "/api/v3/exchangeInfo"),
}
_BY_REST = {(r.method, r.path): r for r in [*SYSTEM_ROUTES, *EXCHANGE_ROUTES]}
MAX_PARAMS = 64
MAX_VALUE = 1024


def route_of(method: Any) -> Route | None:
    if not isinstance(method, str) or method not in METHODS:
        return None
    return _BY_REST.get(METHODS[method])


def string_params(params: Any) -> dict[str, str]:
    """JSON parameters as the strings a REST query would carry (numbers as written, booleans
    lower case); anything nested, or too many or too long, is refused (-1100)."""
    if not isinstance(params, dict) or len(params) > MAX_PARAMS:
        raise BadParameter(-1100, "Illegal characters found in a parameter: 'params' must be an object.")
    out: dict[str, str] = {}
    for name, value in params.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float, str)):
            text = str(value)
        else:
            raise BadParameter(-1100, f"Illegal characters found in parameter '{name[:40]}'.")
        if len(text) > MAX_VALUE or len(name) > 64:
            raise BadParameter(-1100, f"Illegal characters found in parameter '{name[:40]}'.")
        out[name] = text
    return out


def signing_payloads(params: dict[str, str]) -> tuple[bytes, ...]:
    """What a WebSocket API signature covers: every parameter but ``signature``, sorted by name,
    as ``k=v`` joined by ``&`` (Binance's rule, what ccxt signs); python-binance percent-encodes
    the values first, so that spelling is the second candidate."""
    ordered = sorted(params.items())
    raw = "&".join(f"{k}={v}" for k, v in ordered).encode()
    encoded = urlencode(ordered).encode()
    return (raw,) if raw == encoded else (raw, encoded)


class Relayed(Exception):
    """The writer's refusal of a forwarded command, passed on as it answered it."""

    def __init__(self, body: Any, status: int) -> None:
        super().__init__("relayed refusal")
        self.code = int(body.get("code", -1000)) if isinstance(body, dict) else -1000
        self.msg = str(body.get("msg", "")) if isinstance(body, dict) else ""
        self.status = status
        self.data = body.get("data") if isinstance(body, dict) else None  # a cancel-replace's results
