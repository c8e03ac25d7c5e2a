"""Signed account and wallet-configuration routes: account, tradeFee, capital/config/getall,
account status and API trading status."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from keyplane.clock import now_ms
from keyplane.exchange.marketdata import fmt
from keyplane.exchange.markets import DEFAULT_FEE
from keyplane.http import binance_json as out
from keyplane.http import binance_params as p
from keyplane.http.binance_market import exchange
from keyplane.http.routing import Call
from keyplane.keys.model import Permission

ZERO = Decimal(0)


def _rates() -> dict[str, str]:
    return {"maker": fmt(DEFAULT_FEE), "taker": fmt(DEFAULT_FEE), "buyer": fmt(ZERO), "seller": fmt(ZERO)}


async def account(call: Call) -> dict[str, Any]:
    """Balances of every asset; ``canTrade``/``canWithdraw`` say what *this key* may do (a client
    checks ``canWithdraw`` to refuse a key with too many rights); ``canDeposit`` what the exchange does."""
    omit_zero = p.boolean(call.params, "omitZeroBalances")
    balances = exchange(call).balances(call.user_id)
    assert call.key is not None
    held = call.key.permissions
    return {
        "makerCommission": int(DEFAULT_FEE * 10000),
        "takerCommission": int(DEFAULT_FEE * 10000),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": _rates(),
        "canTrade": Permission.TRADE in held,
        "canWithdraw": Permission.WITHDRAW in held,
        "canDeposit": out.DEPOSITS_ENABLED,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": now_ms(),
        "accountType": "SPOT",
        "balances": [out.balance(b) for b in balances if not (omit_zero and not b.free and not b.locked)],
        "permissions": ["SPOT"],
        "uid": call.user_id,
    }


async def trade_fee(call: Call) -> list[dict[str, Any]]:
    markets = exchange(call).markets
    one = p.optional_symbol(call.params)
    names = p.known([one], markets) if one else list(markets)
    return [out.trade_fee(markets[s]) for s in names]


async def coins(call: Call) -> list[dict[str, Any]]:
    """Every asset, each with one network, so ccxt knows every base and quote currency."""
    ex = exchange(call)
    balances = {b.asset: b for b in ex.balances(call.user_id)}
    return [out.coin(a, balances[code]) for code, a in ex.assets.items() if code in balances]


async def account_status(call: Call) -> dict[str, Any]:
    return {"data": "Normal"}


async def api_trading_status(call: Call) -> dict[str, Any]:
    return {
        "data": {
            "isLocked": False,
            "plannedRecoverTime": 0,
            "triggerCondition": {"GCR": 150, "IFER": 150, "UFR": 300},
            "updateTime": 0,
        }
    }
