"""Market data computed from the engine's own trades: trades, aggTrades, klines, tickers.

Correctness over cleverness: each query reads the trades it needs from the repository (indexed by
symbol and time or id) and aggregates in Python with ``Decimal``. Book-derived values (depth, best bid/ask) are
passed in by the service, which owns the books.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from keyplane.exchange.errors import InvalidInterval
from keyplane.exchange.models import AggTrade, PublicTrade, TradeRecord
from keyplane.exchange.orders import clamp_limit
from keyplane.store import exchange_repo as repo

ZERO = Decimal(0)
SECOND, MINUTE, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000
INTERVALS: dict[str, int] = {
    "1s": SECOND,
    "1m": MINUTE,
    "3m": 3 * MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": HOUR,
    "2h": 2 * HOUR,
    "4h": 4 * HOUR,
    "6h": 6 * HOUR,
    "8h": 8 * HOUR,
    "12h": 12 * HOUR,
    "1d": DAY,
    "3d": 3 * DAY,
    "1w": 7 * DAY,
    "1M": 0,
}
WEEK_OFFSET = 4 * DAY  # 1970-01-01 was a Thursday; Binance weeks open on Monday


@dataclass(kw_only=True, frozen=True, slots=True)
class Kline:
    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    close_time: int
    quote_volume: Decimal
    trades: int
    taker_buy_base: Decimal
    taker_buy_quote: Decimal
    first_trade_id: int = -1  # the candle's first and last trade (-1 without trades), for streams
    last_trade_id: int = -1

    def to_row(self) -> list[Any]:
        """Binance's array form: numbers as strings, times and count as integers."""
        return [
            self.open_time,
            fmt(self.open),
            fmt(self.high),
            fmt(self.low),
            fmt(self.close),
            fmt(self.volume),
            self.close_time,
            fmt(self.quote_volume),
            self.trades,
            fmt(self.taker_buy_base),
            fmt(self.taker_buy_quote),
            "0",
        ]


@dataclass(kw_only=True, frozen=True, slots=True)
class Ticker24h:
    symbol: str
    price_change: Decimal
    price_change_percent: Decimal
    weighted_avg_price: Decimal
    prev_close_price: Decimal
    last_price: Decimal
    last_qty: Decimal
    bid_price: Decimal
    bid_qty: Decimal
    ask_price: Decimal
    ask_qty: Decimal
    open_price: Decimal
    high_price: Decimal
    low_price: Decimal
    volume: Decimal
    quote_volume: Decimal
    open_time: int
    close_time: int
    first_id: int
    last_id: int
    count: int


@dataclass(kw_only=True, frozen=True, slots=True)
class BookTicker:
    symbol: str
    bid_price: Decimal
    bid_qty: Decimal
    ask_price: Decimal
    ask_qty: Decimal


@dataclass(frozen=True)
class PriceTicker:
    symbol: str
    price: Decimal


@dataclass(frozen=True)
class AvgPrice:
    mins: int
    price: Decimal
    close_time: int


@dataclass(frozen=True)
class Depth:
    last_update_id: int
    bids: list[tuple[Decimal, Decimal]]
    asks: list[tuple[Decimal, Decimal]]


def fmt(d: Decimal) -> str:
    """At least 8 decimals, as Binance prints them; more only if the value needs them."""
    q = d.quantize(Decimal("1e-8")) if d == d.quantize(Decimal("1e-8")) else d.normalize()
    return format(q, "f")


# -- interval arithmetic -------------------------------------------------------------------
def _check(interval: str) -> None:
    if interval not in INTERVALS:
        raise InvalidInterval()


def open_time(interval: str, t: int) -> int:
    if interval == "1M":
        d = datetime.fromtimestamp(t / 1000, UTC)
        return calendar.timegm((d.year, d.month, 1, 0, 0, 0)) * 1000
    step = INTERVALS[interval]
    if interval == "1w":
        return (t - WEEK_OFFSET) // step * step + WEEK_OFFSET
    return t // step * step


def next_open(interval: str, start: int) -> int:
    if interval == "1M":
        d = datetime.fromtimestamp(start / 1000, UTC)
        y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
        return calendar.timegm((y, m, 1, 0, 0, 0)) * 1000
    return start + INTERVALS[interval]


def prev_open(interval: str, start: int) -> int:
    return open_time(interval, start - 1)


# -- queries -------------------------------------------------------------------------------
def _public(t: TradeRecord) -> PublicTrade:
    return PublicTrade(
        id=t.id, price=t.price, qty=t.qty, quote_qty=t.quote_qty, time=t.time, is_buyer_maker=t.is_buyer_maker
    )


def recent_trades(conn: Connection, symbol: str, limit: int | None) -> list[PublicTrade]:
    return [_public(t) for t in repo.recent_trades(conn, symbol, clamp_limit(limit, 500, 1000))]


def historical_trades(
    conn: Connection, symbol: str, from_id: int | None, limit: int | None
) -> list[PublicTrade]:
    """``historicalTrades``: from trade ``from_id`` upwards, oldest first; the most recent without it."""
    if from_id is None:
        return recent_trades(conn, symbol, limit)
    return [_public(t) for t in repo.trades_from(conn, symbol, from_id, clamp_limit(limit, 500, 1000))]


def agg_trades(
    conn: Connection,
    symbol: str,
    from_id: int | None,
    start_time: int | None,
    end_time: int | None,
    limit: int | None,
) -> list[AggTrade]:
    n = clamp_limit(limit, 500, 1000)
    return repo.agg_trades(conn, symbol, from_id, start_time, end_time, n)


def klines(
    conn: Connection,
    symbol: str,
    interval: str,
    start_time: int | None,
    end_time: int | None,
    limit: int | None,
    now: int,
) -> list[Kline]:
    """Every interval from the first traded one, gaps carrying the previous close with no volume."""
    _check(interval)
    n = clamp_limit(limit, 500, 1000)
    end = min(end_time if end_time is not None else now, now)
    if start_time is not None:
        first = open_time(interval, start_time)
    else:
        first = open_time(interval, end)
        for _ in range(n - 1):
            first = prev_open(interval, first)
    first_trade = repo.first_trade_time(conn, symbol)
    if first_trade is None:
        return []
    first = max(first, open_time(interval, first_trade))
    if first > end:
        return []
    prev = repo.last_trade_before(conn, symbol, first)
    close = prev.price if prev is not None else None
    buckets: list[int] = []
    t = first
    while t <= end and len(buckets) < n:
        buckets.append(t)
        t = next_open(interval, t)
    trades = repo.trades_between(conn, symbol, buckets[0], next_open(interval, buckets[-1]) - 1)
    out: list[Kline] = []
    i = 0
    for b in buckets:
        nb = next_open(interval, b)
        o = h = lo = close
        vol = qv = tbb = tbq = ZERO
        count = 0
        first_id = last_id = -1
        while i < len(trades) and trades[i].time < nb:
            r = trades[i]
            p = r.price
            if first_id == -1:
                first_id = r.id
            last_id = r.id
            if count == 0 or o is None or h is None or lo is None:
                o = h = lo = p
            h, lo, close = max(h, p), min(lo, p), p
            vol += r.qty
            qv += r.quote_qty
            if not r.is_buyer_maker:
                tbb += r.qty
                tbq += r.quote_qty
            count += 1
            i += 1
        if close is None or o is None or h is None or lo is None:
            continue
        out.append(
            Kline(
                open_time=b,
                open=o,
                high=h,
                low=lo,
                close=close,
                volume=vol,
                close_time=nb - 1,
                quote_volume=qv,
                trades=count,
                taker_buy_base=tbb,
                taker_buy_quote=tbq,
                first_trade_id=first_id,
                last_trade_id=last_id,
            )
        )
    return out


def ticker_24h(
    conn: Connection,
    symbol: str,
    now: int,
    bid: tuple[Decimal, Decimal] | None,
    ask: tuple[Decimal, Decimal] | None,
) -> Ticker24h:
    return ticker_between(conn, symbol, now - DAY, now, bid, ask)


def ticker_between(
    conn: Connection,
    symbol: str,
    start: int,
    now: int,
    bid: tuple[Decimal, Decimal] | None = None,
    ask: tuple[Decimal, Decimal] | None = None,
) -> Ticker24h:
    """The statistics of the trades from ``start`` to ``now`` (the 24-hour ticker's, the rolling
    window's and the trading day's; ``close_time`` is ``now``)."""
    rows = repo.trades_between(conn, symbol, start, now)
    prev = repo.last_trade_before(conn, symbol, start)
    prev_close = prev.price if prev is not None else ZERO
    bid_p, bid_q = bid or (ZERO, ZERO)
    ask_p, ask_q = ask or (ZERO, ZERO)
    if not rows:
        last = prev_close
        return Ticker24h(
            symbol=symbol,
            price_change=ZERO,
            price_change_percent=ZERO,
            weighted_avg_price=ZERO,
            prev_close_price=prev_close,
            last_price=last,
            last_qty=ZERO,
            bid_price=bid_p,
            bid_qty=bid_q,
            ask_price=ask_p,
            ask_qty=ask_q,
            open_price=ZERO,
            high_price=ZERO,
            low_price=ZERO,
            volume=ZERO,
            quote_volume=ZERO,
            open_time=start,
            close_time=now,
            first_id=-1,
            last_id=-1,
            count=0,
        )
    prices = [r.price for r in rows]
    vol = sum((r.qty for r in rows), ZERO)
    qvol = sum((r.quote_qty for r in rows), ZERO)
    open_p, last_p = prices[0], prices[-1]
    change = last_p - open_p
    pct = (change * 100 / open_p).quantize(Decimal("0.001"))
    wavg = (qvol / vol).quantize(Decimal("1e-8")) if vol else ZERO
    return Ticker24h(
        symbol=symbol,
        price_change=change,
        price_change_percent=pct,
        weighted_avg_price=wavg,
        prev_close_price=prev_close,
        last_price=last_p,
        last_qty=rows[-1].qty,
        bid_price=bid_p,
        bid_qty=bid_q,
        ask_price=ask_p,
        ask_qty=ask_q,
        open_price=open_p,
        high_price=max(prices),
        low_price=min(prices),
        volume=vol,
        quote_volume=qvol,
        open_time=start,
        close_time=now,
        first_id=rows[0].id,
        last_id=rows[-1].id,
        count=len(rows),
    )


def last_price(conn: Connection, symbol: str) -> Decimal:
    price = repo.last_price(conn, symbol)
    return price if price is not None else ZERO


def avg_price(conn: Connection, symbol: str, now: int, mins: int = 5) -> AvgPrice:
    """Volume-weighted price of the last ``mins`` minutes; the last price if none; 0 if never traded."""
    rows = repo.trades_between(conn, symbol, now - mins * MINUTE, now)
    vol = sum((r.qty for r in rows), ZERO)
    if rows and vol:
        price = (sum((r.quote_qty for r in rows), ZERO) / vol).quantize(Decimal("1e-8"))
        return AvgPrice(mins, price, rows[-1].time)
    prev = repo.last_trade_before(conn, symbol, now + 1)
    if prev is None:
        return AvgPrice(mins, ZERO, now)
    return AvgPrice(mins, prev.price, prev.time)
