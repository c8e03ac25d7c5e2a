"""Binance stream names: which are served, and the topic each one reads.

A topic is what the hub routes; several names may read one topic (``btcusdt@depth`` and
``btcusdt@depth@1000ms`` both read the diff topic paced at 1000 ms, Binance's default), and the name
a client subscribed with is the one its combined payloads carry.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

from keyplane.exchange.marketdata import INTERVALS
from keyplane.streams.paced_depth import diff_topic, partial_topic

ALL_TICKERS, ALL_MINI_TICKERS = "!ticker@arr", "!miniTicker@arr"
SIMPLE = frozenset({"trade", "aggTrade", "bookTicker", "ticker", "miniTicker"})
NAME_RE = re.compile(
    r"^(?P<symbol>[a-z0-9]{1,20})@(?P<kind>trade|aggTrade|bookTicker|ticker|miniTicker|"
    r"kline_(?P<interval>[0-9]{1,2}[smhdwM])(?:@\+08:00)?|"
    r"depth(?P<levels>5|10|20)?(?:@(?P<speed>100|1000)ms)?)$"
)


@dataclass(frozen=True, slots=True)
class Stream:
    """One subscribable name; ``topic`` is what the hub routes, ``symbol`` in upper case."""

    name: str
    topic: str
    symbol: str | None
    kind: str


def parse(name: str, symbols: Container[str]) -> Stream | None:
    """The stream a name means, or None if Keyplane does not serve it (unknown market included)."""
    if name in (ALL_TICKERS, ALL_MINI_TICKERS):
        return Stream(name, name, None, name)
    m = NAME_RE.match(name)
    if m is None or m["symbol"].upper() not in symbols:
        return None
    symbol, kind = m["symbol"], m["kind"]
    if m["interval"] is not None:
        interval = m["interval"]
        if interval not in INTERVALS:
            return None
        return Stream(name, f"{symbol}@kline_{interval}", symbol.upper(), "kline")
    if kind.startswith("depth"):
        speed = int(m["speed"] or 1000)
        if m["levels"]:
            return Stream(name, partial_topic(symbol, int(m["levels"]), speed), symbol.upper(), "partial")
        return Stream(name, diff_topic(symbol, speed), symbol.upper(), "depth")
    return Stream(name, name, symbol.upper(), kind)


def user_topic(user_id: int) -> str:
    """The topic of one user's account events (never a name a client can subscribe to)."""
    return f"user:{user_id}"
