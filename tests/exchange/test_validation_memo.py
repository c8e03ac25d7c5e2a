"""A limit order's price and quantity checks are skipped for values that passed them before on the
same market (``keyplane.exchange.orders._limit_amounts``): the answer must be the one the checks
give from scratch, refusal for refusal, whatever came before."""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyplane.exchange.errors import ExchangeError
from keyplane.exchange.markets import MarketSpec, default_markets
from keyplane.exchange.models import OrderType, Side, TimeInForce
from keyplane.exchange.orders import OrderRequest, _amount, validate

# BTCUSDT's filters, with a coarser step and a bounded price range, under a symbol of its own.
MARKET = dataclasses.replace(
    next(m for m in default_markets() if m.symbol == "BTCUSDT"),
    symbol="MEMOUSDT",
    step_size=D("0.001"),
    min_qty=D("0.001"),
    max_qty=D(100),
    max_notional=D(1000000),
    min_price=D(1),
    max_price=D(100000),
)
# Valid and invalid alike: off the tick or step, out of range, too precise, zero, negative, huge.
PRICES = [D(p) for p in ("30000", "30000.00", "30000.01", "30000.005", "0.5", "0", "-1", "200000", "1e25")]
QTYS = [D(q) for q in ("0.001", "0.0010", "0.5", "0.0005", "0.123456789", "0", "-0.5", "1000", "1e-9")]


def request(qty: Any, price: Any) -> OrderRequest:
    return OrderRequest(
        user_id=1,
        symbol=MARKET.symbol,
        side=Side.BUY,
        type=OrderType.LIMIT,
        quantity=qty,
        price=price,
        time_in_force=TimeInForce.GTC,
    )


def outcome(call: Any) -> tuple[Any, ...]:
    try:
        v = call()
    except ExchangeError as error:
        return ("refused", error.code, error.msg)
    return ("accepted", v.price, v.quantity)


def from_scratch(qty: Any, price: Any, market: MarketSpec) -> tuple[Any, ...]:
    """The checks in Binance's order, none skipped: the oracle."""

    def checks() -> Any:
        q = _amount("quantity", qty)
        p = _amount("price", price)
        market.check_price(p)
        market.check_qty(q)
        market.check_notional(p * q)
        return dataclasses.make_dataclass("V", ["price", "quantity"])(p, q)

    return outcome(checks)


@given(st.lists(st.tuples(st.sampled_from(QTYS), st.sampled_from(PRICES)), min_size=1, max_size=30))
def test_every_answer_is_the_one_the_checks_give_from_scratch(pairs: list[tuple[D, D]]) -> None:
    market = dataclasses.replace(MARKET)  # a fresh market object: nothing remembered yet
    for qty, price in pairs:
        answer = outcome(lambda q=qty, p=price: validate(request(q, p), market, None))
        assert answer == from_scratch(qty, price, market)


def test_a_market_read_again_checks_again() -> None:
    assert outcome(lambda: validate(request(D("0.5"), D("30000.01")), MARKET, None))[0] == "accepted"
    coarser = dataclasses.replace(MARKET, tick_size=D("0.1"), step_size=D("0.1"))
    assert outcome(lambda: validate(request(D("0.5"), D("30000.01")), coarser, None)) == (
        "refused",
        -1013,
        "Filter failure: PRICE_FILTER",
    )
    assert outcome(lambda: validate(request(D("0.55"), D("30000.1")), coarser, None)) == (
        "refused",
        -1013,
        "Filter failure: LOT_SIZE",
    )


@pytest.mark.parametrize("raw", [0.5, "0.5", 1])
def test_a_value_equal_to_a_passed_decimal_but_not_a_decimal_is_still_refused(raw: Any) -> None:
    market = dataclasses.replace(MARKET)
    assert outcome(lambda: validate(request(D("0.5"), D(30000)), market, None))[0] == "accepted"
    assert outcome(lambda: validate(request(raw, D(30000)), market, None))[0] == "refused"
    assert outcome(lambda: validate(request(D("0.5"), raw), market, None))[0] == "refused"
