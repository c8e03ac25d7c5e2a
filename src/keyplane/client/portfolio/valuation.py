"""Prices in the quote currency from one exchange's own tickers.

An asset is priced by its direct pair (``BTC/USDT``), else the inverse pair (``USDT/BTC``), else
through one bridge asset the exchange lists both ways (``SOL/BTC`` then ``BTC/USDT``). The price is
the last trade, or the mid of bid and ask when nothing traded yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

BRIDGES = ("USDT", "USDC", "BTC", "ETH", "EUR", "USD")


def ticker_price(ticker: Mapping[str, Any] | None) -> Decimal | None:
    if not ticker:
        return None
    last = ticker.get("last") or ticker.get("close")
    if last:
        return _dec(last)
    bid, ask = ticker.get("bid"), ticker.get("ask")
    if bid and ask:
        return (_dec(bid) + _dec(ask)) / 2
    return None


def price_in(asset: str, quote: str, tickers: Mapping[str, Mapping[str, Any]]) -> Decimal | None:
    """The price of one ``asset`` in ``quote``, or None when the exchange offers no route."""
    if asset == quote:
        return Decimal(1)
    direct = _pair(asset, quote, tickers)
    if direct is not None:
        return direct
    for bridge in BRIDGES:
        if bridge in (asset, quote):
            continue
        first = _pair(asset, bridge, tickers)
        second = _pair(bridge, quote, tickers) if first is not None else None
        if first is not None and second is not None:
            return first * second
    return None


def route(asset: str, quote: str, tickers: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, bool]]:
    """The symbols (each with whether it is inverted) that price ``asset`` as ``price_in`` does."""
    if asset == quote:
        return []
    direct = _leg(asset, quote, tickers)
    if direct is not None:
        return [direct]
    for bridge in BRIDGES:
        if bridge in (asset, quote):
            continue
        first, second = _leg(asset, bridge, tickers), _leg(bridge, quote, tickers)
        if first is not None and second is not None:
            return [first, second]
    return []


def _leg(base: str, quote: str, tickers: Mapping[str, Mapping[str, Any]]) -> tuple[str, bool] | None:
    if ticker_price(tickers.get(f"{base}/{quote}")):
        return (f"{base}/{quote}", False)
    if ticker_price(tickers.get(f"{quote}/{base}")):
        return (f"{quote}/{base}", True)
    return None


def _pair(base: str, quote: str, tickers: Mapping[str, Mapping[str, Any]]) -> Decimal | None:
    price = ticker_price(tickers.get(f"{base}/{quote}"))
    if price:
        return price
    inverse = ticker_price(tickers.get(f"{quote}/{base}"))
    if inverse:
        return Decimal(1) / inverse
    return None


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))
