"""What a durable batch changed, as typed events for streams (order updates, trades, balances, books).

Why here: the events are built when the sequencer closes a batch, because only then does memory
hold exactly the state that batch writes (later commands keep mutating the same books). They are
handed to subscribers once the batch is durable (:attr:`Exchange.listeners`), so nothing a stream
shows can be undone by a failed commit, and nothing polls the database.

Depth ids are per market, as on Binance: each batch that changes a market's book gives it the next
id (``U == u``, one more than the previous change's ``u``), and ``GET /api/v3/depth`` answers that
market's latest id as ``lastUpdateId``, so a client syncs a local book as Binance documents (the
next change after a snapshot has ``U == lastUpdateId + 1``; python-binance insists on it). Ids
start from the command seq when memory is (re)built, so they never go back across restarts: a
market's id grows by one per batch, the seq by at least one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from keyplane.exchange.amendments import Amendment
from keyplane.exchange.book import OrderBook
from keyplane.exchange.journal import Closed
from keyplane.exchange.ledger import EntryKind, Ledger
from keyplane.exchange.markets import MarketSpec
from keyplane.exchange.models import PENDING, AggTradeRecord, Order, OrderList, Side, TradeRecord

Level = tuple[Decimal, Decimal]
ZERO = Decimal(0)
# Ledger moves that a user sees as a balanceUpdate (not trades, locks or fees).
MOVES = (EntryKind.CREDIT, EntryKind.DEPOSIT, EntryKind.WITHDRAWAL)


@dataclass(kw_only=True, frozen=True, slots=True)
class OrderChange:
    """An order as its batch left it; ``new`` when the batch created it, ``triggered`` when the
    batch triggered it (a conditional order that started working)."""

    order: Order
    new: bool
    triggered: bool = False


@dataclass(kw_only=True, frozen=True, slots=True)
class BookChange:
    """Levels of one market that changed (qty 0: level gone), and the top of the book after it."""

    symbol: str
    first_update_id: int
    last_update_id: int
    bids: list[Level]
    asks: list[Level]
    top_bids: list[Level]
    top_asks: list[Level]


@dataclass(kw_only=True, frozen=True, slots=True)
class BalanceChange:
    user_id: int
    asset: str
    free: Decimal
    locked: Decimal


@dataclass(kw_only=True, frozen=True, slots=True)
class BalanceMove:
    """A deposit, credit or withdrawal: ``delta`` to the user's free balance."""

    user_id: int
    asset: str
    delta: Decimal
    time: int


@dataclass(kw_only=True, frozen=True, slots=True)
class ExchangeEvents:
    """Everything one durable batch changed, in the order streams publish it."""

    time: int
    orders: list[OrderChange] = field(default_factory=list)
    trades: list[TradeRecord] = field(default_factory=list)
    aggs: list[AggTradeRecord] = field(default_factory=list)
    books: list[BookChange] = field(default_factory=list)
    balances: list[BalanceChange] = field(default_factory=list)
    moves: list[BalanceMove] = field(default_factory=list)
    markets: dict[str, tuple[str, str]] = field(default_factory=dict)  # symbol -> (base, quote)
    amends: list[Amendment] = field(default_factory=list)  # amend keepPriority, in order
    lists: list[OrderList] = field(default_factory=list)  # order lists placed or ended


TOP = 20  # partial depth streams show at most 20 levels


class EventBuilder:
    """Builds :class:`ExchangeEvents` at batch close; remembers each market's last depth id."""

    def __init__(self, seq: int) -> None:
        self._last_update: dict[str, int] = {}
        self._start = seq

    def reset(self, seq: int) -> None:
        """Memory was rebuilt: ids go on from at least ``seq`` (never backwards)."""
        self._start = max(self._start, seq)

    def build(
        self,
        closed: Closed,
        seq: int,
        now: int,
        books: dict[str, OrderBook],
        markets: dict[str, MarketSpec],
        ledger: Ledger,
        full: bool = True,
    ) -> ExchangeEvents:
        """The batch's events; with ``full`` false (nobody listens) only the depth ids advance."""
        if not full:  # order fields: [6] the price in ticks (0: unpriced), [15] working time, [17] units
            for symbol in {f[17].symbol for f, _, _ in closed.orders if f[6] and f[15] != PENDING}:
                self._last_update[symbol] = self.last_update_id(symbol) + 1
            return ExchangeEvents(time=now)
        batch = closed.batch()  # the Decimal records, converted on the loop only when someone listens
        versions = [*batch.order_inserts, *batch.order_updates]
        versions.sort(key=lambda v: v.order.order_id)
        new_ids = {v.order.order_id for v in batch.order_inserts}
        fired = closed.triggered
        orders = [
            OrderChange(order=v.order, new=v.order.order_id in new_ids, triggered=v.order.order_id in fired)
            for v in versions
        ]
        touched: dict[str, set[tuple[Side, Decimal]]] = {}
        for v in versions:
            if v.order.price and v.order.working_time != PENDING:  # not a stop waiting off the book
                touched.setdefault(v.order.symbol, set()).add((v.order.side, v.order.price))
        book_changes = [self._book(symbol, levels, books[symbol]) for symbol, levels in touched.items()]
        users = {acc: user for user, acc in ledger.accounts.items()}
        balances = [
            BalanceChange(user_id=users[b.account_id], asset=b.asset, free=b.free, locked=b.locked)
            for b in [*batch.balance_inserts, *batch.balance_updates]
            if b.account_id in users
        ]
        moves = [
            BalanceMove(user_id=users[e.account_id], asset=e.asset, delta=e.amount, time=p.at)
            for p in batch.postings
            for e in p.entries
            if e.kind in MOVES and e.account_id in users
        ]
        symbols = {v.order.symbol for v in versions}
        return ExchangeEvents(
            time=now,
            orders=orders,
            trades=list(batch.trades),
            aggs=list(batch.aggs),
            books=book_changes,
            balances=balances,
            moves=moves,
            markets={s: (markets[s].base, markets[s].quote) for s in symbols if s in markets},
            amends=list(closed.amends),
            lists=[lst for lst, _, _ in closed.lists],
        )

    def _book(self, symbol: str, levels: set[tuple[Side, Decimal]], book: OrderBook) -> BookChange:
        first = last = self.last_update_id(symbol) + 1
        self._last_update[symbol] = last
        bids = sorted(((p, level_qty(book, Side.BUY, p)) for s, p in levels if s is Side.BUY), reverse=True)
        asks = sorted((p, level_qty(book, Side.SELL, p)) for s, p in levels if s is Side.SELL)
        return BookChange(
            symbol=symbol,
            first_update_id=first,
            last_update_id=last,
            bids=bids,
            asks=asks,
            top_bids=book.depth(book.bids, TOP),
            top_asks=book.depth(book.asks, TOP),
        )

    def last_update_id(self, symbol: str) -> int:
        """The id of the market's latest book change (what REST depth answers)."""
        return max(self._last_update.get(symbol, self._start), self._start)


def level_qty(book: OrderBook, side: Side, price: Decimal) -> Decimal:
    """The resting quantity at one price (0 when the level is empty)."""
    lots = book.side(side).level_lots(book.units.ticks(price))
    return book.units.qty(lots) if lots else ZERO
