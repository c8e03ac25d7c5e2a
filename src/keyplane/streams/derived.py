"""Tickers and klines: computed on each instance, for the topics its own connections read.

Why local: a 24-hour ticker or a candle is an aggregate of committed trades, which every instance
can read; computing them only where someone reads them keeps the writer free of work nobody
asked for. Once a second, for each ticker or kline topic read here whose market traded since the
last round (or that was just subscribed), the aggregate is read from committed rows and published
to this hub only. The trades that trigger it arrive as events: nothing polls for new trades.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import Connection, Engine

from keyplane.exchange import marketdata as md
from keyplane.store import exchange_repo as repo
from keyplane.streams import market_streams as ms
from keyplane.streams.hub import Hub, Message
from keyplane.streams.names import ALL_MINI_TICKERS, ALL_TICKERS
from keyplane.streams.periodic import Periodic

Best = tuple[Decimal, Decimal] | None


class Derived(Periodic):
    def __init__(self, hub: Hub, engine: Engine, now: Callable[[], int], period_s: float = 1.0) -> None:
        self._hub, self._engine, self._now, self.period_s = hub, engine, now, period_s
        self._traded: set[str] = set()
        self._best: dict[str, tuple[Best, Best]] = {}
        self._sent: set[str] = set()  # topics already answered once
        self._open_kline: dict[str, int] = {}  # topic -> open time of the last candle sent
        hub.watchers.append(self._watch)

    def _watch(self, messages: list[Message]) -> None:
        for topic, payload in messages:
            if topic.endswith("@trade"):
                self._traded.add(str(payload["s"]))
            elif topic.endswith("@bookTicker"):
                s = str(payload["s"])
                bid = (Decimal(payload["b"]), Decimal(payload["B"])) if Decimal(payload["B"]) else None
                ask = (Decimal(payload["a"]), Decimal(payload["A"])) if Decimal(payload["A"]) else None
                self._best[s] = (bid, ask)

    async def round(self) -> None:
        traded, self._traded = self._traded, set()
        topics = [t for t in self._hub.topics() if "@kline_" in t or t.endswith(("@ticker", "@miniTicker"))]
        everything = [t for t in (ALL_TICKERS, ALL_MINI_TICKERS) if self._hub.wants(t)]
        due = [t for t in topics if t not in self._sent or t.split("@")[0].upper() in traded]
        due += [t for t in everything if t not in self._sent or traded]
        due += [t for t in topics if "@kline_" in t and self._closing(t)]
        if not due:
            return
        messages = await asyncio.to_thread(self._compute, sorted(set(due)), traded)
        self._sent.update(due)
        self._sent.intersection_update(self._hub.topics())
        self._hub.publish(messages)

    def _closing(self, topic: str) -> bool:
        """A candle sent open whose interval has ended gets its final (closed) message."""
        opened = self._open_kline.get(topic)
        interval = topic.split("@kline_")[1]
        return opened is not None and md.next_open(interval, opened) <= self._now()

    def _compute(self, topics: list[str], traded: set[str]) -> list[Message]:
        now = self._now()
        out: list[Message] = []
        with self._engine.connect() as conn:
            symbols = {t.split("@")[0].upper() for t in topics if not t.startswith("!")}
            if any(t.startswith("!") for t in topics):
                symbols |= set(repo.load_markets(conn))
            tickers = {
                s: md.ticker_24h(conn, s, now, *self._best.get(s, (None, None)))
                for s in symbols
                if any(t.startswith(s.lower() + "@") and "kline" not in t for t in topics)
                or any(t.startswith("!") for t in topics)
            }
            for topic in topics:
                if topic == ALL_TICKERS:
                    out.append((topic, [ms.ticker(t, now) for t in tickers.values() if t.count]))
                elif topic == ALL_MINI_TICKERS:
                    out.append((topic, [ms.mini_ticker(t, now) for t in tickers.values() if t.count]))
                elif topic.endswith(("@ticker", "@miniTicker")):
                    # As Binance: a market without a trade in the window sends nothing (ccxt would
                    # read its zero prices as "no last price").
                    t = tickers[topic.split("@")[0].upper()]
                    render = ms.ticker if topic.endswith("@ticker") else ms.mini_ticker
                    if t.count:
                        out.append((topic, render(t, now)))
                else:
                    out.extend(self._kline(conn, topic, now))
        return out

    def _kline(self, conn: Connection, topic: str, now: int) -> list[Message]:
        symbol, interval = topic.split("@kline_")
        found = md.klines(conn, symbol.upper(), interval, None, None, 2, now)
        out: list[Message] = []
        opened = self._open_kline.get(topic)
        for k in found:
            closed = k.close_time < now
            if closed and opened != k.open_time:
                continue  # an older candle never sent open
            out.append((topic, ms.kline(symbol.upper(), interval, k, closed, now)))
        if found:
            self._open_kline[topic] = found[-1].open_time
        return out
