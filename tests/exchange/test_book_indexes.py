"""The order book's indexes against the plain answers they replace: a side's depth (the best
``limit`` levels, best first, with each level's kept quantity) and the conditional orders a
trade's prices set off (every fixed stop price met by one of the prices, in placement order)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from keyplane.exchange.book import LiveOrder, _Side, _Stops
from keyplane.exchange.conditional import stop_met
from keyplane.exchange.markets import StpMode, default_assets, default_markets, exact_lots
from keyplane.exchange.models import OrderType, Side, TimeInForce
from keyplane.exchange.units import MarketUnits

ASSETS = {a.code: a for a in default_assets()}
UNITS = MarketUnits(exact_lots(default_markets()[0], ASSETS), ASSETS)


def resting(
    order_id: int, price: int, lots: int, side: Side = Side.BUY, otype: OrderType = OrderType.LIMIT
) -> LiveOrder:
    return LiveOrder(
        order_id=order_id,
        client_order_id=f"o{order_id}",
        user_id=1,
        side=side,
        type=otype,
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


STOP_TYPES = [
    OrderType.STOP_LOSS,
    OrderType.STOP_LOSS_LIMIT,
    OrderType.TAKE_PROFIT,
    OrderType.TAKE_PROFIT_LIMIT,
]
stop_orders = st.lists(
    st.tuples(st.sampled_from(STOP_TYPES), st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 30)),
    max_size=40,
)


@given(orders=stop_orders, prices=st.lists(st.integers(1, 30), min_size=1, max_size=5), data=st.data())
def test_the_stop_index_finds_exactly_the_orders_a_trade_sets_off(
    orders: list[tuple[OrderType, Side, int]], prices: list[int], data: st.DataObject
) -> None:
    stops = _Stops({})
    placed = []
    ids = data.draw(st.permutations(range(1, len(orders) + 1)))  # placement order is not id order
    for order_id, (otype, side, stop) in zip(ids, orders, strict=True):
        order = resting(order_id, 0, 1, side, otype)
        order.stop_price = stop
        stops[order_id] = order
        placed.append(order)
    gone = data.draw(st.sets(st.sampled_from(ids))) if ids else set()
    for order_id in gone:  # cancelled or triggered since: out of the index too
        stops.pop(order_id) if order_id % 2 else stops.__delitem__(order_id)
    expected = [
        o
        for o in placed
        if o.order_id not in gone and any(stop_met(o.type, o.side, o.stop_price, p) for p in prices)
    ]
    fired = stops.met(min(prices), max(prices))
    fired.sort(key=stops.placed)
    assert fired == expected
