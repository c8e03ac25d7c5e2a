"""The record of one amend keepPriority: what the user data stream reports, the order row takes and
``GET /api/v3/order/amendments`` answers.

A module of its own (not :mod:`keyplane.exchange.amend`) because the store reads and writes it and
the amend commands read from the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(kw_only=True, frozen=True, slots=True)
class Amendment:
    """One amend as it happened: what the user data stream reports and the order row takes.

    ``next_trade_id``: trades of the same batch with this id or higher came after the amend."""

    symbol: str
    order_id: int
    user_id: int
    execution_id: int
    orig_client_order_id: str
    new_client_order_id: str
    orig_qty: Decimal
    new_qty: Decimal
    time: int
    next_trade_id: int
