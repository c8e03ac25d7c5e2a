"""A market maker that keeps both sides of every book quoted around a moving reference price.

Each round, for every market: the reference price takes one bounded random-walk step; the maker
places a fresh ladder of bids and asks around it and then cancels its previous ladder (new first,
so the book is never empty in between); now and then a separate ``taker`` account crosses the
spread with a small IOC order so that trades, tickers and klines move. The maker's own orders use
STP ``EXPIRE_MAKER``: a new quote that would meet one of its old quotes expires the old one
instead of trading with itself.

Everything is ``Decimal``, rounded to each market's tick and step and above its minimum notional.
Randomness and time are injected (``rng``, ``clock``, ``sleep``) so tests drive rounds directly.
The job runs inside the serving process, the exchange's one writer, as a task on its event loop
that awaits the exchange's commands like any client; a failing round is logged and the next one runs: the demo never takes the server down.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from keyplane.exchange.errors import ExchangeError, UnknownOrder
from keyplane.exchange.markets import MarketSpec, StpMode
from keyplane.exchange.models import OrderType, PlacedOrder, Side, TimeInForce
from keyplane.exchange.orders import OrderRequest
from keyplane.exchange.service import Exchange
from keyplane.runtime import Platform

log = logging.getLogger(__name__)
D = Decimal
BPS = D(10000)

# Where each market starts when it has never traded, in its quote asset.
START_PRICES: dict[str, Decimal] = {
    "BTCUSDT": D("60000"),
    "ETHUSDT": D("3000"),
    "ETHBTC": D("0.05"),
    "SOLUSDT": D("150"),
}
# Size of one quote level, in the quote asset; other quote assets use 50x the minimum notional.
LEVEL_NOTIONAL: dict[str, Decimal] = {"USDT": D("2500"), "BTC": D("0.05")}


@dataclass(frozen=True)
class MakerConfig:
    """How the maker quotes. Spreads, steps and the band (reference price ± band around its start) are
    in basis points."""

    levels: int = 4
    half_spread_bps: int = 5
    level_gap_bps: int = 5
    max_step_bps: int = 15
    band_bps: int = 2000
    take_probability: float = 0.35
    interval_seconds: float = 1.0


@dataclass
class Quoting:
    """One market's state: the reference price, its bounds, and the maker's resting order ids."""

    market: MarketSpec
    reference: Decimal
    low: Decimal
    high: Decimal
    resting: list[int] = field(default_factory=list)


@dataclass
class RoundReport:
    placed: int = 0
    cancelled: int = 0
    trades: int = 0
    failures: int = 0


def to_tick(value: Decimal, tick: Decimal, up: bool = False) -> Decimal:
    if not tick:
        return value
    units = (value / tick).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR)
    return units * tick


def start_price(market: MarketSpec, last: Decimal) -> Decimal:
    """The last trade price if there is one, else the table, else the middle of the price filter."""
    if last > 0:
        return last
    if market.symbol in START_PRICES:
        return START_PRICES[market.symbol]
    if market.max_price:
        return to_tick((market.min_price + market.max_price) / 2, market.tick_size)
    return D(100)


class MarketMaker:
    """Quotes every market of ``exchange`` for the ``maker`` account; ``taker`` makes the trades."""

    def __init__(
        self,
        exchange: Exchange,
        maker_id: int,
        taker_id: int,
        config: MakerConfig = MakerConfig(),
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.exchange = exchange
        self.maker_id = maker_id
        self.taker_id = taker_id
        self.config = config
        self.rng = rng or random.Random()
        self.clock = clock
        self.sleep = sleep
        self.books: dict[str, Quoting] = {}
        exchange.order_counter.exempt(maker_id, taker_id)  # it requotes every market each round
        for symbol, market in exchange.markets.items():
            if market.status == "TRADING":
                self.books[symbol] = self._quoting(market)

    def _quoting(self, market: MarketSpec) -> Quoting:
        start = start_price(market, self.exchange.price_ticker(market.symbol).price)
        low = max(
            to_tick(start * (1 - D(self.config.band_bps) / BPS), market.tick_size, up=True), market.tick_size
        )
        high = to_tick(start * (1 + D(self.config.band_bps) / BPS), market.tick_size)
        if market.max_price:
            high = min(high, market.max_price)
        if market.min_price:
            low = max(low, market.min_price)
        resting = [o.order_id for o in self.exchange.open_orders(self.maker_id, market.symbol)]
        return Quoting(market, start, low, high, resting)

    # -- one round -------------------------------------------------------------------------
    async def run_round(self) -> RoundReport:
        """Move every reference price, re-quote every book, maybe cross a spread. Never raises."""
        report = RoundReport()
        for quoting in self.books.values():
            try:
                self._step(quoting)
                await self._requote(quoting, report)
                if self.rng.random() < self.config.take_probability:
                    await self._take(quoting, report)
            except Exception:  # one market's failure must not stop the others
                report.failures += 1
                log.exception("market maker round failed on %s", quoting.market.symbol)
        return report

    def _step(self, q: Quoting) -> None:
        move = q.reference * D(self.rng.randint(-self.config.max_step_bps, self.config.max_step_bps)) / BPS
        q.reference = min(max(to_tick(q.reference + move, q.market.tick_size), q.low), q.high)

    def ladder(self, q: Quoting) -> list[tuple[Side, Decimal, Decimal]]:
        """The (side, price, qty) quotes around the reference: best bid < reference < best ask."""
        m, ref, cfg = q.market, q.reference, self.config
        gap = max(to_tick(ref * cfg.level_gap_bps / BPS, m.tick_size), m.tick_size)
        best_bid = to_tick(ref * (1 - D(cfg.half_spread_bps) / BPS), m.tick_size)
        best_ask = to_tick(ref * (1 + D(cfg.half_spread_bps) / BPS), m.tick_size, up=True)
        if best_ask <= best_bid:
            best_ask = best_bid + m.tick_size
        quotes = []
        for i in range(cfg.levels):
            for side, price in ((Side.BUY, best_bid - i * gap), (Side.SELL, best_ask + i * gap)):
                if (
                    price <= 0
                    or (m.min_price and price < m.min_price)
                    or (m.max_price and price > m.max_price)
                ):
                    continue
                quotes.append((side, price, self._size(m, price, D(1) + D(i) / 2)))
        return quotes

    def _size(self, m: MarketSpec, price: Decimal, scale: Decimal) -> Decimal:
        notional = LEVEL_NOTIONAL.get(m.quote, m.min_notional * 50) * scale
        notional *= D(self.rng.randint(60, 140)) / 100
        return self._qty_for(m, price, notional)

    @staticmethod
    def _qty_for(m: MarketSpec, price: Decimal, notional: Decimal) -> Decimal:
        """A quantity worth about ``notional``, on the lot step, within LOT_SIZE and NOTIONAL."""
        qty = max(m.floor_qty(notional / price), m.min_qty)
        if qty * price < m.min_notional:
            qty = to_tick(m.min_notional / price, m.step_size or D(1), up=True)
        return min(qty, m.floor_qty(m.max_qty))

    async def _requote(self, q: Quoting, report: RoundReport) -> None:
        old, q.resting = q.resting, []
        for side, price, qty in self.ladder(q):
            placed = await self._place(
                OrderRequest(
                    user_id=self.maker_id,
                    symbol=q.market.symbol,
                    side=side,
                    type=OrderType.LIMIT,
                    quantity=qty,
                    price=price,
                    time_in_force=TimeInForce.GTC,
                    self_trade_prevention_mode=StpMode.EXPIRE_MAKER,
                )
            )
            if placed is not None:
                report.placed += 1
                report.trades += len(placed.fills)
                if placed.order.is_working:
                    q.resting.append(placed.order.order_id)
        report.cancelled += await self._cancel(q.market.symbol, old)

    async def _take(self, q: Quoting, report: RoundReport) -> None:
        side = self.rng.choice((Side.BUY, Side.SELL))
        depth = self.exchange.depth(q.market.symbol, 1)
        best = depth.asks if side is Side.BUY else depth.bids
        if not best:
            return
        price = best[0][0]
        qty = self._qty_for(q.market, price, q.market.min_notional * D(self.rng.randint(2, 20)))
        placed = await self._place(
            OrderRequest(
                user_id=self.taker_id,
                symbol=q.market.symbol,
                side=side,
                type=OrderType.LIMIT,
                quantity=qty,
                price=price,
                time_in_force=TimeInForce.IOC,
                self_trade_prevention_mode=StpMode.EXPIRE_TAKER,
            )
        )
        if placed is not None:
            report.trades += len(placed.fills)

    async def _place(self, req: OrderRequest) -> PlacedOrder | None:
        try:
            return await self.exchange.place_order(req)
        except ExchangeError as error:  # a refused quote (funds, filters) skips one level, no more
            log.warning("market maker order refused on %s: %s", req.symbol, error.msg)
            return None

    async def _cancel(self, symbol: str, order_ids: Iterable[int]) -> int:
        done = 0
        for order_id in order_ids:
            try:
                await self.exchange.cancel_order(self.maker_id, symbol, order_id)
                done += 1
            except UnknownOrder:  # filled or expired by STP since: nothing to cancel
                pass
        return done

    # -- the job ---------------------------------------------------------------------------
    async def run(self, rounds: int | None = None) -> None:
        """Run rounds every ``interval_seconds`` (forever, or ``rounds`` times) until cancelled."""
        done = 0
        while rounds is None or done < rounds:
            started = self.clock()
            try:
                await self.run_round()
            except Exception:  # keep the server up; the next round retries
                log.exception("market maker round failed")
            done += 1
            await self.sleep(max(0.0, self.config.interval_seconds - (self.clock() - started)))


def market_maker_job(
    maker: str = "maker", taker: str = "taker", config: MakerConfig = MakerConfig()
) -> Callable[[Platform], Coroutine[Any, Any, None]]:
    """A ``background`` job for :func:`keyplane.cli.main.run_server`."""

    async def job(platform: Platform) -> None:
        while True:
            try:
                exchange = await asyncio.to_thread(lambda: platform.exchange)
                ids = await asyncio.to_thread(
                    lambda: (platform.keys.user_id(maker), platform.keys.user_id(taker))
                )
                # On the loop: the maker reads the books from memory (and last prices, once).
                mm = MarketMaker(exchange, *ids, config)
                break
            except Exception:  # e.g. database not reachable yet: retry, never crash
                log.exception("market maker could not start; retrying")
                await asyncio.sleep(config.interval_seconds * 5)
        await mm.run()

    return job
