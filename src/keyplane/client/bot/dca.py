"""DCA: buy for a fixed amount of the quote asset once per period, ``count`` times at most.

Time is cut into slots of ``every_ms`` (counted from the Unix epoch, so they do not move when the
bot restarts); the buy of slot ``n`` has client order id ``<prefix><n>``. Before buying, the bot
asks the exchange for that id: a buy that went out just before a crash is found, not repeated.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from keyplane.client.bot import ids
from keyplane.client.bot.errors import BadBotConfig
from keyplane.client.bot.venue import Venue

log = logging.getLogger("keyplane.bot")


@dataclass(frozen=True, kw_only=True)
class DcaConfig:
    symbol: str
    cost: Decimal  # quote asset per buy
    every_ms: int
    count: int | None = None

    def validate(self) -> None:
        if self.cost <= 0:
            raise BadBotConfig("--cost must be positive")
        if self.every_ms < 1000:
            raise BadBotConfig("--every is at least one second")
        if self.count is not None and self.count < 1:
            raise BadBotConfig("--count is at least 1")


class Dca:
    def __init__(self, config: DcaConfig, venue: Venue, clock: Any = None) -> None:
        config.validate()
        self.config = config
        self.venue = venue
        self.clock = clock or (lambda: time.time_ns() // 1_000_000)
        self.done_slots: set[int] | None = None
        self.finished = False

    async def round(self) -> None:
        cfg, venue = self.config, self.venue
        if self.done_slots is None:
            placed = await venue.all_orders(cfg.symbol)
            self.done_slots = {
                int(o["clientOrderId"][len(venue.prefix) :]) for o in placed if _slot_id(venue, o)
            }
            log.info(
                "dca %s: found %d earlier buys of this bot (prefix %s)",
                cfg.symbol,
                len(self.done_slots),
                venue.prefix,
            )
        if cfg.count is not None and len(self.done_slots) >= cfg.count:
            if not self.finished:
                log.info("dca %s: all %d buys done", cfg.symbol, cfg.count)
                self.finished = True
            return
        slot = self.clock() // cfg.every_ms
        if slot in self.done_slots:
            return
        client_id = ids.dca_id(venue.prefix, slot)
        if await venue.find(cfg.symbol, client_id) is not None:
            log.info(
                "dca %s: the buy of slot %d is already on the exchange (id=%s)", cfg.symbol, slot, client_id
            )
        else:
            await venue.buy_with_cost(cfg.symbol, cfg.cost, client_id, f"dca slot {slot}")
        self.done_slots.add(slot)  # in a dry run too: one "would place" per slot

    async def orders_to_cancel(self) -> list[dict[str, Any]]:
        return await self.venue.open_orders(self.config.symbol)


def _slot_id(venue: Venue, order: dict[str, Any]) -> bool:
    return str(order.get("clientOrderId", ""))[len(venue.prefix) :].isdigit()
