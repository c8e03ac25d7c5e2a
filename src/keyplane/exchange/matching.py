"""Price-time matching of one taker against a book, with self-trade prevention and settlement.

Each fill settles through the ledger at once (buyer's locked quote -> seller, seller's locked
base -> buyer, fees on the asset received -> fee account), so balances are right after every
step. Self-trade prevention follows Binance: the *taker's* mode decides; EXPIRE_MAKER expires
the resting order and goes on, EXPIRE_TAKER ends the taker, EXPIRE_BOTH does both; the
expired orders end as EXPIRED_IN_MATCH. NONE lets the account trade with itself.

Everything here is an integer (:mod:`keyplane.exchange.units`): prices in ticks, quantities in
lots, amounts in ledger units, so every amount is exact at its asset's precision; divisions count
whole lots, and fees are rounded down to the precision of the asset they are taken in (floor
division by the rate's exact denominator). ``Decimal`` appears only in the records a fill leaves
(trades, aggregates, fills), converted exactly.
"""

from __future__ import annotations

from keyplane.exchange.book import LiveOrder, OrderBook
from keyplane.exchange.ledger import FEE_ACCOUNT, FREE, LOCKED, EntryKind, Ledger, Row
from keyplane.exchange.markets import MarketSpec, StpMode
from keyplane.exchange.models import (
    BUY,
    EXPIRED,
    EXPIRED_IN_MATCH,
    FILLED,
    FOK,
    GTC,
    LIMIT_MAKER,
    MARKET,
    NEW,
    PARTIALLY_FILLED,
    SELL,
    AggTradeRecord,
    Fill,
    OrderList,
    OrderType,
    Side,
    TradeRecord,
)
from keyplane.exchange.prevented import PreventedMatch
from keyplane.exchange.units import MarketUnits, fee
from keyplane.exchange.wallet.transfers import DepositCredit, Withdrawal

TRADE, FEE, REFUND = EntryKind.TRADE, EntryKind.FEE, EntryKind.REFUND
STP_NONE, EXPIRE_MAKER, EXPIRE_TAKER, EXPIRE_BOTH = (
    StpMode.NONE,
    StpMode.EXPIRE_MAKER,
    StpMode.EXPIRE_TAKER,
    StpMode.EXPIRE_BOTH,
)


class Command:
    """What one command changed; the service writes it in one transaction.

    A plain class with ``__slots__`` rather than a dataclass: one is built per command, and the
    dataclass's eight default factories cost as much as a resting order's whole matching."""

    __slots__ = (
        "aggs",
        "deposit_credits",
        "ended_lists",
        "fills",
        "last_price",
        "lists",
        "new_order_ids",
        "new_withdrawal_ids",
        "next_agg_id",
        "next_trade_id",
        "now",
        "orders",
        "prevented",
        "seq",
        "trades",
        "triggered",
        "withdrawals",
    )

    def __init__(self, *, seq: int, now: int, next_trade_id: int, next_agg_id: int) -> None:
        self.seq = seq
        self.now = now
        self.next_trade_id = next_trade_id
        self.next_agg_id = next_agg_id
        self.orders: dict[int, LiveOrder] = {}
        self.new_order_ids: set[int] = set()
        self.trades: list[TradeRecord] = []
        self.aggs: list[AggTradeRecord] = []
        self.fills: list[Fill] = []
        self.withdrawals: dict[int, Withdrawal] = {}
        self.new_withdrawal_ids: set[int] = set()
        self.deposit_credits: list[DepositCredit] = []
        self.last_price = 0  # ticks of the last fill
        self.triggered: list[int] = []  # conditional orders this command triggered
        self.ended_lists: list[int] = []  # order lists whose legs this command ended
        self.lists: dict[int, tuple[OrderList, bool]] = {}  # order lists it placed (True) or ended
        self.prevented: list[PreventedMatch] | None = None  # self-trades STP prevented (rare: lazily)

    def touch(self, order: LiveOrder) -> None:
        order.update_time = self.now
        self.orders[order.order_id] = order


def lock_asset(market: MarketUnits | MarketSpec, side: Side) -> str:
    """The asset an order on ``side`` locks: quote for a buy, base for a sell."""
    return market.quote if side is BUY else market.base


def release(order: LiveOrder, ledger: Ledger, cx: Command) -> None:
    """Give back whatever the order still holds locked."""
    acc = ledger.accounts.get(order.user_id)
    if order.locked and acc is not None:
        ledger.unlock_units(acc, lock_asset(order.units, order.side), order.locked, order.order_id)
    order.locked = 0
    cx.touch(order)


def end_sibling(order: LiveOrder, book: OrderBook, ledger: Ledger, cx: Command) -> None:
    """``order``, a leg of an OCO, executed or triggered: the other leg expires (Binance), and the
    list's one lock, wherever it was held, passes to ``order``, which now spends it."""
    other = order.sibling
    if other is None:
        return
    order.sibling = other.sibling = None
    if other.status is NEW or other.status is PARTIALLY_FILLED:
        if book.stops.pop(other.order_id, None) is None:
            book.remove(other)
        other.status = EXPIRED
        order.locked += other.locked
        other.locked = 0
        cx.touch(other)
    cx.ended_lists.append(order.order_list_id)


def crosses(taker: LiveOrder, price: int) -> bool:
    if not taker.price:  # unpriced: MARKET, or a triggered STOP_LOSS / TAKE_PROFIT
        return True
    return price <= taker.price if taker.side is BUY else price >= taker.price


def fillable_qty(book: OrderBook, taker: LiveOrder) -> int:
    """How many lots a LIMIT taker could fill now, honouring its STP mode (used for FOK)."""
    total = 0
    for maker in book.opposite(taker.side).iter_orders():
        if not crosses(taker, maker.price) or total >= taker.remaining_qty:
            break
        if maker.user_id == taker.user_id and taker.stp is not STP_NONE:
            if taker.stp is EXPIRE_MAKER:
                continue
            break
        total += maker.remaining_qty
    return total


def lock_needed(side: Side, otype: OrderType, price: int, lots: int, quote: int, book: OrderBook) -> int:
    """Units a new order must lock (an estimate from the book for MARKET orders of unknown cost)."""
    u = book.units
    if otype is not MARKET:
        return lots * price * u.lot_tick if side is BUY else lots * u.lot_base
    if side is BUY and quote:
        return quote
    if side is SELL and lots:
        return lots * u.lot_base
    # Estimate by walking the book: quote cost of ``lots`` (buy) or base needed for ``quote`` (sell).
    spent = 0
    left = lots if side is BUY else quote
    for maker in book.opposite(side).iter_orders():
        if left <= 0:
            break
        if side is BUY:
            take = min(left, maker.remaining_qty)
            spent += take * maker.price * u.lot_tick
        else:
            take = min(maker.remaining_qty, left // (maker.price * u.lot_tick))
            if take <= 0:
                break
            spent += take * u.lot_base
            take = take * maker.price * u.lot_tick
        left -= take
    return spent


def _taker_cap(taker: LiveOrder, u: MarketUnits, price: int) -> tuple[int, bool]:
    """Most lots the taker may take at ``price``; the flag says the cap is its quote target."""
    if taker.orig_quote:
        cap, by_quote = (taker.orig_quote - taker.quote_done) // (price * u.lot_tick), True
    else:
        cap, by_quote = taker.orig_qty - taker.executed_qty, False
    if not taker.price:
        if taker.side is BUY:
            affordable = taker.locked // (price * u.lot_tick)
        else:
            affordable = taker.locked // u.lot_base
        if affordable < cap:
            return affordable, False
    return cap, by_quote


def settle(taker: LiveOrder, maker: LiveOrder, lots: int, ledger: Ledger, cx: Command) -> None:
    """Move the money of one fill at the maker's price and record the trade."""
    u = maker.units
    price = maker.price
    cost = lots * price * u.lot_tick  # quote units
    qty = lots * u.lot_base  # base units
    taker_buys = taker.side is BUY
    buyer, seller = (taker, maker) if taker_buys else (maker, taker)
    accounts = ledger.accounts
    b_acc, s_acc = accounts[buyer.user_id], accounts[seller.user_id]
    q, b = u.quote, u.base
    fee_b = fee(qty, u.taker_fee if taker_buys else u.maker_fee, u.base_unit)
    fee_s = fee(cost, u.maker_fee if taker_buys else u.taker_fee, u.quote_unit)
    reserved = lots * buyer.price * u.lot_tick if buyer.price else cost
    tid = cx.next_trade_id
    cx.next_trade_id += 1
    rows: list[Row] = [
        (b_acc, q, LOCKED, -reserved, TRADE, tid, ""),
        (s_acc, q, FREE, cost - fee_s, TRADE, tid, ""),
        (FEE_ACCOUNT, q, FREE, fee_s, FEE, tid, ""),
        (s_acc, b, LOCKED, -qty, TRADE, tid, ""),
        (b_acc, b, FREE, qty - fee_b, TRADE, tid, ""),
        (FEE_ACCOUNT, b, FREE, fee_b, FEE, tid, ""),
    ]
    if reserved != cost:
        rows.append((b_acc, q, FREE, reserved - cost, REFUND, tid, ""))
    ledger.post_fill([r for r in rows if r[3]], b_acc, s_acc)
    buyer.locked -= reserved
    seller.locked -= qty
    now = cx.now
    orders = cx.orders
    for o in (taker, maker):
        o.executed_qty += lots
        o.quote_done += cost
        o.update_time = now
        orders[o.order_id] = o
    maker.status = FILLED if maker.executed_qty == maker.orig_qty else PARTIALLY_FILLED
    price_d, qty_d, cost_d = u.price(price), u.qty(lots), u.quote_amount(cost)
    fee_bd, fee_sd = u.base_amount(fee_b), u.quote_amount(fee_s)
    cx.trades.append(
        TradeRecord(
            id=tid,
            symbol=u.symbol,
            price=price_d,
            qty=qty_d,
            quote_qty=cost_d,
            time=now,
            is_buyer_maker=not taker_buys,
            buyer_order_id=buyer.order_id,
            seller_order_id=seller.order_id,
            buyer_user_id=buyer.user_id,
            seller_user_id=seller.user_id,
            buyer_fee=fee_bd,
            seller_fee=fee_sd,
        )
    )
    cx.last_price = price
    cx.fills.append(
        Fill(
            trade_id=tid,
            price=price_d,
            qty=qty_d,
            commission=fee_bd if taker_buys else fee_sd,
            commission_asset=b if taker_buys else q,
        )
    )
    last = cx.aggs[-1] if cx.aggs else None
    if last is not None and last.taker_order_id == taker.order_id and last.price == price_d:
        last.qty += qty_d
        last.last_trade_id = tid
    else:
        cx.aggs.append(
            AggTradeRecord(
                id=cx.next_agg_id,
                symbol=u.symbol,
                price=price_d,
                qty=qty_d,
                first_trade_id=tid,
                last_trade_id=tid,
                time=now,
                is_buyer_maker=not taker_buys,
                taker_order_id=taker.order_id,
            )
        )
        cx.next_agg_id += 1


def _quote_spent(taker: LiveOrder, cx: Command) -> bool:
    """A quote order whose remainder cannot buy one more step at its last fill price is done,
    even when the book ran out at the same moment."""
    if not taker.orig_quote or not cx.fills:
        return False
    cap, by_quote = _taker_cap(taker, taker.units, cx.last_price)
    return by_quote and cap <= 0


def prevent(taker: LiveOrder, maker: LiveOrder, book: OrderBook, cx: Command) -> None:
    """Record that STP kept ``taker`` from trading with ``maker`` (the same account's order)."""
    units = book.units
    record = PreventedMatch(
        symbol=units.symbol,
        prevented_match_id=book.next_prevented_id,
        taker_order_id=taker.order_id,
        maker_order_id=maker.order_id,
        user_id=taker.user_id,
        mode=taker.stp,
        price=units.price(maker.price),
        maker_prevented_qty=units.qty(maker.remaining_qty),
        time=cx.now,
    )
    book.next_prevented_id += 1
    mode = taker.stp
    for expired in (maker,) if mode is EXPIRE_MAKER else (taker,) if mode is EXPIRE_TAKER else (maker, taker):
        expired.prevented_match_id = record.prevented_match_id
        expired.prevented_qty = max(expired.remaining_qty, 0)  # a quote order has no quantity left
    if cx.prevented is None:
        cx.prevented = []
    cx.prevented.append(record)


def match(taker: LiveOrder, book: OrderBook, ledger: Ledger, cx: Command) -> bool:
    """Match ``taker`` against ``book``; returns True when it met its quote target (quote orders)."""
    side = book.opposite(taker.side)
    stp = taker.stp
    u = book.units
    while True:
        maker = side.best()
        if maker is None or not crosses(taker, maker.price):
            return _quote_spent(taker, cx)
        if maker.user_id == taker.user_id and stp is not STP_NONE:
            prevent(taker, maker, book, cx)
            if stp is EXPIRE_MAKER or stp is EXPIRE_BOTH:
                book.remove(maker)
                maker.status = EXPIRED_IN_MATCH
                if maker.sibling is not None:  # its OCO ends: the other leg's lock comes back too
                    end_sibling(maker, book, ledger, cx)
                release(maker, ledger, cx)
            if stp is EXPIRE_TAKER or stp is EXPIRE_BOTH:
                taker.status = EXPIRED_IN_MATCH
                return False
            continue
        cap, by_quote = _taker_cap(taker, u, maker.price)
        lots = min(cap, maker.orig_qty - maker.executed_qty)
        if lots <= 0:
            return by_quote
        settle(taker, maker, lots, ledger, cx)
        side.filled(maker, lots)
        if maker.sibling is not None:
            end_sibling(maker, book, ledger, cx)
        if maker.status is FILLED:
            book.remove(maker)
            release(maker, ledger, cx)
        if not taker.orig_quote and taker.executed_qty == taker.orig_qty:
            return False


def execute(order: LiveOrder, book: OrderBook, ledger: Ledger, cx: Command) -> None:
    """Run a new order whose funds are locked: FOK check, match, then rest (GTC) or end it."""
    if order.time_in_force is FOK and fillable_qty(book, order) < order.orig_qty:
        order.status = EXPIRED
        release(order, ledger, cx)
        return
    met_quote = False
    if order.type is not LIMIT_MAKER:
        best = book.opposite(order.side).best()
        if best is not None and crosses(order, best.price):
            met_quote = match(order, book, ledger, cx)
    if order.orig_quote:
        order.orig_qty = order.executed_qty
    if order.status is EXPIRED_IN_MATCH:
        pass
    elif order.executed_qty > 0 and (
        order.orig_qty == order.executed_qty and not order.orig_quote or met_quote
    ):
        order.status = FILLED
    elif order.price and order.time_in_force is GTC:
        order.status = PARTIALLY_FILLED if order.executed_qty else NEW
        book.enter(order)
        cx.touch(order)
        return
    else:
        order.status = EXPIRED
    release(order, ledger, cx)
