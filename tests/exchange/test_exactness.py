"""The ledger never rounds: every amount the engine takes or makes is exact at its asset's precision.

Fees are rounded down to the precision of the asset they are paid in; a market whose prices times
quantities would need more decimals than its quote asset holds is refused, and an old one is
traded in coarser lots; an amount or a sum the columns cannot hold raises instead of rounding.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import StatementError

from keyplane.exchange.errors import ExchangeError, InexactAmount, InvalidParameter
from keyplane.exchange.ledger import Bucket, Entry, EntryKind
from keyplane.exchange.markets import check_exact, default_assets, default_markets, exact_lots
from keyplane.exchange.models import OrderType, Side
from keyplane.exchange.orders import OrderRequest
from keyplane.exchange.service import Exchange
from keyplane.store.exchange_tables import ex_balances, ex_markets
from keyplane.store.types import decimal_places
from tests.exchange.conftest import Clock
from tests.exchange.orders import order
from tests.support.aio import run


def test_fees_are_rounded_down_to_the_precision_of_their_asset(ex: Exchange, alice: int, bob: int) -> None:
    # 0.00001 BTC at 30000.01 costs 0.3000001 USDT; a 0.1% fee on it would be 0.0003000001.
    run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.00017", "30000.01")))
    taker = run(ex.place_order(order(bob, "BTCUSDT", "BUY", "0.00017", "30000.01")))
    assert [(f.qty, f.commission) for f in taker.fills] == [(D("0.00017"), D("0.00000017"))]
    (trade,) = ex.my_trades(alice, "BTCUSDT")
    assert trade.commission == D("0.0051")  # 5.1000017 USDT x 0.001 = 0.0051000017, rounded down
    for user in (alice, bob):
        for b in ex.balances(user):
            assert decimal_places(b.free) <= 8 and decimal_places(b.locked) <= 8, b


def test_a_ledger_entry_beyond_the_assets_precision_is_refused_and_changes_nothing(
    ex: Exchange, alice: int
) -> None:
    acc = ex.ledger.account_of(alice)
    assert acc is not None
    before = ex.balances(alice)
    entries = ex.ledger.move(
        "USDT", D("0.000000001"), (acc, Bucket.FREE), (acc, Bucket.LOCKED), EntryKind.LOCK
    )
    with pytest.raises(InexactAmount):
        ex.ledger.post(entries)
    with pytest.raises(InexactAmount):
        big = Entry(account_id=acc, asset="USDT", bucket=Bucket.FREE, amount=D("1e25"), kind=EntryKind.CREDIT)
        ex.ledger.post([big, *entries[:1]])
    assert ex.balances(alice) == before and ex.ledger.pending == []


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (D("1e30"), -1108),
        (D(100000000000000000000), -1108),
        (D("0.000000001"), -1111),
        (D("1.000000000000000000000000000001"), -1111),
        (D("NaN"), -1130),
        (D("sNaN"), -1130),
        (D("-Infinity"), -1130),
        (D(0), -1130),
    ],
)
def test_credit_refuses_what_the_ledger_cannot_hold(ex: Exchange, alice: int, amount: D, code: int) -> None:
    before = ex.balances(alice)
    with pytest.raises(InvalidParameter) as err:
        run(ex.credit(alice, "USDT", amount, "test"))
    assert err.value.code == code
    assert ex.balances(alice) == before


def test_a_credit_whose_sum_outgrows_the_columns_is_refused(ex: Exchange, alice: int) -> None:
    run(ex.credit(alice, "USDT", D("99999999999999899999.99999999"), "test"))  # 100000 already there
    with pytest.raises(InexactAmount):
        run(ex.credit(alice, "USDT", D("0.00000001"), "test"))
    (usdt,) = [b for b in ex.balances(alice) if b.asset == "USDT"]
    assert usdt.free == D("99999999999999999999.99999999")


def test_exponent_spellings_that_lose_nothing_are_credited_exactly(ex: Exchange, alice: int) -> None:
    balance = run(ex.credit(alice, "BTC", D("1E+3"), "test"))
    assert balance.free == D(1010) and "E" not in str(balance.free)


def test_huge_order_parameters_are_refused_with_a_code_not_an_arithmetic_error(
    ex: Exchange, alice: int
) -> None:
    for qty, price in ((D("1e99"), D(30000)), (D("0.1"), D("1e99")), (D("1e-99"), D(30000))):
        with pytest.raises(ExchangeError):
            run(ex.place_order(order(alice, "BTCUSDT", "BUY", qty, price)))


def test_default_markets_keep_every_product_within_the_quote_precision() -> None:
    assets = {a.code: a for a in default_assets()}
    for market in default_markets():
        check_exact(market, assets)
        assert exact_lots(market, assets) == market


def test_a_market_needing_more_decimals_than_its_quote_holds_is_refused(ex: Exchange) -> None:
    eth_btc = next(m for m in default_markets() if m.symbol == "ETHBTC")
    too_fine = replace(eth_btc, symbol="ETHBTC2", step_size=D("0.0001"), min_qty=D("0.0001"))
    with pytest.raises(InvalidParameter):
        ex.add_markets([], [too_fine])
    assert "ETHBTC2" not in ex.markets


def test_a_market_saved_with_too_fine_lots_trades_in_coarser_ones(engine: Engine, clock: Clock) -> None:
    Exchange(engine, now=clock)
    with engine.begin() as conn:  # ETHBTC as an older version seeded it
        conn.execute(
            update(ex_markets)
            .where(ex_markets.c.symbol == "ETHBTC")
            .values(step_size=D("0.0001"), min_qty=D("0.0001"))
        )
    market = Exchange(engine, now=clock).markets["ETHBTC"]
    assert (market.step_size, market.min_qty) == (D("0.001"), D("0.001"))


@pytest.mark.parametrize("amount", [D("1e20"), D("0.0000000000000000001"), D("NaN")])
def test_a_money_column_refuses_a_value_it_would_round_on_either_back_end(
    engine: Engine, ex: Exchange, amount: D
) -> None:
    with pytest.raises(StatementError), engine.begin() as conn:
        conn.execute(update(ex_balances).values(free=amount))
    with engine.connect() as conn:
        assert all(r.free != amount for r in conn.execute(select(ex_balances.c.free)))


def test_a_market_order_priced_by_an_inexact_average_still_trades(ex: Exchange, alice: int, bob: int) -> None:
    for qty, price in (("0.1", "30000"), ("0.2", "30001")):  # average 30000.666...
        run(ex.place_order(order(alice, "BTCUSDT", "SELL", qty, price)))
        run(ex.place_order(order(bob, "BTCUSDT", "BUY", qty, price)))
    run(ex.place_order(order(alice, "BTCUSDT", "SELL", "0.01", 30002)))
    placed = run(
        ex.place_order(
            OrderRequest(
                user_id=bob, symbol="BTCUSDT", side=Side.BUY, type=OrderType.MARKET, quantity=D("0.01")
            )
        )
    )
    assert [f.qty for f in placed.fills] == [D("0.01")]


def test_credited_amounts_are_kept_in_their_shortest_plain_spelling(ex: Exchange, alice: int) -> None:
    run(ex.credit(alice, "ETH", D("2." + "0" * 80), "test"))
    run(ex.credit(alice, "SOL", D("0.5E+1"), "test"))
    assert {b.asset: str(b.free) for b in ex.balances(alice) if b.asset in ("ETH", "SOL")} == {
        "ETH": "2",
        "SOL": "5",
    }
