"""Refused commands: exact Binance code and message, and nothing written."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import Engine, func, select

from keyplane.exchange.errors import ExchangeError, FilterFailure, InsufficientBalance, NoSuchOrder
from keyplane.exchange.models import OrderType, Side, TimeInForce
from keyplane.exchange.orders import OrderRequest
from keyplane.exchange.service import Exchange
from keyplane.store.exchange_tables import ex_entries, ex_orders
from tests.exchange.orders import order
from tests.support.aio import run


def rows(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(ex_orders)).scalar_one(),
            conn.execute(select(func.count()).select_from(ex_entries)).scalar_one(),
        )


@pytest.mark.parametrize(
    ("qty", "price", "msg"),
    [
        ("0.000001", "30000", "Filter failure: LOT_SIZE"),  # below minQty
        ("0.000015", "30000", "Filter failure: LOT_SIZE"),  # off the step
        ("10000", "30000", "Filter failure: LOT_SIZE"),  # above maxQty
        ("0.1", "30000.005", "Filter failure: PRICE_FILTER"),  # off the tick
        ("0.1", "0", "Filter failure: PRICE_FILTER"),
        ("0.0001", "30000", "Filter failure: NOTIONAL"),  # 3 USDT < 5
    ],
)
def test_filter_failures_are_1013_with_the_filter_name(
    ex: Exchange, engine: Engine, alice: int, qty: str, price: str, msg: str
) -> None:
    before = rows(engine)
    with pytest.raises(FilterFailure) as err:
        run(ex.place_order(order(alice, "BTCUSDT", "BUY", qty, price)))
    assert (err.value.code, err.value.msg) == (-1013, msg)
    assert rows(engine) == before


def test_insufficient_balance_changes_nothing(ex: Exchange, engine: Engine, alice: int) -> None:
    before, balances = rows(engine), ex.balances(alice)
    with pytest.raises(InsufficientBalance) as err:
        run(ex.place_order(order(alice, "BTCUSDT", "BUY", 4, 30000)))
    assert (err.value.code, err.value.msg) == (
        -2010,
        "Account has insufficient balance for requested action.",
    )
    assert rows(engine) == before and ex.balances(alice) == balances
    # A fresh exchange on the same database sees the same thing: nothing was half-written.
    assert Exchange(engine).balances(alice) == balances


def test_market_buy_by_quantity_beyond_available_funds_is_refused(ex: Exchange, alice: int, bob: int) -> None:
    run(ex.place_order(order(alice, "BTCUSDT", "SELL", 5, 30000)))
    with pytest.raises(InsufficientBalance):
        run(
            ex.place_order(
                OrderRequest(
                    user_id=bob, symbol="BTCUSDT", side=Side.BUY, type=OrderType.MARKET, quantity=D(4)
                )
            )
        )


# A side, type, timeInForce or STP mode that is not one never reaches the exchange: the HTTP edge
# parses them (tests/http/exchange/test_parameters.py).
@pytest.mark.parametrize(
    ("req", "code", "msg"),
    [
        ({"symbol": "NOPE", "side": Side.BUY, "type": OrderType.LIMIT}, -1121, "Invalid symbol."),
        (
            {"side": Side.BUY, "type": OrderType.LIMIT, "quantity": D("0.1"), "price": D(30000)},
            -1102,
            "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
        ),
        (
            {"side": Side.BUY, "type": OrderType.MARKET},
            -1102,
            "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
        ),
        (
            {"side": Side.BUY, "type": OrderType.MARKET, "quantity": D("0.1"), "price": D(1)},
            -1106,
            "Parameter 'price' sent when not required.",
        ),
        (
            {
                "side": Side.BUY,
                "type": OrderType.LIMIT_MAKER,
                "quantity": D("0.1"),
                "price": D(30000),
                "time_in_force": TimeInForce.GTC,
            },
            -1106,
            "Parameter 'timeInForce' sent when not required.",
        ),
        (
            {
                "side": Side.BUY,
                "type": OrderType.LIMIT,
                "quantity": D("0.123456789"),
                "price": D(30000),
                "time_in_force": TimeInForce.GTC,
            },
            -1111,
            "Parameter 'quantity' has too much precision.",
        ),
        (
            {
                "side": Side.BUY,
                "type": OrderType.LIMIT,
                "quantity": D("0.1"),
                "price": D(30000),
                "time_in_force": TimeInForce.GTC,
                "client_order_id": "has space",
            },
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
        ),
    ],
)
def test_bad_parameters_get_binance_codes(
    ex: Exchange, alice: int, req: dict[str, object], code: int, msg: str
) -> None:
    args: dict[str, object] = {"user_id": alice, "symbol": "BTCUSDT", **req}
    with pytest.raises(ExchangeError) as err:
        run(ex.place_order(OrderRequest(**args)))
    assert (err.value.code, err.value.msg) == (code, msg)


def test_query_of_missing_order_is_2013(ex: Exchange, alice: int) -> None:
    with pytest.raises(NoSuchOrder) as err:
        run(ex.get_order(alice, "BTCUSDT", 999))
    assert (err.value.code, err.value.msg) == (-2013, "Order does not exist.")
