"""One way for exchange tests to write a new order: ``order(alice, "BTCUSDT", "BUY", "0.1", 30000)``."""

from __future__ import annotations

from decimal import Decimal as D

from keyplane.exchange.markets import StpMode
from keyplane.exchange.models import OrderType, Side, TimeInForce
from keyplane.exchange.orders import OrderRequest

Amount = str | int | D


def order(
    user: int,
    symbol: str,
    side: str | Side,
    qty: Amount | None,
    price: Amount | None = None,
    tif: str | TimeInForce | None = None,
    *,
    type: OrderType = OrderType.LIMIT,
    quote: Amount | None = None,
    client_id: str | None = None,
    stp: StpMode | None = None,
    stop: Amount | None = None,
    trailing: int | None = None,
) -> OrderRequest:
    """An :class:`OrderRequest`; amounts as text or ints become ``Decimal``, and a LIMIT order
    without ``tif`` is GTC, as a ``*_LIMIT`` conditional one (other types send no timeInForce
    unless given); ``stop`` is the stopPrice, ``trailing`` the trailingDelta."""
    if tif is None and type in (OrderType.LIMIT, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT):
        tif = TimeInForce.GTC
    return OrderRequest(
        user_id=user,
        symbol=symbol,
        side=Side(side),
        type=type,
        quantity=None if qty is None else D(qty),
        price=None if price is None else D(price),
        time_in_force=None if tif is None else TimeInForce(tif),
        quote_order_qty=None if quote is None else D(quote),
        client_order_id=client_id,
        self_trade_prevention_mode=stp,
        stop_price=None if stop is None else D(stop),
        trailing_delta=trailing,
    )
