"""The exchange as a bot sees it: an asyncio ccxt exchange, the bot's prefix, and one log line per action.

Rate limits: ccxt spaces requests (``enableRateLimit``); on top of that a 429/418 answer or a
network error waits and retries (Retry-After when the exchange gives one, else growing pauses),
and when the exchange reports the request weight used this minute (``X-MBX-USED-WEIGHT-1M``) above
80 % of ``weight_limit``, the bot pauses until the next minute. ``dry_run`` reads the exchange but
places and cancels nothing. Log lines name the market, side, amount, price and client order id:
never a key, secret or signature.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

log = logging.getLogger("keyplane.bot")
T = TypeVar("T")
RETRIES = 5


class Venue:
    def __init__(self, exchange: Any, bot_prefix: str, *, dry_run: bool, weight_limit: int = 6000) -> None:
        self.exchange = exchange
        self.prefix = bot_prefix
        self.dry_run = dry_run
        self.weight_limit = weight_limit
        self.pause_for_weight = True  # off while winding down: cancelling must not wait a minute

    async def call(self, what: str, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        import ccxt

        for attempt in range(RETRIES):
            try:
                result = await fn(*args)
            except (ccxt.RateLimitExceeded, ccxt.DDoSProtection) as limited:
                pause = self._retry_after() or min(2.0**attempt, 30.0)
                log.warning("rate limited on %s (%s); waiting %.1f s", what, type(limited).__name__, pause)
                await asyncio.sleep(pause)
                continue
            except (ccxt.RequestTimeout, ccxt.ExchangeNotAvailable, ccxt.NetworkError) as failed:
                if attempt == RETRIES - 1:
                    raise
                pause = min(2.0**attempt, 30.0)
                log.warning(
                    "network trouble on %s (%s); retrying in %.1f s", what, type(failed).__name__, pause
                )
                await asyncio.sleep(pause)
                continue
            await self._respect_weight()
            return result
        raise ccxt.RateLimitExceeded(f"{what}: still rate limited after {RETRIES} tries")

    def _headers(self) -> dict[str, str]:
        headers = getattr(self.exchange, "last_response_headers", None) or {}
        return {str(k).lower(): str(v) for k, v in dict(headers).items()}

    def _retry_after(self) -> float | None:
        value = self._headers().get("retry-after")
        return float(value) if value and value.replace(".", "", 1).isdigit() else None

    async def _respect_weight(self) -> None:
        used = self._headers().get("x-mbx-used-weight-1m")
        if self.pause_for_weight and used and used.isdigit() and int(used) > self.weight_limit * 0.8:
            pause = 60 - time.time() % 60 + 0.5
            log.warning(
                "request weight %s of %d used this minute; pausing %.1f s", used, self.weight_limit, pause
            )
            await asyncio.sleep(pause)

    # -- reads -----------------------------------------------------------------------------
    def ours(self, order: dict[str, Any]) -> bool:
        return str(order.get("clientOrderId") or "").startswith(self.prefix)

    async def open_orders(self, symbol: str) -> list[dict[str, Any]]:
        found = await self.call("open orders", self.exchange.fetch_open_orders, symbol)
        return [o for o in found if self.ours(o)]

    async def all_orders(self, symbol: str) -> list[dict[str, Any]]:
        found = await self.call("all orders", self.exchange.fetch_orders, symbol, None, 1000)
        return [o for o in found if self.ours(o)]

    async def find(self, symbol: str, client_id: str) -> dict[str, Any] | None:
        import ccxt

        try:
            return await self.call(
                "order lookup", self.exchange.fetch_order, "", symbol, {"origClientOrderId": client_id}
            )
        except ccxt.OrderNotFound:
            return None

    async def mid_price(self, symbol: str) -> Decimal:
        ticker = await self.call("ticker", self.exchange.fetch_ticker, symbol)
        bid, ask = ticker.get("bid"), ticker.get("ask")
        if bid and ask:
            return (Decimal(str(bid)) + Decimal(str(ask))) / 2
        return Decimal(str(ticker["last"]))

    async def free_balances(self) -> dict[str, Decimal]:
        """Free amount per asset: one request per round, however many orders the round places."""
        balance = await self.call("balance", self.exchange.fetch_balance)
        return {asset: Decimal(str(amount or 0)) for asset, amount in (balance.get("free") or {}).items()}

    # -- actions ---------------------------------------------------------------------------
    async def place_limit(
        self, symbol: str, side: str, amount: Decimal, price: Decimal, client_id: str, note: str
    ) -> dict[str, Any] | None:
        words = f"{side} {amount} {symbol} @ {price} id={client_id} ({note})"
        if self.dry_run:
            log.info("dry run: would place %s", words)
            return None
        params = {"newClientOrderId": client_id, "timeInForce": "GTC"}
        order = await self.call(
            "place", self.exchange.create_order, symbol, "limit", side, float(amount), float(price), params
        )
        log.info("placed %s order=%s", words, order.get("id"))
        return dict(order)

    async def buy_with_cost(
        self, symbol: str, cost: Decimal, client_id: str, note: str
    ) -> dict[str, Any] | None:
        words = f"market buy {symbol} for {cost} {symbol.split('/')[1]} id={client_id} ({note})"
        if self.dry_run:
            log.info("dry run: would place %s", words)
            return None
        order = await self.call(
            "place",
            self.exchange.create_market_buy_order_with_cost,
            symbol,
            float(cost),
            {"newClientOrderId": client_id},
        )
        log.info("placed %s order=%s filled=%s", words, order.get("id"), order.get("filled"))
        return dict(order)

    async def cancel(self, order: dict[str, Any], why: str) -> None:
        words = f"{order.get('side')} {order.get('amount')} {order.get('symbol')} @ {order.get('price')}"
        if self.dry_run:
            log.info("dry run: would cancel %s id=%s (%s)", words, order.get("clientOrderId"), why)
            return
        import ccxt

        try:
            await self.call("cancel", self.exchange.cancel_order, order["id"], order["symbol"])
        except ccxt.OrderNotFound:
            log.info("already gone: %s id=%s", words, order.get("clientOrderId"))
            return
        log.info("cancelled %s id=%s (%s)", words, order.get("clientOrderId"), why)
