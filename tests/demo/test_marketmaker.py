from __future__ import annotations

import asyncio
import random
from decimal import Decimal
from typing import Any

from keyplane.demo.marketmaker import MakerConfig, MarketMaker
from keyplane.demo.seed import DemoUsers, seed
from keyplane.runtime import Platform
from tests.support.aio import run


def maker_for(platform: Platform, config: MakerConfig | None = None, seed_value: int = 7) -> MarketMaker:
    ids: DemoUsers = run(seed(platform))
    return MarketMaker(
        platform.exchange, ids.maker, ids.taker, config or MakerConfig(), rng=random.Random(seed_value)
    )


def test_rounds_keep_both_sides_of_every_book_quoted_with_bid_below_ask(platform: Platform) -> None:
    mm = maker_for(platform)
    for _ in range(4):
        report = run(mm.run_round())
        assert report.failures == 0
    for symbol in platform.exchange.markets:
        depth = platform.exchange.depth(symbol)
        assert len(depth.bids) >= mm.config.levels and len(depth.asks) >= mm.config.levels
        assert depth.bids[0][0] < depth.asks[0][0]
        # The previous ladders were cancelled: only the current one rests.
        assert len(platform.exchange.open_orders(mm.maker_id, symbol)) <= 2 * mm.config.levels


def test_every_quote_respects_tick_step_and_min_notional(platform: Platform) -> None:
    mm = maker_for(platform)
    for quoting in mm.books.values():
        for _side, price, qty in mm.ladder(quoting):
            quoting.market.check_price(price)
            quoting.market.check_qty(qty)
            quoting.market.check_notional(price * qty)
            assert isinstance(price, Decimal) and isinstance(qty, Decimal)


def test_reference_price_walks_but_stays_within_its_band(platform: Platform) -> None:
    mm = maker_for(platform, MakerConfig(levels=1, max_step_bps=400, band_bps=200, take_probability=0))
    start = {s: q.reference for s, q in mm.books.items()}
    for _ in range(12):
        run(mm.run_round())
        for quoting in mm.books.values():
            assert quoting.low <= quoting.reference <= quoting.high
    assert any(q.reference != start[s] for s, q in mm.books.items())
    for symbol, quoting in mm.books.items():
        assert quoting.low >= start[symbol] * Decimal("0.98") and quoting.high <= start[symbol] * Decimal(
            "1.02"
        )


def test_taker_orders_make_trades_and_the_maker_never_trades_with_itself(platform: Platform) -> None:
    mm = maker_for(platform, MakerConfig(take_probability=1.0))
    trades = sum(run(mm.run_round()).trades for _ in range(3))

    assert trades > 0
    for symbol in platform.exchange.markets:
        assert platform.exchange.recent_trades(symbol)
        assert all(t.is_maker for t in platform.exchange.my_trades(mm.maker_id, symbol))


class Failing:
    """An exchange whose commands all fail, as a lost database would."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        if name in ("place_order", "cancel_order", "depth"):

            def fail(*args: Any, **kwargs: Any) -> Any:
                raise RuntimeError("database is gone")

            return fail
        return getattr(self._real, name)


def test_a_failing_round_is_logged_and_the_job_goes_on(platform: Platform) -> None:
    mm = maker_for(platform)
    mm.exchange = Failing(platform.exchange)
    assert run(mm.run_round()).failures == len(mm.books)

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    mm.sleep = sleep
    asyncio.run(mm.run(rounds=3))
    assert len(slept) == 3

    mm.exchange = platform.exchange
    assert run(mm.run_round()).failures == 0
