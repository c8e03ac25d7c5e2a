"""A book side's depth: the best ``limit`` levels, best first, with each level's kept quantity,
however many levels the side holds and whichever way it sorts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from keyplane.exchange.book import LiveOrder, _Side
from keyplane.exchange.markets import StpMode, default_assets, default_markets, exact_lots
from keyplane.exchange.models import OrderType, Side, TimeInForce
from keyplane.exchange.units import MarketUnits

ASSETS = {a.code: a for a in default_assets()}
UNITS = MarketUnits(exact_lots(default_markets()[0], ASSETS), ASSETS)


def resting(order_id: int, price: int, lots: int) -> LiveOrder:
    return LiveOrder(
        order_id=order_id,
        client_order_id=f"o{order_id}",
        user_id=1,
        side=Side.BUY,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=price,
        orig_qty=lots,
        orig_quote=0,
        stp=StpMode.NONE,
        time=0,
        working_time=0,
        units=UNITS,
    )


@given(
    levels=st.dictionaries(st.integers(1, 10**6), st.lists(st.integers(1, 50), min_size=1, max_size=3)),
    limit=st.integers(0, 80),
    descending=st.booleans(),
)
def test_depth_is_the_best_levels_best_first(
    levels: dict[int, list[int]], limit: int, descending: bool
) -> None:
    side = _Side(descending)
    ids = iter(range(1, 10**6))
    for price, sizes in levels.items():
        for lots in sizes:
            side.add(resting(next(ids), price, lots))
    best_first = sorted(levels, reverse=descending)[:limit]
    assert side.depth(limit) == [(p, sum(levels[p])) for p in best_first]
