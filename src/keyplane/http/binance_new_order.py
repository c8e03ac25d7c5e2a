"""A new order's parameters parsed into an :class:`OrderRequest`: the exchange sees enums only.

Why here: strings are parsed once, at the edge. The errors and their order are the ones clients
got when the exchange parsed the enums itself: side (-1117) and type (-1116) first, then an unknown
symbol (-1121) before selfTradePreventionMode (-1130), and an invalid timeInForce only where the
exchange's own checks would not have refused the order first (:func:`_time_in_force`).
"""

from __future__ import annotations

from collections.abc import Container
from enum import Enum
from typing import TypeVar

from keyplane.exchange.errors import InvalidParameter, InvalidSymbol
from keyplane.exchange.markets import StpMode
from keyplane.exchange.models import OrderType, Side, TimeInForce
from keyplane.exchange.orders import CLIENT_ID_PATTERN, CLIENT_ID_RE, OrderRequest
from keyplane.http import binance_params as p
from keyplane.keys.payload import Params

E = TypeVar("E", bound=Enum)

RESP_TYPES = ("ACK", "RESULT", "FULL")
# Fields of order kinds the engine does not run (iceberg, pegged, strategy).
UNSUPPORTED = (
    "icebergQty",
    "strategyId",
    "strategyType",
    "pegPriceType",
    "pegOffsetValue",
    "pegOffsetType",
)


def _enum(cls: type[E], raw: str, msg: str, code: int) -> E:
    try:
        return cls(raw)
    except ValueError:
        raise InvalidParameter(msg, code) from None


def _time_in_force(
    raw: str | None, otype: OrderType, client_order_id: str | None, price_sent: bool, quote_sent: bool
) -> TimeInForce | None:
    """``timeInForce`` as an enum, None if not sent.

    The exchange reads the value only for a LIMIT order, after its checks of the client order id
    and of the parameters the type forbids; for MARKET and LIMIT_MAKER any timeInForce is "sent when
    not required". A value that is not a time in force therefore gets the first of those errors
    that applies, as it did when the exchange parsed it, and -1115 only when none does."""
    if raw is None:
        return None
    try:
        return TimeInForce(raw)
    except ValueError:
        pass
    if client_order_id is not None and not CLIENT_ID_RE.match(client_order_id):
        raise InvalidParameter.illegal_chars("newClientOrderId", CLIENT_ID_PATTERN)
    if otype in (OrderType.MARKET, OrderType.STOP_LOSS, OrderType.TAKE_PROFIT):
        raise InvalidParameter.not_required("price" if price_sent else "timeInForce")
    if quote_sent:
        raise InvalidParameter.not_required("quoteOrderQty")
    if otype is OrderType.LIMIT_MAKER:
        raise InvalidParameter.not_required("timeInForce")
    raise InvalidParameter("Invalid timeInForce.", -1115)


def order_request(user_id: int, q: Params, symbols: Container[str]) -> tuple[OrderRequest, str]:
    """Parse a new order and its response type (``symbols``: the markets that exist); raises
    before anything is placed."""
    symbol = p.symbol(q)
    side_raw, type_raw = p.required(q, "side"), p.required(q, "type")
    side = _enum(Side, side_raw, "Invalid side.", -1117)
    otype = _enum(OrderType, type_raw, "Invalid orderType.", -1116)
    p.not_sent(q, *UNSUPPORTED)
    resp = p.one_of(
        q, "newOrderRespType", RESP_TYPES, "Data sent for parameter 'newOrderRespType' is not valid.", -1130
    )
    default = "FULL" if otype in (OrderType.MARKET, OrderType.LIMIT) else "ACK"
    quantity, price = p.decimal(q, "quantity"), p.decimal(q, "price")
    tif_raw = p.optional(q, "timeInForce")
    quote = p.decimal(q, "quoteOrderQty")
    client_order_id = p.optional(q, "newClientOrderId")
    stp_raw = p.optional(q, "selfTradePreventionMode")
    stop_price, trailing_delta = p.decimal(q, "stopPrice"), p.integer(q, "trailingDelta")
    if symbol not in symbols:
        raise InvalidSymbol()
    stp = None
    if stp_raw is not None:
        msg = "Data sent for parameter 'selfTradePreventionMode' is not valid."
        stp = _enum(StpMode, stp_raw, msg, -1130)
    req = OrderRequest(
        user_id=user_id,
        symbol=symbol,
        side=side,
        type=otype,
        quantity=quantity,
        price=price,
        time_in_force=_time_in_force(tif_raw, otype, client_order_id, price is not None, quote is not None),
        quote_order_qty=quote,
        client_order_id=client_order_id,
        self_trade_prevention_mode=stp,
        stop_price=stop_price,
        trailing_delta=trailing_delta,
    )
    return req, resp or default
