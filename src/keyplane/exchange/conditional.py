"""Conditional orders (STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT): when they trigger.

Why apart from the matching: a conditional order is not in the book until it triggers. It waits in
:attr:`OrderBook.stops`, its funds locked since placement, and watches the market's *last trade
price*, as Binance's do. After each command that made trades, :func:`trigger` shows every pending
order the trade prices in the order they happened; those whose condition holds become working
(``workingTime`` set) and run at once as a LIMIT order at their ``price`` (the ``*_LIMIT`` types,
with their own time in force) or as a MARKET order, in the same command, oldest order first; their
own trades are shown to the orders still pending, so triggers cascade.

The condition (Binance's "trigger order price rules against market price"): ``last >= stopPrice``
for STOP_LOSS BUY and TAKE_PROFIT SELL, ``last <= stopPrice`` for STOP_LOSS SELL and TAKE_PROFIT
BUY. With ``trailingDelta`` (BIPS) the order first waits for that condition (or, without a
stopPrice, starts at once from the last price), then tracks the highest (sell) or lowest (buy)
trade price and triggers on a move back of ``trailingDelta`` BIPS from it (Binance's trailing stop
FAQ). Everything is in integer ticks: ``price * 10000 <= peak * (10000 - delta)``, no rounding.
"""

from __future__ import annotations

from keyplane.exchange.book import LiveOrder, OrderBook
from keyplane.exchange.errors import OrderRejected, WouldTriggerImmediately
from keyplane.exchange.ledger import Ledger
from keyplane.exchange.matching import Command, end_sibling, execute
from keyplane.exchange.models import BUY, SELL, OrderType, Side, rises_to_stop

BIPS = 10_000
NOT_TRACKING = -1


def stop_met(otype: OrderType, side: Side, stop: int, last: int) -> bool:
    """Whether a trade at ``last`` ticks meets a stop price of ``stop`` ticks."""
    return last >= stop if rises_to_stop(otype, side) else last <= stop


def trailing_above(otype: OrderType, side: Side) -> bool:
    """Which bounds of the TRAILING_DELTA filter apply: the "above" ones for STOP_LOSS BUY and
    TAKE_PROFIT SELL (their stop is above the market), else the "below" ones."""
    return rises_to_stop(otype, side)


def trail_trigger(side: Side, delta: int, peak: int) -> int:
    """The price (ticks) at which a trailing order tracking ``peak`` triggers: the highest that
    does for a sell, the lowest for a buy."""
    if side is SELL:
        return peak * (BIPS - delta) // BIPS
    return -(-peak * (BIPS + delta) // BIPS)


def check_not_triggered(otype: OrderType, side: Side, stop: int, book: OrderBook) -> None:
    """Binance refuses a stop price that the last trade already meets (-2010); a market with no
    trade yet has no last price, and any stop price is accepted there."""
    if stop and book.last_price and stop_met(otype, side, stop, book.last_price):
        raise WouldTriggerImmediately()


def conditional_lock(
    otype: OrderType, side: Side, price: int, lots: int, stop: int, delta: int, book: OrderBook
) -> int:
    """Units a conditional order locks from placement until it ends.

    A sell locks its quantity; a ``*_LIMIT`` buy its quantity at ``price``, as a LIMIT buy. A
    STOP_LOSS / TAKE_PROFIT buy runs as a MARKET order of unknown cost, so it locks its quantity at
    the price it is expected to trigger at: its stop price; for a trailing order, the trigger price
    of a peak at the higher of its stop price and the last price (the best ask while the market
    has no trade). Triggered in a market that moved past that, it fills what the lock pays for and
    expires the rest, as a MARKET order does when its funds run out."""
    u = book.units
    if side is SELL:
        return lots * u.lot_base
    if price:
        return lots * price * u.lot_tick
    ref = stop
    if delta:
        best = book.asks.best()
        ref = max(stop, book.last_price or (best.price if best is not None else 0))
        if not ref:
            raise OrderRejected()  # nothing to price the lock at: no stop, no trade, no ask
        ref = trail_trigger(BUY, delta, ref)
    return lots * ref * u.lot_tick


def observe(o: LiveOrder, price: int, now: int) -> tuple[bool, bool]:
    """Show a pending order one trade price; (it triggers, its tracked fields changed)."""
    if not o.trailing_delta:
        return stop_met(o.type, o.side, o.stop_price, price), False
    if o.trailing_time == NOT_TRACKING:
        if not stop_met(o.type, o.side, o.stop_price, price):
            return False, False
        o.trailing_time, o.trail_price = now, price  # the first trade past the stop sets the peak
        return False, True
    peak = o.trail_price
    if o.side is SELL:
        if not peak or price > peak:
            o.trail_price = price
            return False, True
        return price * BIPS <= peak * (BIPS - o.trailing_delta), False
    if not peak or price < peak:
        o.trail_price = price
        return False, True
    return price * BIPS >= peak * (BIPS + o.trailing_delta), False


def trigger(book: OrderBook, ledger: Ledger, cx: Command, start: int = 0) -> None:
    """Trigger and run the pending orders that the command's trades from ``start`` on set off,
    then those their own trades set off, until none does; keeps ``book.last_price``."""
    trades = cx.trades
    units = book.units
    while len(trades) > start:
        book.last_price = cx.last_price
        stops = book.stops
        if not stops:
            return
        prices = [units.ticks(t.price) for t in trades[start:]]
        start = len(trades)
        # A fixed stop price is met by the lowest or the highest of the prices: the index finds
        # those orders without looking at the others; a trailing one watches every price.
        fired = stops.met(min(prices), max(prices))
        for o in stops.trailing.values():
            for price in prices:
                fires, changed = observe(o, price, cx.now)
                if changed:
                    cx.orders[o.order_id] = o  # written, so a restart keeps the peak
                if fires:
                    fired.append(o)
                    break
        fired.sort(key=stops.placed)  # they run in the order they were set aside
        for o in fired:
            if stops.pop(o.order_id, None) is None:
                continue  # the other leg of its OCO fired first and expired it
            if o.sibling is not None:
                end_sibling(o, book, ledger, cx)  # an OCO leg triggered: the other one expires
            o.working_time = cx.now
            cx.triggered.append(o.order_id)
            cx.touch(o)
            execute(o, book, ledger, cx)
