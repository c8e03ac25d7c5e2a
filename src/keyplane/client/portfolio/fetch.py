"""Read every account at once: check the key, then balances, tickers and daily candles.

Each account is read by its own asyncio ccxt instance, all concurrently. A key that can do more
than read is refused before any balance is fetched (``privileges.TRACKER``); an account that fails
becomes an ``AccountResult`` with its error, so the report shows it instead of hiding it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from keyplane.client import ccxt_factory
from keyplane.client.errors import ClientError, PrivilegeError
from keyplane.client.portfolio.model import AccountResult, Holding, Portfolio
from keyplane.client.portfolio.valuation import price_in, route
from keyplane.client.privileges import TRACKER, check_account_async
from keyplane.client.redaction import redact_text
from keyplane.client.vault import Credentials

DAY_MS = 86_400_000


async def read_account(
    creds: Credentials,
    quote: str,
    *,
    days: int = 0,
    allow_over_privileged: bool = False,
    warn: Callable[[str], None] | None = None,
) -> AccountResult:
    import ccxt

    exchange = ccxt_factory.async_rest(creds)
    try:
        await check_account_async(
            exchange, TRACKER, creds.name, allow_over_privileged=allow_over_privileged, warn=warn
        )
        balance, tickers = await asyncio.gather(exchange.fetch_balance(), exchange.fetch_tickers())
        amounts = {
            str(asset): Decimal(str(total))
            for asset, total in (balance.get("total") or {}).items()
            if total and Decimal(str(total)) != 0
        }
        holdings = []
        for asset, amount in sorted(amounts.items()):
            price = price_in(asset, quote, tickers)
            holdings.append(
                Holding(
                    asset=asset, amount=amount, price=price, value=None if price is None else amount * price
                )
            )
        history = await daily_values(exchange, amounts, quote, tickers, days) if days > 0 else ()
        return AccountResult(
            name=creds.name, exchange=creds.exchange, holdings=tuple(holdings), history=tuple(history)
        )
    except PrivilegeError as refused:
        return AccountResult(name=creds.name, exchange=creds.exchange, error=refused.message, refused=True)
    except ClientError as error:
        return AccountResult(name=creds.name, exchange=creds.exchange, error=error.message)
    except ccxt.BaseError as error:
        message = redact_text(f"{type(error).__name__}: {error}", creds.secrets().values())
        return AccountResult(name=creds.name, exchange=creds.exchange, error=message)
    finally:
        await exchange.close()


async def daily_values(
    exchange: Any,
    amounts: Mapping[str, Decimal],
    quote: str,
    tickers: Mapping[str, Mapping[str, Any]],
    days: int,
) -> list[tuple[int, Decimal]]:
    """Today's holdings at each past day's close: what the account was worth, day by day."""
    routes = {asset: route(asset, quote, tickers) for asset in amounts}
    symbols = sorted({symbol for steps in routes.values() for symbol, _ in steps})
    since = (int(time.time() * 1000) // DAY_MS - days + 1) * DAY_MS
    candles = await asyncio.gather(*(exchange.fetch_ohlcv(s, "1d", since=since, limit=days) for s in symbols))
    closes = {
        s: {int(c[0]): Decimal(str(c[4])) for c in rows if c[4]}
        for s, rows in zip(symbols, candles, strict=True)
    }
    all_days = sorted({day for series in closes.values() for day in series})
    out = []
    last: dict[str, Decimal] = {}
    for day in all_days:
        for symbol, series in closes.items():
            if day in series:
                last[symbol] = series[day]
        value = Decimal(0)
        for asset, amount in amounts.items():
            price = _price_on(asset, quote, routes[asset], last)
            if price is not None:
                value += amount * price
        out.append((day, value))
    return out


def _price_on(
    asset: str, quote: str, steps: Sequence[tuple[str, bool]], last: Mapping[str, Decimal]
) -> Decimal | None:
    if asset == quote:
        return Decimal(1)
    if not steps:
        return None
    price = Decimal(1)
    for symbol, inverted in steps:
        close = last.get(symbol)
        if not close:
            return None
        price *= (Decimal(1) / close) if inverted else close
    return price


async def read_portfolio(
    accounts: Sequence[Credentials],
    quote: str,
    *,
    days: int = 0,
    allow_over_privileged: bool = False,
    warn: Callable[[str], None] | None = None,
) -> Portfolio:
    results = await asyncio.gather(
        *(
            read_account(c, quote, days=days, allow_over_privileged=allow_over_privileged, warn=warn)
            for c in accounts
        )
    )
    unpriced = sorted({f"{a.name}:{h.asset}" for a in results for h in a.holdings if h.price is None})
    warnings = tuple(
        f"no {quote} price for {item} on its exchange; left out of the totals" for item in unpriced
    )
    return Portfolio(
        quote=quote, accounts=tuple(results), taken_at=int(time.time() * 1000), warnings=warnings
    )
