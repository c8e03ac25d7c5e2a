"""The integer engine (ticks, lots, asset units) gives exactly the Decimal answers.

Each case is computed here by hand, or by plain ``Decimal`` arithmetic with the rounding the
exchange promises (fees rounded down to the precision of the asset they are paid in), and compared
with what the engine answers, stores and holds: fills, trades, orders and balances.
"""

from __future__ import annotations

import logging
import random
from decimal import ROUND_FLOOR
from decimal import Decimal as D

import pytest
from sqlalchemy import Engine, update

from keyplane.exchange.book import LiveOrder
from keyplane.exchange.ledger import FEE_ACCOUNT
from keyplane.exchange.markets import AssetSpec, MarketSpec, StpMode
from keyplane.exchange.models import Order, OrderStatus, OrderType, Side, TimeInForce
from keyplane.exchange.service import Exchange
from keyplane.store.exchange_tables import ex_balances, ex_orders
from tests.exchange.conftest import Clock, make_users
from tests.exchange.orders import order
from tests.support.aio import run

# A quote asset with 6 decimals and fees that do not divide amounts evenly: rounding shows.
USDC = AssetSpec(code="USDC", name="USD Coin", precision=6)
BTCUSDC = MarketSpec(
    symbol="BTCUSDC",
    base="BTC",
    quote="USDC",
    tick_size=D("0.01"),
    step_size=D("0.0001"),
    min_qty=D("0.0001"),
    max_qty=D(9000),
    min_notional=D(1),
    max_notional=D(9000000),
    maker_fee=D("0.00075"),
    taker_fee=D("0.0009"),
)


def balance(ex: Exchange, user: int, asset: str) -> tuple[D, D]:
    b = next(b for b in ex.balances(user) if b.asset == asset)
    return b.free, b.locked


def fee_held(ex: Exchange, asset: str) -> D:
    return ex.ledger.free(FEE_ACCOUNT, asset)


def floor(amount: D, decimals: int) -> D:
    return amount.quantize(D(1).scaleb(-decimals), rounding=ROUND_FLOOR)


def test_a_partial_fill_settles_to_hand_computed_amounts(ex: Exchange, alice: int, bob: int) -> None:
    run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.5", "30000.01")))
    placed = run(ex.place_order(order(alice, "BTCUSDT", "BUY", "0.12345", "30000.50")))
    # 0.12345 BTC x 30000.01 = 3703.5012345 USDT; alice (taker) pays 0.1% of her BTC:
    # 0.00012345; bob (maker) 0.1% of his USDT: 3.7035012345, rounded down to 3.70350123.
    assert placed.order.status is OrderStatus.FILLED
    assert (placed.order.executed_qty, placed.order.cummulative_quote_qty) == (
        D("0.12345"),
        D("3703.5012345"),
    )
    assert [(f.price, f.qty, f.commission, f.commission_asset) for f in placed.fills] == [
        (D("30000.01"), D("0.12345"), D("0.00012345"), "BTC")
    ]
    (trade,) = ex.my_trades(bob, "BTCUSDT")
    assert (trade.quote_qty, trade.commission, trade.commission_asset) == (
        D("3703.5012345"),
        D("3.70350123"),
        "USDT",
    )
    # alice reserved 0.12345 x 30000.50 and got the difference back at the maker's price.
    assert balance(ex, alice, "USDT") == (D("96296.4987655"), D(0))
    assert balance(ex, alice, "BTC") == (D("10.12332655"), D(0))
    assert balance(ex, bob, "USDT") == (D("103699.79773327"), D(0))
    assert balance(ex, bob, "BTC") == (D("9.5"), D("0.37655"))
    assert (fee_held(ex, "USDT"), fee_held(ex, "BTC")) == (D("3.70350123"), D("0.00012345"))
    (rest,) = ex.open_orders(bob, "BTCUSDT")
    assert (rest.status, rest.executed_qty, rest.locked_amount) == (
        OrderStatus.PARTIALLY_FILLED,
        D("0.12345"),
        D("0.37655"),
    )


def test_a_market_buy_by_quote_takes_whole_lots_and_spends_exactly_their_cost(
    ex: Exchange, alice: int, bob: int
) -> None:
    run(ex.place_order(order(bob, "BTCUSDT", "SELL", "0.01", "30000.01")))
    placed = run(ex.place_order(order(alice, "BTCUSDT", "BUY", None, type=OrderType.MARKET, quote=100)))
    # One lot (0.00001 BTC) costs 0.3000001 USDT: 100 USDT buys 333 lots for 99.9000333.
    assert placed.order.status is OrderStatus.FILLED
    assert (placed.order.executed_qty, placed.order.cummulative_quote_qty) == (D("0.00333"), D("99.9000333"))
    assert [f.commission for f in placed.fills] == [D("0.00000333")]
    assert balance(ex, alice, "USDT") == (D(100000) - D("99.9000333"), D(0))
    assert balance(ex, alice, "BTC") == (D(10) + D("0.00333") - D("0.00000333"), D(0))


@pytest.mark.parametrize("symbol", ["BTCUSDT", "BTCUSDC"])
def test_random_fills_give_the_decimal_reference_answers(engine: Engine, ex: Exchange, symbol: str) -> None:
    ex.add_markets([USDC], [BTCUSDC])
    maker, taker = make_users(engine, "maker", "taker")
    for user in (maker, taker):
        for asset in ("BTC", "USDT", "USDC"):
            run(ex.credit(user, asset, D(10**7), "test"))
    market, assets = ex.markets[symbol], ex.assets
    qp, bp = assets[market.quote].precision, assets[market.base].precision
    rng = random.Random(8)
    for _ in range(40):
        price = market.tick_size * rng.randint(1, 6_000_000)
        through = market.tick_size * rng.randint(0, 500)
        maker_qty, taker_qty = (market.step_size * rng.randint(1, 20_000) for _ in range(2))
        taker_sells = rng.random() < 0.5
        side, other = ("SELL", "BUY") if taker_sells else ("BUY", "SELL")
        limit = price - through if taker_sells else price + through
        before = {u: {a: balance(ex, u, a) for a in (market.base, market.quote)} for u in (maker, taker)}
        fees_before = (fee_held(ex, market.base), fee_held(ex, market.quote))

        run(ex.place_order(order(maker, symbol, other, maker_qty, price)))
        placed = run(ex.place_order(order(taker, symbol, side, taker_qty, limit, "IOC")))

        qty = min(maker_qty, taker_qty)
        cost = qty * price
        taker_fee = floor((cost if taker_sells else qty) * market.taker_fee, qp if taker_sells else bp)
        maker_fee = floor((qty if taker_sells else cost) * market.maker_fee, bp if taker_sells else qp)
        assert [(f.price, f.qty, f.commission) for f in placed.fills] == [(price, qty, taker_fee)]
        assert (placed.order.executed_qty, placed.order.cummulative_quote_qty) == (qty, cost)
        for user, sells, fee in ((taker, taker_sells, taker_fee), (maker, not taker_sells, maker_fee)):
            base_delta = -qty if sells else qty - fee
            quote_delta = cost - fee if sells else -cost
            base_free, _ = before[user][market.base]
            quote_free, _ = before[user][market.quote]
            rest = maker_qty - qty if user == maker else D(0)
            assert balance(ex, user, market.base)[0] + (rest if sells else 0) == base_free + base_delta
            assert (
                balance(ex, user, market.quote)[0] + (rest * price if not sells else 0)
                == quote_free + quote_delta
            )
        fee_base, fee_quote = (maker_fee, taker_fee) if taker_sells else (taker_fee, maker_fee)
        assert (fee_held(ex, market.base), fee_held(ex, market.quote)) == (
            fees_before[0] + fee_base,
            fees_before[1] + fee_quote,
        )
        run(ex.cancel_open_orders(maker, symbol))


def test_a_stored_balance_finer_than_its_asset_loads_and_trades_on(
    engine: Engine, ex: Exchange, alice: int, bob: int, clock: Clock
) -> None:
    """Versions before #8 left fees of 18 decimals in balances; the ledger's units (10**-18) hold
    them as they are, and what the engine produces from then on is at the asset's precision."""
    odd = D("100000.000000000000000001")
    with engine.begin() as conn:
        conn.execute(
            update(ex_balances)
            .where(ex_balances.c.account_id == ex.ledger.account_of(alice), ex_balances.c.asset == "USDT")
            .values(free=odd)
        )
    again = Exchange(engine, now=clock)
    assert balance(again, alice, "USDT") == (odd, D(0))
    run(again.place_order(order(bob, "BTCUSDT", "SELL", "0.1", 30000)))
    placed = run(again.place_order(order(alice, "BTCUSDT", "BUY", "0.1", 30000)))
    assert [f.commission for f in placed.fills] == [D("0.0001")]
    assert balance(again, alice, "USDT") == (odd - D(3000), D(0))


def test_an_open_order_off_its_lot_step_is_left_out_of_the_book_not_rounded(
    engine: Engine, ex: Exchange, alice: int, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    placed = run(ex.place_order(order(alice, "BTCUSDT", "BUY", "0.1", 30000)))
    kept = run(ex.place_order(order(alice, "BTCUSDT", "BUY", "0.2", 29000)))
    with engine.begin() as conn:  # as if stored before the market's lots were coarsened
        conn.execute(
            update(ex_orders).where(ex_orders.c.id == placed.order.order_id).values(orig_qty=D("0.100005"))
        )
    with caplog.at_level(logging.ERROR, logger="keyplane.exchange.state"):
        again = Exchange(engine, now=clock)
    assert [o.order_id for o in again.open_orders(alice)] == [kept.order.order_id]
    assert f"open order {placed.order.order_id} on BTCUSDT is off its market's lot step" in caplog.text
    assert balance(again, alice, "USDT")[1] == D(3000) + D(5800)  # its funds stay locked


def test_an_order_record_carries_every_field_of_the_live_order(ex: Exchange) -> None:
    stored = Order(
        order_id=7,
        client_order_id="every-field",
        user_id=3,
        symbol="BTCUSDT",
        side=Side.SELL,
        type=OrderType.STOP_LOSS_LIMIT,
        time_in_force=TimeInForce.IOC,
        price=D("30000.01"),
        orig_qty=D("0.5"),
        orig_quote_order_qty=D("12.5"),
        executed_qty=D("0.2"),
        cummulative_quote_qty=D("6000.002"),
        status=OrderStatus.PARTIALLY_FILLED,
        self_trade_prevention_mode=StpMode.EXPIRE_BOTH,
        time=1000,
        update_time=2000,
        working_time=1500,
        locked_amount=D("0.3"),
        stop_price=D("29999.99"),
        trailing_delta=150,
        trailing_time=1200,
        trail_price=D("30100.5"),
        order_list_id=4,
        queue=9,
    )
    assert LiveOrder.of(stored, ex.books["BTCUSDT"].units).record() == stored
