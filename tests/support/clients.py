"""The real clients, unmodified, pointed at a local server the documented way."""

from __future__ import annotations

from typing import Any

import ccxt
from binance import Client

HOSTS = (
    "https://api.binance.com",
    "https://fapi.binance.com",
    "https://dapi.binance.com",
    "https://eapi.binance.com",
    "https://papi.binance.com",
)


def point_at(exchange: Any, base: str) -> Any:
    for name, url in list(exchange.urls["api"].items()):
        if isinstance(url, str):
            for host in HOSTS:
                if url.startswith(host):
                    exchange.urls["api"][name] = base + url[len(host) :]
    return exchange


def ccxt_binance(base: str, key: str, secret: str, **options: Any) -> Any:
    return point_at(ccxt.binance({"apiKey": key, "secret": secret, "options": options}), base)


def python_binance(base: str, key: str, secret: str | None = None, private_key: str | None = None) -> Client:
    class LocalClient(Client):
        API_URL = base + "/api"
        MARGIN_API_URL = base + "/sapi"

    if private_key is not None:
        return LocalClient(key, private_key=private_key)
    return LocalClient(key, secret)


def point_pro(exchange: Any, base: str) -> Any:
    """ccxt pro: every REST URL as ``point_at`` does, and every string under ``urls['api']['ws']``
    (nested ones too) at the same server, keeping its path (``/ws``, ``/ws-api/v3``)."""
    point_at(exchange, base)
    ws_base = "ws://" + base.split("://", 1)[1]

    def rewrite(node: dict[str, Any]) -> None:
        for name, url in list(node.items()):
            if isinstance(url, dict):
                rewrite(url)
            elif isinstance(url, str) and url.startswith("wss://"):
                node[name] = ws_base + "/" + url.split("/", 3)[3]

    rewrite(exchange.urls["api"]["ws"])
    return exchange
