"""Balances and orders: the account as the exchange sees it, and test funds in demo mode."""

from __future__ import annotations

from decimal import Decimal

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from keyplane.exchange.marketdata import fmt
from keyplane.exchange.models import Trade
from keyplane.http.console.auth import Viewer, action, error_page, page, platform_of
from keyplane.http.console.web import BASE, ConsoleError, redirect, render, run
from keyplane.http.forwarding import on_exchange
from keyplane.keys.service import Actor
from keyplane.runtime import Platform, credit_funds

RECENT_TRADES = 20
# What one press of "get test funds" credits, in demo mode only.
TEST_FUNDS = {"USDT": Decimal(10000), "BTC": Decimal("0.5"), "ETH": Decimal(5), "SOL": Decimal(100)}


def _trades(platform: Platform, user_id: int) -> list[Trade]:
    exchange = platform.exchange
    trades: list[Trade] = []
    for symbol in exchange.markets:
        trades.extend(exchange.my_trades(user_id, symbol, limit=RECENT_TRADES))
    trades.sort(key=lambda trade: (trade.time, trade.id), reverse=True)
    return trades[:RECENT_TRADES]


def _unavailable(error: Exception) -> Response:
    return error_page(None, error)


async def _exchange_page(request: Request, viewer: Viewer) -> Response:
    platform = platform_of(request)
    exchange = platform.exchange
    balances = [
        (b.asset, fmt(b.free), fmt(b.locked)) for b in exchange.balances(viewer.user_id) if b.free or b.locked
    ]
    orders = exchange.open_orders(viewer.user_id)  # memory, on the loop; history in a thread
    trades = await run(_trades, platform, viewer.user_id)
    return render(
        "exchange.html",
        {
            "title": "Balances and orders",
            "nav": "exchange",
            "viewer": viewer,
            "csrf": viewer.csrf,
            "balances": balances,
            "orders": orders,
            "trades": trades,
            "fmt": fmt,
            "demo": platform.settings.demo_mode,
            "credited": request.query_params.get("notice") == "funded",
        },
    )


async def _get_test_funds(request: Request, viewer: Viewer, form: FormData) -> Response:
    platform = platform_of(request)
    if not platform.settings.demo_mode:
        raise ConsoleError("Test funds exist only in demo mode.", 403)
    actor = Actor(f"user:{viewer.user_id}", viewer.ip)
    for asset, amount in TEST_FUNDS.items():
        if asset in platform.exchange.assets:
            await credit_funds(platform, viewer.user_id, asset, amount, actor)
    return redirect(f"{BASE}/exchange?notice=funded")


# The page and the button need the exchange's memory: another instance forwards them to its writer.
exchange_page = on_exchange(page(_exchange_page), _unavailable)
get_test_funds = on_exchange(action(_get_test_funds), _unavailable)
