"""New-order validation, order rows, and the account queries (order, allOrders, myTrades).

Validation runs before anything is written and raises the exact Binance error; the order of the
checks follows Binance (parameters, then filters; balance is checked by the service).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, or_, select

from keyplane.exchange.amounts import exact
from keyplane.exchange.errors import FilterFailure, InvalidParameter
from keyplane.exchange.markets import MarketSpec, StpMode
from keyplane.exchange.models import Order, OrderStatus, OrderType, Side, TimeInForce, Trade
from keyplane.store.exchange_tables import ex_orders, ex_trades
from keyplane.store.types import MONEY_INTEGER_DIGITS, decimal_places

CLIENT_ID_PATTERN = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"
CLIENT_ID_RE = re.compile(CLIENT_ID_PATTERN)
MAX_DECIMALS = 8
ZERO = Decimal(0)


@dataclass(kw_only=True, frozen=True, slots=True)
class OrderRequest:
    """A new order as its caller sent it, enums already parsed (the HTTP layer parses strings).

    ``None`` is a parameter not sent; :func:`validate` decides which are required for the type."""

    user_id: int
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal | None = None
    price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    quote_order_qty: Decimal | None = None
    client_order_id: str | None = None
    self_trade_prevention_mode: StpMode | None = None


@dataclass(kw_only=True, frozen=True, slots=True)
class ValidOrder:
    """A request that passed every parameter and filter check."""

    side: Side
    type: OrderType
    time_in_force: TimeInForce
    price: Decimal
    quantity: Decimal
    quote_order_qty: Decimal
    client_order_id: str
    stp_mode: StpMode


def new_client_order_id() -> str:
    return "kp" + secrets.token_hex(15)


def _amount(name: str, value: Decimal | None) -> Decimal:
    if value is None:
        raise InvalidParameter.missing(name)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidParameter.illegal_chars(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$")
    if decimal_places(value) > MAX_DECIMALS:
        raise InvalidParameter.too_precise(name)
    if value and value.adjusted() >= MONEY_INTEGER_DIGITS:
        raise InvalidParameter(f"Parameter '{name}' overflowed.", -1108)
    return value


@exact
def validate(req: OrderRequest, market: MarketSpec, avg_price: Decimal | None) -> ValidOrder:
    """Check parameters and filters; ``avg_price`` (5-minute average) prices MARKET notional."""
    otype = req.type
    stp = market.stp_mode if req.self_trade_prevention_mode is None else req.self_trade_prevention_mode
    coid = req.client_order_id
    if coid is None or coid == "":
        coid = new_client_order_id()
    elif not CLIENT_ID_RE.match(coid):
        raise InvalidParameter.illegal_chars("newClientOrderId", CLIENT_ID_PATTERN)
    tif = TimeInForce.GTC
    price = qty = quote = ZERO
    if otype is OrderType.MARKET:
        for name, v in (("price", req.price), ("timeInForce", req.time_in_force)):
            if v is not None:
                raise InvalidParameter.not_required(name)
        if req.quantity is None and req.quote_order_qty is None:
            raise InvalidParameter(
                "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!", -1102
            )
        if req.quantity is not None and req.quote_order_qty is not None:
            raise InvalidParameter.not_required("quoteOrderQty")
        if req.quantity is not None:
            qty = _amount("quantity", req.quantity)
            market.check_qty(qty)
            if avg_price and qty * avg_price < market.min_notional:  # applyMinToMarket, not max
                raise FilterFailure("NOTIONAL")
        else:
            quote = _amount("quoteOrderQty", req.quote_order_qty)
            if quote <= 0:
                raise InvalidParameter.invalid("quoteOrderQty")
            if quote < market.min_notional:
                raise FilterFailure("NOTIONAL")
    else:
        if req.quote_order_qty is not None:
            raise InvalidParameter.not_required("quoteOrderQty")
        if otype is OrderType.LIMIT:
            if req.time_in_force is None:
                raise InvalidParameter.missing("timeInForce")
            tif = req.time_in_force
        elif req.time_in_force is not None:
            raise InvalidParameter.not_required("timeInForce")
        qty = _amount("quantity", req.quantity)
        price = _amount("price", req.price)
        market.check_price(price)
        market.check_qty(qty)
        market.check_notional(price * qty)
    return ValidOrder(
        side=req.side,
        type=otype,
        time_in_force=tif,
        price=price,
        quantity=qty,
        quote_order_qty=quote,
        client_order_id=coid,
        stp_mode=stp,
    )


# -- rows ----------------------------------------------------------------------------------
def order_row(o: Order, seq: int) -> dict[str, Any]:
    return {
        "id": o.order_id,
        "user_id": o.user_id,
        "symbol": o.symbol,
        "client_order_id": o.client_order_id,
        "side": o.side.value,
        "type": o.type.value,
        "time_in_force": o.time_in_force.value,
        "price": o.price,
        "orig_qty": o.orig_qty,
        "orig_quote_order_qty": o.orig_quote_order_qty,
        "executed_qty": o.executed_qty,
        "cummulative_quote_qty": o.cummulative_quote_qty,
        "locked_amount": o.locked_amount,
        "status": o.status.value,
        "stp_mode": o.self_trade_prevention_mode.value,
        "is_open": o.status.is_open,
        "time": o.time,
        "update_time": o.update_time,
        "working_time": o.working_time,
        "update_seq": seq,
    }


def row_order(r: Any) -> Order:
    return Order(
        order_id=r["id"],
        client_order_id=r["client_order_id"],
        user_id=r["user_id"],
        symbol=r["symbol"],
        side=Side(r["side"]),
        type=OrderType(r["type"]),
        time_in_force=TimeInForce(r["time_in_force"]),
        price=r["price"],
        orig_qty=r["orig_qty"],
        orig_quote_order_qty=r["orig_quote_order_qty"],
        executed_qty=r["executed_qty"],
        cummulative_quote_qty=r["cummulative_quote_qty"],
        status=OrderStatus(r["status"]),
        self_trade_prevention_mode=StpMode(r["stp_mode"]),
        time=r["time"],
        update_time=r["update_time"],
        working_time=r["working_time"],
        locked_amount=r["locked_amount"],
    )


# -- queries -------------------------------------------------------------------------------
def find_order(
    conn: Connection, user_id: int, symbol: str, order_id: int | None, client_order_id: str | None
) -> Order | None:
    q = select(ex_orders).where(ex_orders.c.user_id == user_id, ex_orders.c.symbol == symbol)
    if order_id is not None:
        q = q.where(ex_orders.c.id == order_id)
        if client_order_id is not None:
            q = q.where(ex_orders.c.client_order_id == client_order_id)
    elif client_order_id is not None:
        q = q.where(ex_orders.c.client_order_id == client_order_id)
    else:
        raise InvalidParameter(
            "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!", -1102
        )
    r = conn.execute(q.order_by(ex_orders.c.id.desc()).limit(1)).mappings().first()
    return row_order(r) if r else None


def clamp_limit(limit: int | None, default: int, maximum: int) -> int:
    if limit is None:
        return default
    if limit <= 0:
        raise InvalidParameter.invalid("limit")
    return min(limit, maximum)


def all_orders(
    conn: Connection,
    user_id: int,
    symbol: str,
    order_id: int | None,
    start_time: int | None,
    end_time: int | None,
    limit: int | None,
) -> list[Order]:
    """Binance: with ``orderId`` the orders >= it; else within the times; else the most recent."""
    n = clamp_limit(limit, 500, 1000)
    c = ex_orders.c
    q = select(ex_orders).where(c.user_id == user_id, c.symbol == symbol)
    if order_id is not None:
        q = q.where(c.id >= order_id).order_by(c.id).limit(n)
        return [row_order(r) for r in conn.execute(q).mappings()]
    if start_time is not None:
        q = q.where(c.time >= start_time)
    if end_time is not None:
        q = q.where(c.time <= end_time)
    if start_time is not None:
        rows = list(conn.execute(q.order_by(c.id).limit(n)).mappings())
    else:
        rows = list(reversed(list(conn.execute(q.order_by(c.id.desc()).limit(n)).mappings())))
    return [row_order(r) for r in rows]


def my_trades(
    conn: Connection,
    user_id: int,
    market: MarketSpec,
    order_id: int | None,
    start_time: int | None,
    end_time: int | None,
    from_id: int | None,
    limit: int | None,
) -> list[Trade]:
    n = clamp_limit(limit, 500, 1000)
    c = ex_trades.c
    q = select(ex_trades).where(
        c.symbol == market.symbol, or_(c.buyer_user_id == user_id, c.seller_user_id == user_id)
    )
    if order_id is not None:
        q = q.where(or_(c.buyer_order_id == order_id, c.seller_order_id == order_id))
    if from_id is not None:
        q = q.where(c.id >= from_id)
    if start_time is not None:
        q = q.where(c.time >= start_time)
    if end_time is not None:
        q = q.where(c.time <= end_time)
    newest_first = from_id is None and start_time is None
    q = q.order_by(c.id.desc() if newest_first else c.id).limit(n)
    rows = list(conn.execute(q).mappings())
    if newest_first:
        rows.reverse()
    out: list[Trade] = []
    for r in rows:
        for is_buyer in (True, False):
            uid = r["buyer_user_id"] if is_buyer else r["seller_user_id"]
            oid = r["buyer_order_id"] if is_buyer else r["seller_order_id"]
            if uid != user_id or (order_id is not None and oid != order_id):
                continue
            out.append(
                Trade(
                    id=r["id"],
                    order_id=oid,
                    symbol=r["symbol"],
                    price=r["price"],
                    qty=r["qty"],
                    quote_qty=r["quote_qty"],
                    commission=r["buyer_fee"] if is_buyer else r["seller_fee"],
                    commission_asset=market.base if is_buyer else market.quote,
                    time=r["time"],
                    is_buyer=is_buyer,
                    is_maker=r["is_buyer_maker"] == is_buyer,
                )
            )
    return out[:n] if not newest_first else out[-n:]
