"""Signed order-list routes: new OCO, OTO and OTOCO, query, cancel, all and open order lists.

An OCO's parameters (``above*`` and ``below*``) become two :class:`OrderRequest` legs here, parsed
as a new order's are; the exchange checks the legs' types, places and prices.
"""

from __future__ import annotations

import asyncio
from typing import Any

from keyplane.exchange.errors import InvalidParameter, InvalidSymbol
from keyplane.exchange.markets import StpMode
from keyplane.exchange.models import OrderType, PlacedOrder, Side, TimeInForce
from keyplane.exchange.order_lists import OcoRequest, OtocoRequest, OtoRequest, PlacedList
from keyplane.exchange.orders import OrderRequest
from keyplane.http import binance_json as out
from keyplane.http import binance_params as p
from keyplane.http.binance_market import exchange
from keyplane.http.binance_new_order import RESP_TYPES
from keyplane.http.binance_trading import cancel_client_id, count_orders
from keyplane.http.routing import Call
from keyplane.keys.payload import Params


def _unsupported(*legs: str) -> tuple[str, ...]:
    """Leg fields of order kinds the engine does not run (iceberg, strategy, pegged)."""
    return tuple(
        f"{leg}{name}"
        for leg in legs
        for name in (
            "IcebergQty",
            "StrategyId",
            "StrategyType",
            "PegPriceType",
            "PegOffsetType",
            "PegOffsetValue",
        )
    )


UNSUPPORTED = _unsupported("above", "below")


def _enum_or(raw: str, cls: type[Any], msg: str, code: int) -> Any:
    try:
        return cls(raw)
    except ValueError:
        raise InvalidParameter(msg, code) from None


def _leg(
    q: Params,
    leg: str,
    user_id: int,
    symbol: str,
    side: Side,
    stp: StpMode | None,
    own_qty: bool = False,
    qty_name: str = "quantity",
) -> OrderRequest:
    otype = _enum_or(p.required(q, f"{leg}Type"), OrderType, "Invalid orderType.", -1116)
    tif_raw = p.optional(q, f"{leg}TimeInForce")
    tif = None if tif_raw is None else _enum_or(tif_raw, TimeInForce, "Invalid timeInForce.", -1115)
    return OrderRequest(
        user_id=user_id,
        symbol=symbol,
        side=side,
        type=otype,
        quantity=p.decimal(q, f"{leg}Quantity" if own_qty else qty_name),
        price=p.decimal(q, f"{leg}Price"),
        quote_order_qty=p.decimal(q, f"{leg}QuoteOrderQty") if own_qty else None,
        time_in_force=tif,
        client_order_id=p.optional(q, f"{leg}ClientOrderId"),
        self_trade_prevention_mode=stp,
        stop_price=p.decimal(q, f"{leg}StopPrice"),
        trailing_delta=p.integer(q, f"{leg}TrailingDelta"),
    )


def _placed(placed: PlacedList, resp_type: str) -> dict[str, Any]:
    reports = []
    for o in placed.orders:
        report = out.new_order(PlacedOrder(order=o), "RESULT" if resp_type == "FULL" else resp_type)
        if resp_type == "FULL":
            report["fills"] = []
        reports.append(report)
    return {**out.order_list(placed.order_list), "orderReports": reports}


async def new_oco(call: Call) -> dict[str, Any]:
    q = call.params
    ex = exchange(call)
    symbol = p.symbol(q)
    side = _enum_or(p.required(q, "side"), Side, "Invalid side.", -1117)
    p.not_sent(q, *UNSUPPORTED)
    resp = p.one_of(
        q, "newOrderRespType", RESP_TYPES, "Data sent for parameter 'newOrderRespType' is not valid.", -1130
    )
    if symbol not in ex.markets:
        raise InvalidSymbol()
    stp = _stp(q)
    if p.decimal(q, "quantity") is None:
        raise InvalidParameter.missing("quantity")
    req = OcoRequest(
        above=_leg(q, "above", call.user_id, symbol, side, stp),
        below=_leg(q, "below", call.user_id, symbol, side, stp),
        list_client_order_id=p.optional(q, "listClientOrderId"),
    )
    placed = await ex.place_oco(req)
    count_orders(call, ex)
    return _placed(placed, resp or "ACK")


async def new_oto(call: Call) -> dict[str, Any]:
    """OTO: ``working*`` (LIMIT or LIMIT_MAKER) and ``pending*`` parameters, each with its side
    and quantity."""
    q = call.params
    ex = exchange(call)
    symbol = p.symbol(q)
    sides = [
        _enum_or(p.required(q, f"{leg}Side"), Side, "Invalid side.", -1117) for leg in ("working", "pending")
    ]
    p.not_sent(q, *_unsupported("working", "pending"))
    resp = p.one_of(
        q, "newOrderRespType", RESP_TYPES, "Data sent for parameter 'newOrderRespType' is not valid.", -1130
    )
    if symbol not in ex.markets:
        raise InvalidSymbol()
    stp = _stp(q)
    req = OtoRequest(
        working=_leg(q, "working", call.user_id, symbol, sides[0], stp, own_qty=True),
        pending=_leg(q, "pending", call.user_id, symbol, sides[1], stp, own_qty=True),
        list_client_order_id=p.optional(q, "listClientOrderId"),
    )
    placed = await ex.place_oto(req)
    count_orders(call, ex)
    return _placed(placed, resp or "ACK")


async def new_otoco(call: Call) -> dict[str, Any]:
    """OTOCO: ``working*`` as an OTO's, then ``pendingSide``, ``pendingQuantity`` and the
    ``pendingAbove*`` / ``pendingBelow*`` legs of the OCO placed once the working order fills."""
    q = call.params
    ex = exchange(call)
    symbol = p.symbol(q)
    working_side = _enum_or(p.required(q, "workingSide"), Side, "Invalid side.", -1117)
    pending_side = _enum_or(p.required(q, "pendingSide"), Side, "Invalid side.", -1117)
    p.not_sent(q, *_unsupported("working", "pendingAbove", "pendingBelow"))
    resp = p.one_of(
        q, "newOrderRespType", RESP_TYPES, "Data sent for parameter 'newOrderRespType' is not valid.", -1130
    )
    if symbol not in ex.markets:
        raise InvalidSymbol()
    stp = _stp(q)
    if p.decimal(q, "pendingQuantity") is None:
        raise InvalidParameter.missing("pendingQuantity")
    pending = (call.user_id, symbol, pending_side, stp)
    req = OtocoRequest(
        working=_leg(q, "working", call.user_id, symbol, working_side, stp, own_qty=True),
        above=_leg(q, "pendingAbove", *pending, qty_name="pendingQuantity"),
        below=_leg(q, "pendingBelow", *pending, qty_name="pendingQuantity"),
        list_client_order_id=p.optional(q, "listClientOrderId"),
    )
    placed = await ex.place_otoco(req)
    count_orders(call, ex)
    return _placed(placed, resp or "ACK")


def _legacy_leg(
    q: Params, user_id: int, symbol: str, side: Side, stp: StpMode | None, stop: bool
) -> OrderRequest:
    """One leg of the deprecated ``POST /api/v3/order/oco``: the LIMIT_MAKER at ``price``, or the
    STOP_LOSS_LIMIT at ``stopLimitPrice`` (STOP_LOSS without it) triggered at ``stopPrice``."""
    if not stop:
        return OrderRequest(
            user_id=user_id,
            symbol=symbol,
            side=side,
            type=OrderType.LIMIT_MAKER,
            quantity=p.decimal(q, "quantity"),
            price=p.decimal(q, "price"),
            client_order_id=p.optional(q, "limitClientOrderId"),
            self_trade_prevention_mode=stp,
        )
    limit_price = p.decimal(q, "stopLimitPrice")
    tif_raw = p.optional(q, "stopLimitTimeInForce")
    tif = None if tif_raw is None else _enum_or(tif_raw, TimeInForce, "Invalid timeInForce.", -1115)
    return OrderRequest(
        user_id=user_id,
        symbol=symbol,
        side=side,
        type=OrderType.STOP_LOSS if limit_price is None else OrderType.STOP_LOSS_LIMIT,
        quantity=p.decimal(q, "quantity"),
        price=limit_price,
        time_in_force=tif,
        client_order_id=p.optional(q, "stopClientOrderId"),
        self_trade_prevention_mode=stp,
        stop_price=p.decimal(q, "stopPrice"),
        trailing_delta=p.integer(q, "trailingDelta"),
    )


async def new_legacy_oco(call: Call) -> dict[str, Any]:
    """The deprecated OCO: a limit and a stop leg instead of above and below; the same list."""
    q = call.params
    ex = exchange(call)
    symbol = p.symbol(q)
    side = _enum_or(p.required(q, "side"), Side, "Invalid side.", -1117)
    p.not_sent(q, "limitIcebergQty", "stopIcebergQty", "limitStrategyId", "stopStrategyId")
    resp = p.one_of(
        q, "newOrderRespType", RESP_TYPES, "Data sent for parameter 'newOrderRespType' is not valid.", -1130
    )
    if symbol not in ex.markets:
        raise InvalidSymbol()
    stp = _stp(q)
    for name in ("quantity", "price", "stopPrice"):
        if p.decimal(q, name) is None:
            raise InvalidParameter.missing(name)
    limit_leg = _legacy_leg(q, call.user_id, symbol, side, stp, stop=False)
    stop_leg = _legacy_leg(q, call.user_id, symbol, side, stp, stop=True)
    above, below = (limit_leg, stop_leg) if side is Side.SELL else (stop_leg, limit_leg)
    req = OcoRequest(above=above, below=below, list_client_order_id=p.optional(q, "listClientOrderId"))
    placed = await ex.place_oco(req)
    count_orders(call, ex)
    return _placed(placed, resp or "ACK")


def _stp(q: Params) -> StpMode | None:
    raw = p.optional(q, "selfTradePreventionMode")
    if raw is None:
        return None
    mode: StpMode = _enum_or(
        raw, StpMode, "Data sent for parameter 'selfTradePreventionMode' is not valid.", -1130
    )
    return mode


def _list_ref(q: Params, client_name: str) -> tuple[int | None, str | None]:
    return p.integer(q, "orderListId"), p.optional(q, client_name)


async def get_order_list(call: Call) -> dict[str, Any]:
    list_id, client_id = _list_ref(call.params, "origClientOrderId")
    return out.order_list(await exchange(call).get_order_list(call.user_id, list_id, client_id))


async def cancel_order_list(call: Call) -> dict[str, Any]:
    q = call.params
    symbol = p.symbol(q)
    list_id, client_id = _list_ref(q, "listClientOrderId")
    cancel_id = cancel_client_id(q)
    done = await exchange(call).cancel_order_list(call.user_id, symbol, list_id, client_id)
    body = out.order_list(done.order_list)
    body.update(listStatusType="ALL_DONE", listOrderStatus="ALL_DONE")
    body["orderReports"] = [out.canceled(o, cancel_id) for o in done.orders]
    return body


async def open_order_lists(call: Call) -> list[dict[str, Any]]:
    return [out.order_list(lst) for lst in exchange(call).open_order_lists(call.user_id)]


async def all_order_lists(call: Call) -> list[dict[str, Any]]:
    q = call.params
    args = (p.integer(q, "fromId"), p.integer(q, "startTime"), p.integer(q, "endTime"), p.integer(q, "limit"))
    found = await asyncio.to_thread(exchange(call).all_order_lists, call.user_id, *args)
    return [out.order_list(lst) for lst in found]
