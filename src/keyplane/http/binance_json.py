"""The exchange's dataclasses as Binance spot JSON: decimals as strings (``fmt``), times as ms ints.

Shapes follow ``reference/ccxt_compat.md`` §2.1. Success bodies never carry ``code``,
``positionSide``, ``cumQuote``, ``time`` (tickers) or contract keys: ccxt reads those as errors
or as futures markets.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from keyplane.exchange import marketdata as md
from keyplane.exchange.marketdata import fmt
from keyplane.exchange.markets import AssetSpec, MarketSpec, StpMode
from keyplane.exchange.models import (
    AggTrade,
    Order,
    OrderList,
    PlacedOrder,
    PublicTrade,
    Trade,
)
from keyplane.exchange.open_limits import OpenOrderLimits
from keyplane.exchange.order_rate import OrderRateLimits
from keyplane.exchange.orders import MAX_TRAILING_DELTA, MIN_TRAILING_DELTA
from keyplane.exchange.prevented import PreventedMatch
from keyplane.exchange.snapshots import Snapshot
from keyplane.exchange.unit_text import units_text

ZERO = Decimal(0)
Json = dict[str, Any]
ORDER_TYPES = [
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
]
STP_MODES = [m.value for m in StpMode if m is not StpMode.NONE]


def request_weight(weight_per_ip: int) -> Json:
    return {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": weight_per_ip}


def order_limits(orders: OrderRateLimits) -> list[Json]:
    """The ORDERS limits the exchange enforces (none listed when off)."""
    out: list[Json] = []
    if orders.per_ten_seconds:
        out.append(
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": orders.per_ten_seconds,
            }
        )
    if orders.per_day:
        out.append({"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": orders.per_day})
    return out


def prevented_match(m: PreventedMatch) -> Json:
    return {
        "symbol": m.symbol,
        "preventedMatchId": m.prevented_match_id,
        "takerOrderId": m.taker_order_id,
        "makerSymbol": m.symbol,
        "makerOrderId": m.maker_order_id,
        "tradeGroupId": m.user_id,
        "selfTradePreventionMode": m.mode.value,
        "price": fmt(m.price),
        "makerPreventedQuantity": fmt(m.maker_prevented_qty),
        "transactTime": m.time,
    }


def snapshot(s: Snapshot) -> Json:
    balances = [{"asset": a, "free": fmt(f), "locked": fmt(lk)} for a, (f, lk) in s.balances.items()]
    return {
        "data": {"balances": balances, "totalAssetOfBtc": fmt(s.total_btc)},
        "type": "spot",
        "updateTime": s.update_time,
    }


def order_counts(orders: OrderRateLimits, counts: tuple[int, int]) -> list[Json]:
    """The ORDERS limits in force with the account's ``counts`` (ten seconds, day) against them."""
    ten_seconds, day = counts
    return [
        dict(limit, count=ten_seconds if limit["interval"] == "SECOND" else day)
        for limit in order_limits(orders)
    ]


# -- exchangeInfo --------------------------------------------------------------------------
def market(m: MarketSpec, assets: dict[str, AssetSpec], limits: OpenOrderLimits) -> Json:
    base_p = assets[m.base].precision if m.base in assets else 8
    quote_p = assets[m.quote].precision if m.quote in assets else 8
    return {
        "symbol": m.symbol,
        "status": m.status,
        "baseAsset": m.base,
        "baseAssetPrecision": base_p,
        "quoteAsset": m.quote,
        "quotePrecision": quote_p,
        "quoteAssetPrecision": quote_p,
        "baseCommissionPrecision": base_p,
        "quoteCommissionPrecision": quote_p,
        "orderTypes": ORDER_TYPES,
        "icebergAllowed": False,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "amendAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fmt(m.min_price),
                "maxPrice": fmt(m.max_price),
                "tickSize": fmt(m.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt(m.min_qty),
                "maxQty": fmt(m.max_qty),
                "stepSize": fmt(m.step_size),
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": fmt(m.min_qty),
                "maxQty": fmt(m.max_qty),
                "stepSize": fmt(m.step_size),
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": fmt(m.min_notional),
                "applyMinToMarket": True,
                "maxNotional": fmt(m.max_notional),
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": MIN_TRAILING_DELTA,
                "maxTrailingAboveDelta": MAX_TRAILING_DELTA,
                "minTrailingBelowDelta": MIN_TRAILING_DELTA,
                "maxTrailingBelowDelta": MAX_TRAILING_DELTA,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": limits.orders},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": limits.algo_orders},
            {"filterType": "MAX_NUM_ORDER_LISTS", "maxNumOrderLists": limits.order_lists},
            {"filterType": "MAX_NUM_ORDER_AMENDS", "maxNumOrderAmends": limits.amends_per_order},
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": m.stp_mode.value,
        "allowedSelfTradePreventionModes": STP_MODES,
    }


def exchange_info(
    markets: list[MarketSpec],
    assets: dict[str, AssetSpec],
    limits: OpenOrderLimits,
    weight_per_ip: int,
    orders: OrderRateLimits,
    now: int,
) -> Json:
    return {
        "timezone": "UTC",
        "serverTime": now,
        "rateLimits": [request_weight(weight_per_ip), *order_limits(orders)],
        "exchangeFilters": [],
        "symbols": [market(m, assets, limits) for m in markets],
    }


# -- market data ---------------------------------------------------------------------------
def depth(d: md.Depth) -> Json:
    return {
        "lastUpdateId": d.last_update_id,
        "bids": [[fmt(p), fmt(q)] for p, q in d.bids],
        "asks": [[fmt(p), fmt(q)] for p, q in d.asks],
    }


def public_trade(t: PublicTrade) -> Json:
    return {
        "id": t.id,
        "price": fmt(t.price),
        "qty": fmt(t.qty),
        "quoteQty": fmt(t.quote_qty),
        "time": t.time,
        "isBuyerMaker": t.is_buyer_maker,
        "isBestMatch": t.is_best_match,
    }


def agg_trade(t: AggTrade) -> Json:
    return {
        "a": t.id,
        "p": fmt(t.price),
        "q": fmt(t.qty),
        "f": t.first_trade_id,
        "l": t.last_trade_id,
        "T": t.time,
        "m": t.is_buyer_maker,
        "M": t.is_best_match,
    }


MINI_TICKER = (
    "symbol",
    "openPrice",
    "highPrice",
    "lowPrice",
    "lastPrice",
    "volume",
    "quoteVolume",
    "openTime",
    "closeTime",
    "firstId",
    "lastId",
    "count",
)


def ticker_24h(t: md.Ticker24h, mini: bool = False) -> Json:
    full = {
        "symbol": t.symbol,
        "priceChange": fmt(t.price_change),
        "priceChangePercent": fmt(t.price_change_percent),
        "weightedAvgPrice": fmt(t.weighted_avg_price),
        "prevClosePrice": fmt(t.prev_close_price),
        "lastPrice": fmt(t.last_price),
        "lastQty": fmt(t.last_qty),
        "bidPrice": fmt(t.bid_price),
        "bidQty": fmt(t.bid_qty),
        "askPrice": fmt(t.ask_price),
        "askQty": fmt(t.ask_qty),
        "openPrice": fmt(t.open_price),
        "highPrice": fmt(t.high_price),
        "lowPrice": fmt(t.low_price),
        "volume": fmt(t.volume),
        "quoteVolume": fmt(t.quote_volume),
        "openTime": t.open_time,
        "closeTime": t.close_time,
        "firstId": t.first_id,
        "lastId": t.last_id,
        "count": t.count,
    }
    return {k: full[k] for k in MINI_TICKER} if mini else full


# The rolling and trading-day tickers: the mini ticker's fields and the change and average price.
WINDOW_TICKER = (MINI_TICKER[0], "priceChange", "priceChangePercent", "weightedAvgPrice", *MINI_TICKER[1:])


def ticker_window(t: md.Ticker24h, mini: bool = False) -> Json:
    """The rolling and trading-day tickers: the 24-hour ticker's fields without the last quantity,
    the previous close and the book's best prices."""
    full = ticker_24h(t)
    return {k: full[k] for k in (MINI_TICKER if mini else WINDOW_TICKER)}


def price_ticker(t: md.PriceTicker) -> Json:
    return {"symbol": t.symbol, "price": fmt(t.price)}


def book_ticker(t: md.BookTicker) -> Json:
    return {
        "symbol": t.symbol,
        "bidPrice": fmt(t.bid_price),
        "bidQty": fmt(t.bid_qty),
        "askPrice": fmt(t.ask_price),
        "askQty": fmt(t.ask_qty),
    }


def avg_price(a: md.AvgPrice) -> Json:
    return {"mins": a.mins, "price": fmt(a.price), "closeTime": a.close_time}


# -- orders and trades ---------------------------------------------------------------------
def _core(o: Order) -> Json:
    return {
        "symbol": o.symbol,
        "orderId": o.order_id,
        "orderListId": o.order_list_id,
        "clientOrderId": o.client_order_id,
    }


def _state(o: Order) -> Json:
    return {
        "price": fmt(o.price),
        "origQty": fmt(o.orig_qty),
        "executedQty": fmt(o.executed_qty),
        "origQuoteOrderQty": fmt(o.orig_quote_order_qty),
        "cummulativeQuoteQty": fmt(o.cummulative_quote_qty),
        "status": o.status.value,
        "timeInForce": o.time_in_force.value,
        "type": o.type.value,
        "side": o.side.value,
    }


def _conditional(o: Order) -> Json:
    """Binance's conditional fields: ``stopPrice`` for the stop and take-profit types,
    ``trailingDelta`` and ``trailingTime`` for trailing orders."""
    if not o.type.is_conditional:
        return {}
    fields: Json = {"stopPrice": fmt(o.stop_price)}
    if o.trailing_delta:
        fields["trailingDelta"] = o.trailing_delta
        fields["trailingTime"] = o.trailing_time
    return fields


def _prevented(o: Order) -> Json:
    """Binance's fields of an order self-trade prevention expired: its match and the quantity."""
    if not o.prevented_match_id:
        return {}
    return {"preventedMatchId": o.prevented_match_id, "preventedQuantity": fmt(o.prevented_quantity)}


def new_order(placed: PlacedOrder, resp_type: str) -> Json:
    """ACK, RESULT or FULL, as ``newOrderRespType`` asks."""
    o = placed.order
    body = {**_core(o), "transactTime": o.time}
    if resp_type == "ACK":
        return body
    body.update(_state(o))
    body.update(_conditional(o))
    body["workingTime"] = o.working_time
    body["selfTradePreventionMode"] = o.self_trade_prevention_mode.value
    body.update(_prevented(o))
    if resp_type == "FULL":
        body["fills"] = [
            {
                "price": fmt(f.price),
                "qty": fmt(f.qty),
                "commission": fmt(f.commission),
                "commissionAsset": f.commission_asset,
                "tradeId": f.trade_id,
            }
            for f in placed.fills
        ]
    return body


def order(o: Order) -> Json:
    return {
        **_core(o),
        **_state(o),
        "stopPrice": fmt(o.stop_price),
        **{k: v for k, v in _conditional(o).items() if k != "stopPrice"},
        "icebergQty": fmt(ZERO),
        "time": o.time,
        "updateTime": o.update_time,
        "isWorking": o.is_working,
        "workingTime": o.working_time,
        "selfTradePreventionMode": o.self_trade_prevention_mode.value,
        **_prevented(o),
    }


def canceled(o: Order, cancel_client_id: str) -> Json:
    """The cancel answer: ``origClientOrderId`` is the order's id, ``clientOrderId`` the cancel's."""
    return {
        "symbol": o.symbol,
        "origClientOrderId": o.client_order_id,
        "orderId": o.order_id,
        "orderListId": o.order_list_id,
        "clientOrderId": cancel_client_id,
        "transactTime": o.update_time,
        **_state(o),
        **_conditional(o),
        "selfTradePreventionMode": o.self_trade_prevention_mode.value,
    }


def order_list(lst: OrderList) -> Json:
    """An order list as ``GET /api/v3/orderList`` answers it (legs as symbol, id, client id)."""
    return {
        "orderListId": lst.list_id,
        "contingencyType": lst.contingency_type,
        "listStatusType": lst.list_status_type,
        "listOrderStatus": lst.list_order_status,
        "listClientOrderId": lst.list_client_order_id,
        "transactionTime": lst.transaction_time,
        "symbol": lst.symbol,
        "orders": [{"symbol": lst.symbol, "orderId": i, "clientOrderId": c} for i, c in lst.orders],
    }


def my_trade(t: Trade) -> Json:
    return {
        "symbol": t.symbol,
        "id": t.id,
        "orderId": t.order_id,
        "orderListId": -1,
        "price": fmt(t.price),
        "qty": fmt(t.qty),
        "quoteQty": fmt(t.quote_qty),
        "commission": fmt(t.commission),
        "commissionAsset": t.commission_asset,
        "time": t.time,
        "isBuyer": t.is_buyer,
        "isMaker": t.is_maker,
        "isBestMatch": t.is_best_match,
    }


# -- account and wallet --------------------------------------------------------------------
def balance(asset: str, free: int, locked: int) -> Json:
    """One ``balances`` entry from ledger units, printed as ``fmt`` prints them."""
    return {"asset": asset, "free": units_text(free), "locked": units_text(locked)}


def trade_fee(m: MarketSpec) -> Json:
    return {"symbol": m.symbol, "makerCommission": fmt(m.maker_fee), "takerCommission": fmt(m.taker_fee)}


# Deposits and withdrawals do not run yet: say so, so a client does not try them (ccxt reads these
# flags into each currency's ``deposit``/``withdraw``/``active``).
