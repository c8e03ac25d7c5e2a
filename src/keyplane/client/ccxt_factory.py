"""ccxt exchanges, REST and pro (async + streams), built from vault credentials.

A Keyplane server speaks Binance's API, so a ``keyplane`` account is ccxt's ``binance`` class with
every URL under ``urls['api']`` (the nested WebSocket ones included) moved to the server's base
URL: the scheme and host are replaced, Binance's paths are kept, and ``wss``/``https`` become
``ws``/``http`` when the server is plain HTTP. Any other account is the ccxt class named by its
exchange id, moved the same way only when the account has a URL (a testnet, a proxy).

ccxt is imported here, lazily, so commands that never talk to an exchange start fast.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from keyplane.client.errors import InvalidCredentials
from keyplane.client.vault import KEYPLANE, Credentials

_ORIGIN = re.compile(r"^(?P<scheme>[a-z]+)://[^/]+")


def ccxt_id(credentials: Credentials) -> str:
    return "binance" if credentials.exchange == KEYPLANE else credentials.exchange


def config_for(credentials: Credentials, **options: Any) -> dict[str, Any]:
    """The constructor config: key material goes straight to ccxt and nowhere else."""
    config: dict[str, Any] = {"apiKey": credentials.api_key, "enableRateLimit": True}
    if credentials.secret is not None:
        config["secret"] = credentials.secret
    if credentials.private_key is not None:
        config["secret"] = credentials.private_key  # ccxt's binance signs with a PEM given as secret
    if credentials.password is not None:
        config["password"] = credentials.password
    merged: dict[str, Any] = {}
    if credentials.exchange == KEYPLANE:
        # Keyplane is a spot exchange: loading futures or margin markets would only cost requests.
        # adjustForTimeDifference: ccxt syncs its clock offset from /api/v3/time when loading markets.
        merged.update(
            fetchMarkets={"types": ["spot"]},
            fetchMargins=False,
            adjustForTimeDifference=True,
            fetchOpenOrders={"warnWithoutSymbol": False},
        )
    merged.update(options)
    config["options"] = merged
    return config


def point_at(exchange: Any, base_url: str) -> Any:
    """Move every URL under ``exchange.urls['api']`` (nested dicts too) to ``base_url``."""
    base = base_url.rstrip("/")
    exchange.urls["api"] = _rewrite(exchange.urls["api"], base)
    return exchange


def _rewrite(value: Any, base: str) -> Any:
    if isinstance(value, dict):
        return {name: _rewrite(item, base) for name, item in value.items()}
    if isinstance(value, str):
        match = _ORIGIN.match(value)
        if match is None:
            return value
        scheme = match.group("scheme")
        target = urlsplit(base)
        if scheme in ("ws", "wss"):
            new_scheme = "wss" if target.scheme == "https" else "ws"
        else:
            new_scheme = target.scheme
        return f"{new_scheme}://{target.netloc}{target.path}{value[match.end() :]}"
    return value


def rest(credentials: Credentials, **options: Any) -> Any:
    """A synchronous ccxt exchange for ``credentials``."""
    import ccxt

    return _build(ccxt, credentials, options)


def async_rest(credentials: Credentials, **options: Any) -> Any:
    """An asyncio ccxt exchange (``ccxt.async_support``); close it with ``await ex.close()``."""
    import ccxt.async_support as ccxt_async

    return _build(ccxt_async, credentials, options)


def pro(credentials: Credentials, **options: Any) -> Any:
    """A ccxt pro exchange (asyncio, ``watch_*`` streams); close it with ``await ex.close()``."""
    import ccxt.pro as ccxt_pro

    return _build(ccxt_pro, credentials, options)


def _build(module: Any, credentials: Credentials, options: dict[str, Any]) -> Any:
    name = ccxt_id(credentials)
    cls = getattr(module, name, None)
    if cls is None or name.startswith("_"):
        raise InvalidCredentials(f"ccxt has no exchange {name!r} here")
    exchange = cls(config_for(credentials, **options))
    if credentials.url:
        point_at(exchange, credentials.url)
    return exchange


def has_streams(exchange: Any) -> bool:
    """True when the exchange object offers ccxt pro streams (``watchOrders``)."""
    return bool(getattr(exchange, "has", {}).get("watchOrders"))
