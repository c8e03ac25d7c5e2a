"""The read side of :class:`keyplane.exchange.service.Exchange`: account queries and market data.

Reads of current state (open orders, depth, best prices) come from memory and must run on the
event loop that applies commands (they never see a command half-applied, since commands do not
``await`` while they mutate); everything else reads committed rows, in any thread.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from decimal import Context, Decimal, localcontext

from sqlalchemy import Connection, Engine

from keyplane.exchange import marketdata as md
from keyplane.exchange import snapshots
from keyplane.exchange.book import OrderBook
from keyplane.exchange.errors import InvalidParameter, InvalidSymbol
from keyplane.exchange.ledger import Ledger
from keyplane.exchange.markets import MarketSpec
from keyplane.exchange.models import AggTrade, Order, PublicTrade, Trade
from keyplane.exchange.orders import account_trades, clamp_limit
from keyplane.exchange.prevented import PreventedMatch
from keyplane.exchange.snapshots import Snapshot
from keyplane.store import exchange_repo as repo
from keyplane.store import prevented_repo

ZERO = Decimal(0)
BestPrice = tuple[Decimal, Decimal] | None


def _snapshot_days(limit: int | None) -> int:
    """Binance's ``limit`` for snapshots: 7 by default, and at least 7, at most 30 days."""
    if limit is None:
        return snapshots.MIN_DAYS
    if limit <= 0:
        raise InvalidParameter.invalid("limit")
    return min(max(limit, snapshots.MIN_DAYS), snapshots.MAX_DAYS)


class ExchangeQueries:
    """Read-only methods; the state they read is owned and written by ``Exchange``."""

    engine: Engine
    now: Callable[[], int]
    markets: dict[str, MarketSpec]
    books: dict[str, OrderBook]
    ledger: Ledger
    _seq: int

    def _current(self) -> None: ...

    def depth_update_id(self, symbol: str) -> int:
        raise NotImplementedError  # Exchange's: the depth stream's id

    def _market(self, symbol: str) -> MarketSpec:
        m = self.markets.get(symbol)
        if m is None:
            raise InvalidSymbol()
        return m

    # -- account queries (committed rows) --------------------------------------------------
    def open_orders(
        self, user_id: int, symbol: str | None = None, allowed: frozenset[str] = frozenset()
    ) -> list[Order]:
        """Open orders on ``symbol``, or on every market; ``allowed`` (a key's symbol allowlist,
        empty for none) narrows "every market" so a restricted key never sees other symbols."""
        self._current()
        if symbol:
            symbols = [self._market(symbol).symbol]
        else:
            symbols = [s for s in self.books if not allowed or s in allowed]
        books = [self.books[s] for s in symbols]
        found = [o.record() for b in books for o in b.mine(user_id).values()]  # pending ones too
        return sorted(found, key=lambda o: o.order_id)

    def all_orders(
        self,
        user_id: int,
        symbol: str,
        order_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int | None = None,
    ) -> list[Order]:
        self._market(symbol)
        n = clamp_limit(limit, 500, 1000)
        with self.engine.connect() as conn:
            return repo.all_orders(conn, user_id, symbol, order_id, start_time, end_time, n)

    def my_trades(
        self,
        user_id: int,
        symbol: str,
        order_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        from_id: int | None = None,
        limit: int | None = None,
    ) -> list[Trade]:
        market = self._market(symbol)
        n = clamp_limit(limit, 500, 1000)
        with self.engine.connect() as conn:
            records = repo.trades_of(conn, user_id, symbol, order_id, start_time, end_time, from_id, n)
        trades = account_trades(records, user_id, market, order_id)
        newest = from_id is None and start_time is None  # the last n; else the first n
        return trades[-n:] if newest else trades[:n]

    def prevented_matches(
        self,
        user_id: int,
        symbol: str,
        prevented_match_id: int | None = None,
        order_id: int | None = None,
        from_id: int | None = None,
        limit: int | None = None,
    ) -> list[PreventedMatch]:
        """Binance's combinations: one prevented match by id, or an order's (as taker or maker)
        from ``from_id`` on; -1102 for neither, -1128 for an id with anything else."""
        self._market(symbol)
        if prevented_match_id is None and order_id is None:
            raise InvalidParameter.neither("preventedMatchId", "orderId")
        if prevented_match_id is not None and (order_id is not None or from_id is not None):
            raise InvalidParameter("Combination of optional parameters invalid.", -1128)
        n = clamp_limit(limit, 500, 1000)
        with self.engine.connect() as conn:
            return prevented_repo.find(
                conn,
                user_id,
                symbol,
                prevented_match_id=prevented_match_id,
                order_id=order_id,
                from_id=from_id,
                limit=n,
            )

    async def account_snapshots(
        self, user_id: int, start: int | None, end: int | None, limit: int | None
    ) -> list[Snapshot]:
        """Daily closing balances and their BTC value, from committed entries and trades: the first
        ``limit`` days from ``start`` or the last up to ``end`` (7 by default, 7 to 30)."""
        account = self.ledger.account_of(user_id)  # memory: on the event loop
        now = self.now()
        ends = snapshots.day_ends(start, min(end, now) if end is not None else now, _snapshot_days(limit))

        def committed() -> list[Snapshot]:
            if account is None or not ends:
                return [Snapshot(update_time=e, balances={}, total_btc=ZERO) for e in ends]
            with self.engine.connect() as conn:
                closing = snapshots.closing_balances(repo.daily_entry_sums(conn, account, ends[-1]), ends)
                out = []
                for e, held in zip(ends, closing, strict=True):
                    price = snapshots.btc_pricer(functools.partial(self._last_price_at, conn, t=e))
                    out.append(
                        Snapshot(update_time=e, balances=held, total_btc=snapshots.btc_value(held, price))
                    )
                return out

        return await asyncio.to_thread(committed)

    def last_price(self, symbol: str) -> Decimal | None:
        """The market's last trade price from memory (None for an unknown or untraded market)."""
        self._current()
        book = self.books.get(symbol)
        if book is None or not book.last_price:
            return None
        return book.units.price(book.last_price)

    def _last_price_at(self, conn: Connection, symbol: str, *, t: int) -> Decimal | None:
        if symbol not in self.markets:
            return None
        trade = repo.last_trade_before(conn, symbol, t + 1)
        return trade.price if trade is not None else None

    # -- market data -----------------------------------------------------------------------
    def depth(self, symbol: str, limit: int | None = None) -> md.Depth:
        self._market(symbol)
        n = clamp_limit(limit, 100, 5000)
        self._current()
        book = self.books[symbol]
        return md.Depth(self.depth_update_id(symbol), book.depth(book.bids, n), book.depth(book.asks, n))

    def recent_trades(self, symbol: str, limit: int | None = None) -> list[PublicTrade]:
        self._market(symbol)
        with self.engine.connect() as conn:
            return md.recent_trades(conn, symbol, limit)

    def historical_trades(
        self, symbol: str, from_id: int | None = None, limit: int | None = None
    ) -> list[PublicTrade]:
        self._market(symbol)
        with self.engine.connect() as conn:
            return md.historical_trades(conn, symbol, from_id, limit)

    def agg_trades(
        self,
        symbol: str,
        from_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int | None = None,
    ) -> list[AggTrade]:
        self._market(symbol)
        with self.engine.connect() as conn:
            return md.agg_trades(conn, symbol, from_id, start_time, end_time, limit)

    def klines(
        self,
        symbol: str,
        interval: str,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int | None = None,
    ) -> list[md.Kline]:
        self._market(symbol)
        with self.engine.connect() as conn:
            return md.klines(conn, symbol, interval, start_time, end_time, limit, self.now())

    def ticker_24h(self, symbol: str, best: tuple[BestPrice, BestPrice] | None = None) -> md.Ticker24h:
        """The 24-hour statistics from committed trades; a caller in a worker thread passes
        ``best`` (:meth:`best_prices`, read on the event loop beforehand)."""
        self._market(symbol)
        bid, ask = best if best is not None else self.best_prices(symbol)
        with self.engine.connect() as conn:
            return md.ticker_24h(conn, symbol, self.now(), bid, ask)

    def ticker_between(self, symbol: str, start: int, end: int) -> md.Ticker24h:
        """The statistics of ``symbol``'s committed trades from ``start`` to ``end`` (any thread)."""
        self._market(symbol)
        with self.engine.connect() as conn:
            return md.ticker_between(conn, symbol, start, end)

    def best_prices(self, symbol: str) -> tuple[BestPrice, BestPrice]:
        """(price, qty) of the best bid and ask, or None, from memory."""
        self._market(symbol)
        self._current()
        return self.books[symbol].best_bid(), self.books[symbol].best_ask()

    def price_ticker(self, symbol: str) -> md.PriceTicker:
        self._market(symbol)
        with self.engine.connect() as conn:
            return md.PriceTicker(symbol, md.last_price(conn, symbol))

    def book_ticker(self, symbol: str) -> md.BookTicker:
        self._market(symbol)
        bid, ask = self.best_prices(symbol)
        bid, ask = bid or (ZERO, ZERO), ask or (ZERO, ZERO)
        return md.BookTicker(
            symbol=symbol, bid_price=bid[0], bid_qty=bid[1], ask_price=ask[0], ask_qty=ask[1]
        )

    def avg_price(self, symbol: str) -> md.AvgPrice:
        self._market(symbol)
        with self.engine.connect() as conn:
            return md.avg_price(conn, symbol, self.now())

    def _avg_price_locked(self, symbol: str) -> Decimal:
        """The 5-minute average for a MARKET order's notional check, called inside a command.

        It is a reference price rounded on purpose, not a ledger amount, so it is computed under
        an ordinary context rather than the command's exact one (which would refuse 1/3)."""
        with localcontext(Context()), self.engine.connect() as conn:
            return md.avg_price(conn, symbol, self.now()).price
