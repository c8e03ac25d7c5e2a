"""Signed account and wallet routes: account, tradeFee, capital/config/getall, capital/deposit/address,
account status and API trading status.

What getall and the account claim about deposits and withdrawals comes from the wallet's parts
(:class:`~keyplane.exchange.wallet.parts.WalletParts`), never from a constant, so a client is
never told it can do what the server does not do.
"""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from typing import Any

from keyplane.clock import now_ms
from keyplane.exchange import snapshots
from keyplane.exchange.errors import InvalidParameter
from keyplane.exchange.marketdata import fmt
from keyplane.exchange.markets import DEFAULT_FEE, AssetSpec
from keyplane.exchange.models import Balance
from keyplane.exchange.wallet.errors import DepositsUnavailable
from keyplane.exchange.wallet.networks import CoinNetwork
from keyplane.exchange.wallet.parts import WalletParts
from keyplane.http import binance_json as out
from keyplane.http import binance_params as p
from keyplane.http.binance_market import exchange
from keyplane.http.routing import Call
from keyplane.keys.model import Permission

ZERO = Decimal(0)
CODE_PATTERN = "^[A-Za-z0-9]{1,16}$"
CODE_RE = re.compile(CODE_PATTERN)
CLOSED_DEPOSITS = "Deposits are not available on this server."
CLOSED_WITHDRAWALS = "Withdrawals are not available on this server."


def wallet(call: Call) -> WalletParts:
    parts = call.parts.platform.wallet
    if parts is None:
        raise DepositsUnavailable()
    return parts


RATES = {"maker": fmt(DEFAULT_FEE), "taker": fmt(DEFAULT_FEE), "buyer": fmt(ZERO), "seller": fmt(ZERO)}
COMMISSION = int(DEFAULT_FEE * 10000)  # in basis points, as Binance's makerCommission


async def account(call: Call) -> dict[str, Any]:
    """Balances of every asset; ``canTrade``/``canWithdraw`` say what *this key* may do (a client
    checks ``canWithdraw`` to refuse a key with too many rights); ``canDeposit`` what the exchange does."""
    omit_zero = p.boolean(call.params, "omitZeroBalances")
    held = exchange(call).balance_units(call.user_id)
    assert call.key is not None
    permissions = call.key.permissions
    return {
        "makerCommission": COMMISSION,
        "takerCommission": COMMISSION,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": dict(RATES),
        "canTrade": Permission.TRADE in permissions,
        "canWithdraw": Permission.WITHDRAW in permissions,
        "canDeposit": _any_deposits(wallet(call)),
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": now_ms(),
        "accountType": "SPOT",
        "balances": [
            out.balance(a, free, locked) for a, free, locked in held if free or locked or not omit_zero
        ],
        "permissions": ["SPOT"],
        "uid": call.user_id,
    }


async def account_snapshot(call: Call) -> dict[str, Any]:
    """``accountSnapshot``: the spot account's closing balances of past days (no margin or futures)."""
    kind = p.required(call.params, "type")
    if kind != "SPOT":
        if kind in ("MARGIN", "FUTURES"):
            raise InvalidParameter("This operation is not supported.", -1020)
        raise InvalidParameter.invalid("type")
    q = call.params
    found = await exchange(call).account_snapshots(
        call.user_id, p.integer(q, "startTime"), p.integer(q, "endTime"), p.integer(q, "limit")
    )
    return {"code": 200, "msg": "", "snapshotVos": [out.snapshot(s) for s in found]}


async def user_assets(call: Call) -> list[dict[str, Any]]:
    """``asset/getUserAsset``: the assets held (free or locked), valued in BTC at the last prices
    when ``needBtcValuation`` asks (nothing is frozen or being withdrawn apart from ``locked``)."""
    ex = exchange(call)
    wanted = p.optional(call.params, "asset")
    price = snapshots.btc_pricer(ex.last_price) if p.boolean(call.params, "needBtcValuation") else None
    held = [b for b in ex.balances(call.user_id) if (b.free or b.locked) and wanted in (None, b.asset)]
    return [
        {
            "asset": b.asset,
            "free": fmt(b.free),
            "locked": fmt(b.locked),
            "freeze": fmt(ZERO),
            "withdrawing": fmt(ZERO),
            "ipoable": fmt(ZERO),
            "btcValuation": fmt(snapshots.btc_value({b.asset: (b.free, b.locked)}, price) if price else ZERO),
        }
        for b in held
    ]


async def commission(call: Call) -> dict[str, Any]:
    """``account/commission``: one market's rates for this account (no special, tax or BNB discount)."""
    markets = exchange(call).markets
    (symbol,) = p.known([p.symbol(call.params)], markets)
    m, zero = markets[symbol], fmt(ZERO)
    none = {"maker": zero, "taker": zero, "buyer": zero, "seller": zero}
    return {
        "symbol": symbol,
        "standardCommission": {
            "maker": fmt(m.maker_fee),
            "taker": fmt(m.taker_fee),
            "buyer": zero,
            "seller": zero,
        },
        "specialCommission": dict(none),
        "taxCommission": dict(none),
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": None,
            "discount": zero,
        },
    }


async def trade_fee(call: Call) -> list[dict[str, Any]]:
    markets = exchange(call).markets
    one = p.optional_symbol(call.params)
    names = p.known([one], markets) if one else list(markets)
    return [out.trade_fee(markets[s]) for s in names]


async def coins(call: Call) -> list[dict[str, Any]]:
    """Every asset with its networks from the wallet's table (none for an asset no network carries),
    so ccxt knows every base and quote currency, and the true deposit and withdrawal flags."""
    ex = exchange(call)
    parts = wallet(call)
    balances = {b.asset: b for b in ex.balances(call.user_id)}
    return [_coin(a, balances[code], parts) for code, a in ex.assets.items() if code in balances]


async def deposit_address(call: Call) -> dict[str, Any]:
    """The user's address for ``coin`` on ``network`` (the coin's default network if none), issued
    on first request and the same ever after; ``url`` is the address on a block explorer."""
    coin = _code(p.required(call.params, "coin"), "coin")
    sent = p.optional(call.params, "network")
    network = _code(sent, "network") if sent is not None else None
    parts = wallet(call)
    issued = await asyncio.to_thread(parts.deposit_address, call.user_id, coin, network)
    spec = parts.networks.network(issued.network)
    url = spec.address_url.format(address=issued.address) if spec.address_url else ""
    return {"address": issued.address, "coin": issued.coin, "tag": issued.memo, "url": url}


def _code(raw: str, name: str) -> str:
    """An asset or network code: ASCII letters and digits, taken in upper case as Binance does."""
    if not CODE_RE.fullmatch(raw):
        raise InvalidParameter.illegal_chars(name, CODE_PATTERN)
    return raw.upper()


def _any_deposits(parts: WalletParts) -> bool:
    """Whether any network takes deposits now (the wallet opens and closes them at run time)."""
    return any(map(parts.deposits_open, parts.networks.entries()))


def _coin(a: AssetSpec, b: Balance, parts: WalletParts) -> dict[str, Any]:
    """One ``capital/config/getall`` entry; a coin is open for deposits if any network takes them."""
    entries = parts.networks.networks_of(a.code) if a.code in parts.networks.coins() else ()
    networks = [_network(e, parts) for e in entries]
    return {
        "coin": a.code,
        "name": a.name,
        "depositAllEnable": any(n["depositEnable"] for n in networks),
        "withdrawAllEnable": any(n["withdrawEnable"] for n in networks),
        "free": fmt(b.free),
        "locked": fmt(b.locked),
        "freeze": fmt(ZERO),
        "withdrawing": fmt(ZERO),
        "ipoing": fmt(ZERO),
        "ipoable": fmt(ZERO),
        "storage": fmt(ZERO),
        "isLegalMoney": False,
        "trading": True,
        "networkList": networks,
    }


def _network(e: CoinNetwork, parts: WalletParts) -> dict[str, Any]:
    """One ``networkList`` entry: Binance's fields, from the network table."""
    deposits, withdrawals = parts.deposits_open(e), parts.withdrawals_open(e)
    return {
        "network": e.code,
        "coin": e.coin,
        "name": e.name,
        "isDefault": e.is_default,
        "depositEnable": deposits,
        "withdrawEnable": withdrawals,
        "withdrawFee": fmt(e.withdraw_fee),
        "withdrawMin": fmt(e.withdraw_min),
        "withdrawMax": fmt(e.withdraw_max),
        "withdrawIntegerMultiple": fmt(e.withdraw_integer_multiple),
        "minConfirm": e.min_confirm,
        "unLockConfirm": e.unlock_confirm,
        "depositDesc": e.deposit_desc if deposits else (e.deposit_desc or CLOSED_DEPOSITS),
        "withdrawDesc": e.withdraw_desc if withdrawals else (e.withdraw_desc or CLOSED_WITHDRAWALS),
        "specialTips": e.special_tips,
        "addressRegex": e.network.address_regex,
        "memoRegex": e.network.memo_regex,
        "sameAddress": e.same_address,
        "busy": e.busy,
        "estimatedArrivalTime": e.estimated_arrival_minutes,
        "resetAddressStatus": False,
        "depositDust": fmt(e.deposit_dust),
        "contractAddressUrl": e.contract_address_url,
        "contractAddress": e.contract_address,
    }


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
