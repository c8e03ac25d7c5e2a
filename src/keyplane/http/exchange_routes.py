"""Binance spot routes of the exchange: market data, account, orders, wallet configuration.

One row per route: security, the permission a key needs, Binance's request weight and the
parameter that names the symbol (so a key's symbol allowlist applies). Weights that Binance
scales with ``limit`` or with the number of symbols are given at their usual value.
"""

from __future__ import annotations

from keyplane.http import binance_market as market
from keyplane.http import binance_trading as trading
from keyplane.http import binance_wallet as wallet
from keyplane.http.routing import Route, Security
from keyplane.keys.model import Permission

SIGNED, READ, TRADE = Security.SIGNED, Permission.READ, Permission.TRADE

EXCHANGE_ROUTES: list[Route] = [
    # market data
    Route("GET", "/api/v3/exchangeInfo", market.exchange_info, weight=20),
    Route("GET", "/api/v3/depth", market.depth, weight=5),
    Route("GET", "/api/v3/trades", market.trades, weight=25),
    Route("GET", "/api/v3/aggTrades", market.agg_trades, weight=4),
    Route("GET", "/api/v3/klines", market.klines, weight=2),
    Route("GET", "/api/v3/ticker/24hr", market.ticker_24h, weight=2),
    Route("GET", "/api/v3/ticker/price", market.ticker_price, weight=2),
    Route("GET", "/api/v3/ticker/bookTicker", market.book_ticker, weight=2),
    Route("GET", "/api/v3/avgPrice", market.avg_price, weight=2),
    # account and orders
    Route("GET", "/api/v3/account", wallet.account, SIGNED, READ, 20, None),
    Route("POST", "/api/v3/order", trading.new_order, SIGNED, TRADE, 1),
    Route("POST", "/api/v3/order/test", trading.test_order, SIGNED, TRADE, 1),
    Route("GET", "/api/v3/order", trading.get_order, SIGNED, READ, 4),
    Route("DELETE", "/api/v3/order", trading.cancel_order, SIGNED, TRADE, 1),
    Route("GET", "/api/v3/openOrders", trading.open_orders, SIGNED, READ, 6),
    Route("DELETE", "/api/v3/openOrders", trading.cancel_open_orders, SIGNED, TRADE, 1),
    Route("GET", "/api/v3/allOrders", trading.all_orders, SIGNED, READ, 20),
    Route("GET", "/api/v3/myTrades", trading.my_trades, SIGNED, READ, 20),
    # wallet configuration and account status
    Route("GET", "/sapi/v1/asset/tradeFee", wallet.trade_fee, SIGNED, READ, 1),
    Route("GET", "/sapi/v1/capital/config/getall", wallet.coins, SIGNED, READ, 10, None),
    Route("GET", "/sapi/v1/account/status", wallet.account_status, SIGNED, READ, 1, None),
    Route("GET", "/sapi/v1/account/apiTradingStatus", wallet.api_trading_status, SIGNED, READ, 1, None),
]
