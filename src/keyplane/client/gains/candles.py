"""Prices from the exchanges' own hourly candles, for assets the history never traded for cash."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

HOUR_MS = 3_600_000


class CandlePrices:
    """The close of the hourly candle holding ``at_ms`` on ``ASSET/REPORT`` of the first exchange
    that lists that market; answers are cached per market and hour."""

    def __init__(self, exchanges: list[Any], report: str) -> None:
        self.exchanges = exchanges
        self.report = report
        self.cache: dict[tuple[str, int], Decimal | None] = {}

    def price(self, asset: str, at_ms: int) -> Decimal | None:
        symbol = f"{asset}/{self.report}"
        hour = at_ms - at_ms % HOUR_MS
        if (symbol, hour) not in self.cache:
            self.cache[(symbol, hour)] = self._ask(symbol, hour)
        return self.cache[(symbol, hour)]

    def _ask(self, symbol: str, hour: int) -> Decimal | None:
        import ccxt

        for exchange in self.exchanges:
            if symbol not in (exchange.markets or {}):
                continue
            try:
                candles = exchange.fetch_ohlcv(symbol, "1h", hour - HOUR_MS, 3)
            except ccxt.BaseError:
                continue
            before = [c for c in candles if c[0] <= hour]
            if before:
                return Decimal(str(before[-1][4]))
        return None
