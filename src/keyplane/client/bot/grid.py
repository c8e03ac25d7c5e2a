"""Grid: buy orders on the levels below the price, sell orders on the levels above, one per level.

``levels`` prices are spaced evenly from ``lower`` to ``upper``. Each round the bot reads its own
open orders (by client order id prefix), finds the level nearest the current price and leaves that
one empty, and places what is missing: a buy on an empty level below the price, a sell on an empty
level above it. When a buy fills, the price sits at that level, which becomes the gap, and the sell
one level up is already waiting, so each round trip earns one grid step. Because the plan is made
from what the exchange shows, a restarted bot adopts its orders and places only what is missing:
never a second order on a level.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from keyplane.client.bot import ids
from keyplane.client.bot.errors import BadBotConfig
from keyplane.client.bot.venue import Venue

log = logging.getLogger("keyplane.bot")


@dataclass(frozen=True, kw_only=True)
class GridConfig:
    symbol: str
    lower: Decimal
    upper: Decimal
    levels: int
    amount: Decimal  # base asset per order
    max_new_per_round: int = 6

    def validate(self) -> None:
        if not (0 < self.lower < self.upper):
            raise BadBotConfig("the grid needs 0 < --lower < --upper")
        if not 2 <= self.levels <= 200:
            raise BadBotConfig("--levels is between 2 and 200")
        if self.amount <= 0:
            raise BadBotConfig("--amount must be positive")

    def prices(self) -> list[Decimal]:
        step = (self.upper - self.lower) / (self.levels - 1)
        return [self.lower + step * i for i in range(self.levels)]


@dataclass
class Plan:
    place: list[tuple[int, str, Decimal]]  # (level, side, price)
    gap: int


def plan(config: GridConfig, price: Decimal, open_levels: set[int]) -> Plan:
    """What to place now: pure, so the grid's rule is tested without an exchange."""
    prices = config.prices()
    gap = min(range(len(prices)), key=lambda i: (abs(prices[i] - price), i))
    wanted: list[tuple[int, str, Decimal]] = []
    for level, at in enumerate(prices):
        if level == gap or level in open_levels:
            continue
        wanted.append((level, "buy" if at < price else "sell", at))
    wanted.sort(key=lambda w: abs(w[2] - price))  # nearest the price first
    return Plan(wanted[: config.max_new_per_round], gap)


class Grid:
    def __init__(self, config: GridConfig, venue: Venue) -> None:
        config.validate()
        self.config = config
        self.venue = venue
        self.first_round = True
        self.short_of: set[tuple[int, str]] = set()
        self.pretended: set[tuple[int, str]] = set()

    async def round(self) -> None:
        cfg, venue = self.config, self.venue
        mine = await venue.open_orders(cfg.symbol)
        by_level: dict[int, list[dict[str, Any]]] = {}
        for order in mine:
            level = ids.grid_level(venue.prefix, str(order.get("clientOrderId")))
            if level is not None:
                by_level.setdefault(level, []).append(order)
        if self.first_round:
            log.info(
                "grid %s: adopted %d open orders of this bot (prefix %s)", cfg.symbol, len(mine), venue.prefix
            )
            self.first_round = False
        for level, orders in by_level.items():
            for extra in orders[1:]:  # never two on one level, whatever happened before
                await venue.cancel(extra, f"second order on level {level}")
        price = await venue.mid_price(cfg.symbol)
        todo = plan(cfg, price, set(by_level))
        market = venue.exchange.market(cfg.symbol)
        free: dict[str, Decimal] | None = None
        for level, side, at in todo.place:
            amount = Decimal(venue.exchange.amount_to_precision(cfg.symbol, cfg.amount))
            limit = Decimal(venue.exchange.price_to_precision(cfg.symbol, at))
            asset, need = (market["quote"], amount * limit) if side == "buy" else (market["base"], amount)
            if free is None and not venue.dry_run:
                free = await venue.free_balances()
            if free is not None and free.get(asset, Decimal(0)) < need:
                if (level, side) not in self.short_of:
                    log.info(
                        "grid %s: not enough %s for a %s on level %d; waiting", cfg.symbol, asset, side, level
                    )
                    self.short_of.add((level, side))
                continue
            self.short_of.discard((level, side))
            if venue.dry_run:
                if (level, side) in self.pretended:
                    continue  # a dry run shows each would-be order once, not every round
                self.pretended.add((level, side))
            client_id = ids.grid_id(venue.prefix, level, side)
            await venue.place_limit(cfg.symbol, side, amount, limit, client_id, f"grid level {level}")
            if free is not None:
                free[asset] = free.get(asset, Decimal(0)) - need

    async def orders_to_cancel(self) -> list[dict[str, Any]]:
        return await self.venue.open_orders(self.config.symbol)
