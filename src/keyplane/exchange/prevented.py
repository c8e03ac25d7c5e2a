"""Prevented matches: a taker met a maker of its own account and self-trade prevention (STP)
expired one or both instead of trading them, as Binance records it for ``GET
/api/v3/myPreventedMatches``.

Why a record: an order that ends ``EXPIRED_IN_MATCH`` otherwise leaves its owner guessing which of
their own orders it met, at what price and for how much.

A module of its own (not :mod:`keyplane.exchange.matching`) because the store reads and writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from keyplane.exchange.markets import StpMode


@dataclass(kw_only=True, frozen=True, slots=True)
class PreventedMatch:
    """One prevented match. Ids count per market from 1; ``maker_prevented_qty`` is what the maker
    had left when the taker met it (the quantity STP kept from trading, or expired)."""

    symbol: str
    prevented_match_id: int
    taker_order_id: int
    maker_order_id: int
    user_id: int  # Binance's tradeGroupId: an account only ever meets itself
    mode: StpMode
    price: Decimal
    maker_prevented_qty: Decimal
    time: int
