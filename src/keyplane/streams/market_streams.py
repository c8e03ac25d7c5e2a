"""Public stream payloads in Binance's shapes, built from a durable batch's events.

Each function returns ``(topic, payload)`` pairs; the hub serialises a payload once, only if some
connection reads its topic. Tickers and klines come from committed trades (:mod:`derived`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from keyplane.exchange import marketdata as md
from keyplane.exchange.events import BookChange, ExchangeEvents, Level
from keyplane.exchange.marketdata import fmt

Json = dict[str, Any]
Message = tuple[str, Json]


def _levels(levels: list[Level]) -> list[list[str]]:
    return [[fmt(p), fmt(q)] for p, q in levels]


def market_messages(events: ExchangeEvents) -> Iterator[Message]:
    """trade, aggTrade, raw depth (:mod:`paced_depth` paces it) and bookTicker messages of one batch."""
    now = events.time
    for t in events.trades:
        s = t.symbol.lower()
        yield (
            f"{s}@trade",
            {
                "e": "trade",
                "E": now,
                "s": t.symbol,
                "t": t.id,
                "p": fmt(t.price),
                "q": fmt(t.qty),
                "T": t.time,
                "m": t.is_buyer_maker,
                "M": True,
            },
        )
    for a in events.aggs:
        yield (
            f"{a.symbol.lower()}@aggTrade",
            {
                "e": "aggTrade",
                "E": now,
                "s": a.symbol,
                "a": a.id,
                "p": fmt(a.price),
                "q": fmt(a.qty),
                "f": a.first_trade_id,
                "l": a.last_trade_id,
                "T": a.time,
                "m": a.is_buyer_maker,
                "M": True,
            },
        )
    for b in events.books:
        yield from book_messages(b, now)


def book_messages(b: BookChange, now: int) -> Iterator[Message]:
    s = b.symbol.lower()
    yield (
        f"{s}@depth",
        {
            "e": "depthUpdate",
            "E": now,
            "s": b.symbol,
            "U": b.first_update_id,
            "u": b.last_update_id,
            "b": _levels(b.bids),
            "a": _levels(b.asks),
        },
    )
    yield (  # the raw top 20: each instance's paced partial streams (5, 10, 20) cut from it
        f"{s}@depth20",
        {
            "lastUpdateId": b.last_update_id,
            "bids": _levels(b.top_bids[:20]),
            "asks": _levels(b.top_asks[:20]),
        },
    )
    bid = b.top_bids[0] if b.top_bids else None
    ask = b.top_asks[0] if b.top_asks else None
    yield (
        f"{s}@bookTicker",
        {
            "u": b.last_update_id,
            "s": b.symbol,
            "b": fmt(bid[0]) if bid else "0.00000000",
            "B": fmt(bid[1]) if bid else "0.00000000",
            "a": fmt(ask[0]) if ask else "0.00000000",
            "A": fmt(ask[1]) if ask else "0.00000000",
        },
    )


def ticker(t: md.Ticker24h, now: int) -> Json:
    return {
        "e": "24hrTicker",
        "E": now,
        "s": t.symbol,
        "p": fmt(t.price_change),
        "P": fmt(t.price_change_percent),
        "w": fmt(t.weighted_avg_price),
        "x": fmt(t.prev_close_price),
        "c": fmt(t.last_price),
        "Q": fmt(t.last_qty),
        "b": fmt(t.bid_price),
        "B": fmt(t.bid_qty),
        "a": fmt(t.ask_price),
        "A": fmt(t.ask_qty),
        "o": fmt(t.open_price),
        "h": fmt(t.high_price),
        "l": fmt(t.low_price),
        "v": fmt(t.volume),
        "q": fmt(t.quote_volume),
        "O": t.open_time,
        "C": t.close_time,
        "F": t.first_id,
        "L": t.last_id,
        "n": t.count,
    }


def mini_ticker(t: md.Ticker24h, now: int) -> Json:
    return {
        "e": "24hrMiniTicker",
        "E": now,
        "s": t.symbol,
        "c": fmt(t.last_price),
        "o": fmt(t.open_price),
        "h": fmt(t.high_price),
        "l": fmt(t.low_price),
        "v": fmt(t.volume),
        "q": fmt(t.quote_volume),
    }


def kline(symbol: str, interval: str, k: md.Kline, closed: bool, now: int) -> Json:
    return {
        "e": "kline",
        "E": now,
        "s": symbol,
        "k": {
            "t": k.open_time,
            "T": k.close_time,
            "s": symbol,
            "i": interval,
            "f": k.first_trade_id,
            "L": k.last_trade_id,
            "o": fmt(k.open),
            "c": fmt(k.close),
            "h": fmt(k.high),
            "l": fmt(k.low),
            "v": fmt(k.volume),
            "n": k.trades,
            "x": closed,
            "q": fmt(k.quote_volume),
            "V": fmt(k.taker_buy_base),
            "Q": fmt(k.taker_buy_quote),
            "B": "0",
        },
    }
