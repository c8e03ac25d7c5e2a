"""Binance spot routes of the exchange: market data, account, orders, wallet configuration.

One row per route: security, the permission a key needs, Binance's request weight and the
parameter that names the symbol (so a key's symbol allowlist applies). Weights that Binance
scales with ``limit`` or with the number of symbols are functions of the parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from keyplane.http import binance_amend as amend
from keyplane.http import binance_market as market
from keyplane.http import binance_order_lists as lists
from keyplane.http import binance_trading as trading
from keyplane.http import binance_wallet as wallet
from keyplane.http.routing import Route, Security
from keyplane.keys.model import Permission
from keyplane.keys.payload import Params

SIGNED, READ, TRADE = Security.SIGNED, Permission.READ, Permission.TRADE


def _depth_weight(params: Params) -> int:
    """A ``limit`` that is not a number costs as the default; the handler then refuses it (-1100)."""
    limit = params.get("limit", "")
    # ASCII only: "²".isdigit() is true and int("²") fails; and int() refuses over 4300 digits.
    n = int(limit) if limit.isascii() and limit.isdigit() and len(limit) <= 20 else 100
    return 5 if n <= 100 else 25 if n <= 500 else 50 if n <= 1000 else 250


def _symbols_weight(one: int, per_few: int, many: int, everything: int) -> Callable[[Params], int]:
    """``symbol=`` costs ``one``; ``symbols=[...]`` scales with how many; neither costs ``everything``."""

    def weight(params: Params) -> int:
        if "symbol" in params:
            return one
        if "symbols" in params:
            count = params["symbols"].count(",") + 1
            return per_few if count <= 20 else many if count <= 100 else everything
        return everything

    return weight


def _window_ticker_weight(params: Params) -> int:
    """4 per symbol, at most 200 (Binance's cap once more than 50 symbols are asked for)."""
    count = params["symbols"].count(",") + 1 if "symbols" in params else 1
    return min(4 * count, 200)


def _open_orders_weight(params: Params) -> int:
    return 6 if "symbol" in params else 80


def _my_trades_weight(params: Params) -> int:
    return 5 if "orderId" in params else 20


def _prevented_weight(params: Params) -> int:
    return 2 if "preventedMatchId" in params else 20


_ROUTES: list[Route] = [
    # market data
    Route("GET", "/api/v3/exchangeInfo", market.exchange_info, weight=20),
    Route("GET", "/api/v3/depth", market.depth, weight=_depth_weight),
    Route("GET", "/api/v3/trades", market.trades, weight=25),
    # Security NONE, as Binance's reference lists it today (it was MARKET_DATA, API key needed):
    # ccxt and python-binance still send X-MBX-APIKEY, which a public route ignores.
    Route("GET", "/api/v3/historicalTrades", market.historical_trades, weight=25),
    Route("GET", "/api/v3/aggTrades", market.agg_trades, weight=4),
    Route("GET", "/api/v3/klines", market.klines, weight=2),
    # The same candles: Binance's "modified for presentation" is not specified beyond that.
    Route("GET", "/api/v3/uiKlines", market.klines, weight=2),
    Route("GET", "/api/v3/ticker/24hr", market.ticker_24h, weight=_symbols_weight(2, 2, 40, 80)),
    Route("GET", "/api/v3/ticker", market.ticker_rolling, weight=_window_ticker_weight),
    Route("GET", "/api/v3/ticker/tradingDay", market.ticker_trading_day, weight=_window_ticker_weight),
    Route("GET", "/api/v3/ticker/price", market.ticker_price, weight=_symbols_weight(2, 4, 4, 4)),
    Route("GET", "/api/v3/ticker/bookTicker", market.book_ticker, weight=_symbols_weight(2, 4, 4, 4)),
    Route("GET", "/api/v3/avgPrice", market.avg_price, weight=2),
    # account and orders
    Route("GET", "/api/v3/account", wallet.account, SIGNED, READ, 20, None),
    Route("GET", "/api/v3/account/commission", wallet.commission, SIGNED, READ, 20),
    Route("POST", "/api/v3/order", trading.new_order, SIGNED, TRADE, 1),
    Route("POST", "/api/v3/order/test", trading.test_order, SIGNED, TRADE, 1),
    Route("GET", "/api/v3/order", trading.get_order, SIGNED, READ, 4),
    Route("DELETE", "/api/v3/order", trading.cancel_order, SIGNED, TRADE, 1),
    Route("GET", "/api/v3/openOrders", trading.open_orders, SIGNED, READ, _open_orders_weight),
    Route("DELETE", "/api/v3/openOrders", trading.cancel_open_orders, SIGNED, TRADE, 1),
    Route("GET", "/api/v3/allOrders", trading.all_orders, SIGNED, READ, 20),
    Route("GET", "/api/v3/myTrades", trading.my_trades, SIGNED, READ, _my_trades_weight),
    Route("GET", "/api/v3/rateLimit/order", trading.order_count, SIGNED, READ, 40, None),
    Route("GET", "/api/v3/myPreventedMatches", trading.prevented_matches, SIGNED, READ, _prevented_weight),
    # amending orders (keyplane.http.binance_amend)
    Route("POST", "/api/v3/order/cancelReplace", amend.cancel_replace, SIGNED, TRADE, 1),
    Route("PUT", "/api/v3/order/amend/keepPriority", amend.amend_keep_priority, SIGNED, TRADE, 4),
    Route("GET", "/api/v3/order/amendments", amend.amendments, SIGNED, READ, 4),
    Route("POST", "/api/v3/orderList/oco", lists.new_oco, SIGNED, TRADE, 1),
    Route("POST", "/api/v3/order/oco", lists.new_legacy_oco, SIGNED, TRADE, 1),
    Route("POST", "/api/v3/orderList/oto", lists.new_oto, SIGNED, TRADE, 1),
    Route("POST", "/api/v3/orderList/otoco", lists.new_otoco, SIGNED, TRADE, 1),
    Route("GET", "/api/v3/orderList", lists.get_order_list, SIGNED, READ, 4, None),
    Route("DELETE", "/api/v3/orderList", lists.cancel_order_list, SIGNED, TRADE, 1),
    Route("GET", "/api/v3/allOrderList", lists.all_order_lists, SIGNED, READ, 20, None),
    Route("GET", "/api/v3/openOrderList", lists.open_order_lists, SIGNED, READ, 6, None),
    # wallet configuration and account status
    Route("GET", "/sapi/v1/asset/tradeFee", wallet.trade_fee, SIGNED, READ, 1),
    Route("GET", "/sapi/v1/capital/config/getall", wallet.coins, SIGNED, READ, 10, None),
    Route("GET", "/sapi/v1/capital/deposit/address", wallet.deposit_address, SIGNED, READ, 10, None),
    Route("GET", "/sapi/v1/account/status", wallet.account_status, SIGNED, READ, 1, None),
    Route("GET", "/sapi/v1/accountSnapshot", wallet.account_snapshot, SIGNED, READ, 2400, None),
    Route("POST", "/sapi/v3/asset/getUserAsset", wallet.user_assets, SIGNED, READ, 5, None),
    Route("GET", "/sapi/v1/account/apiTradingStatus", wallet.api_trading_status, SIGNED, READ, 1, None),
]

# Every route here reads or changes the exchange: an instance that does not run it forwards them.
EXCHANGE_ROUTES = [dataclasses.replace(route, on_exchange=True) for route in _ROUTES]
