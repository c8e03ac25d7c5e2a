"""Binance's order amendment routes: ``POST /api/v3/order/cancelReplace``,
``PUT /api/v3/order/amend/keepPriority`` and ``GET /api/v3/order/amendments``.

Parameters are parsed here with Binance's codes (the new order's as for ``POST /api/v3/order``);
the exchange runs each as one command (:mod:`keyplane.exchange.amend`). A cancel-replace whose
cancel or new order failed answers as Binance does: -2022 (HTTP 400) when nothing was done, -2021
(HTTP 409) when one half succeeded, with both halves' results in ``data``.
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from keyplane.exchange.amend import Amended, CancelReplaceMode, CancelRestriction, Replaced
from keyplane.exchange.amendments import Amendment
from keyplane.exchange.errors import ExchangeError, InvalidParameter
from keyplane.exchange.marketdata import fmt
from keyplane.exchange.models import Order, PlacedOrder
from keyplane.exchange.orders import CLIENT_ID_PATTERN, CLIENT_ID_RE, new_client_order_id
from keyplane.http import binance_json as out
from keyplane.http import binance_params as p
from keyplane.http.binance_market import exchange
from keyplane.http.binance_new_order import order_request
from keyplane.http.binance_trading import count_orders
from keyplane.http.routing import Call
from keyplane.keys.payload import Params

Json = dict[str, Any]
E = TypeVar("E", bound=Enum)
ZERO = Decimal(0)
RATE_LIMIT_MODES = ("DO_NOTHING", "CANCEL_ONLY")


class CancelReplaceFailed(Exception):
    """A cancel-replace that did not fully succeed, answered with Binance's code, status and
    ``data`` (both halves' results); :func:`keyplane.http.errors.to_response` writes ``data``."""

    def __init__(self, code: int, msg: str, status: int, data: Json) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status, self.data = code, msg, status, data


def _enum(q: Params, name: str, cls: type[E]) -> E | None:
    raw = p.optional(q, name)
    if raw is None:
        return None
    try:
        return cls(raw)
    except ValueError:
        raise InvalidParameter.invalid(name) from None


def _client_id(q: Params, name: str) -> str:
    given = p.optional(q, name)
    if given is None:
        return new_client_order_id()
    if not CLIENT_ID_RE.match(given):
        raise InvalidParameter.illegal_chars(name, CLIENT_ID_PATTERN)
    return given


def _error(e: ExchangeError) -> Json:
    return {"code": e.code, "msg": e.msg}


def replaced_body(r: Replaced, cancel_id: str, resp_type: str) -> Json:
    """``{cancelResult, newOrderResult, cancelResponse, newOrderResponse}`` as Binance shapes them."""
    return {
        "cancelResult": "SUCCESS" if isinstance(r.cancel, Order) else "FAILURE",
        "newOrderResult": "NOT_ATTEMPTED"
        if r.new is None
        else "SUCCESS"
        if isinstance(r.new, PlacedOrder)
        else "FAILURE",
        "cancelResponse": out.canceled(r.cancel, cancel_id)
        if isinstance(r.cancel, Order)
        else _error(r.cancel),
        "newOrderResponse": None
        if r.new is None
        else out.new_order(r.new, resp_type)
        if isinstance(r.new, PlacedOrder)
        else _error(r.new),
    }


async def cancel_replace(call: Call) -> Json:
    q = call.params
    ex = exchange(call)
    if p.optional(q, "cancelReplaceMode") is None:
        raise InvalidParameter.missing("cancelReplaceMode")
    mode = _enum(q, "cancelReplaceMode", CancelReplaceMode)
    assert mode is not None
    restriction = _enum(q, "cancelRestrictions", CancelRestriction)
    p.one_of(
        q,
        "orderRateLimitExceededMode",
        RATE_LIMIT_MODES,
        "Data sent for parameter 'orderRateLimitExceededMode' is not valid.",
        -1130,
    )
    cancel_order_id = p.integer(q, "cancelOrderId")
    cancel_orig = p.optional(q, "cancelOrigClientOrderId")
    cancel_id = _client_id(q, "cancelNewClientOrderId")
    req, resp_type = order_request(call.user_id, q, ex.markets)
    result = await ex.cancel_replace(req, cancel_order_id, cancel_orig, mode, restriction)
    body = replaced_body(result, cancel_id, resp_type)
    if result.succeeded:
        count_orders(call, ex)
        return body
    one_half = isinstance(result.cancel, Order) or isinstance(result.new, PlacedOrder)
    if one_half:
        raise CancelReplaceFailed(-2021, "Order cancel-replace partially failed.", 409, body)
    raise CancelReplaceFailed(-2022, "Order cancel-replace failed.", 400, body)


def amended_body(a: Amended) -> Json:
    o = a.order
    return {
        "transactTime": a.amendment.time,
        "executionId": a.amendment.execution_id,
        "amendedOrder": {
            "symbol": o.symbol,
            "orderId": o.order_id,
            "orderListId": -1,
            "origClientOrderId": a.amendment.orig_client_order_id,
            "clientOrderId": o.client_order_id,
            "price": fmt(o.price),
            "qty": fmt(o.orig_qty),
            "executedQty": fmt(o.executed_qty),
            "preventedQty": fmt(ZERO),
            "quoteOrderQty": fmt(o.orig_quote_order_qty),
            "cumulativeQuoteQty": fmt(o.cummulative_quote_qty),
            "status": o.status.value,
            "timeInForce": o.time_in_force.value,
            "type": o.type.value,
            "side": o.side.value,
            "workingTime": o.working_time,
            "selfTradePreventionMode": o.self_trade_prevention_mode.value,
        },
    }


async def amend_keep_priority(call: Call) -> Json:
    q = call.params
    symbol = p.symbol(q)
    order_id, orig = p.integer(q, "orderId"), p.optional(q, "origClientOrderId")
    new_id = _client_id(q, "newClientOrderId")
    new_qty = p.decimal(q, "newQty")
    if new_qty is None:
        raise InvalidParameter.missing("newQty")
    amended = await exchange(call).amend_keep_priority(call.user_id, symbol, order_id, orig, new_qty, new_id)
    return amended_body(amended)


def amendment(a: Amendment) -> Json:
    return {
        "symbol": a.symbol,
        "orderId": a.order_id,
        "executionId": a.execution_id,
        "origClientOrderId": a.orig_client_order_id,
        "newClientOrderId": a.new_client_order_id,
        "origQty": fmt(a.orig_qty),
        "newQty": fmt(a.new_qty),
        "time": a.time,
    }


async def amendments(call: Call) -> list[Json]:
    q = call.params
    symbol = p.symbol(q)
    order_id = p.integer(q, "orderId")
    if order_id is None:
        raise InvalidParameter.missing("orderId")
    args = (p.integer(q, "fromExecutionId"), p.integer(q, "limit"))
    found = await exchange(call).amendments(call.user_id, symbol, order_id, *args)
    return [amendment(a) for a in found]
