"""Price-time matching of one taker against a book, with self-trade prevention and settlement.

Each fill settles through the ledger at once (buyer's locked quote -> seller, seller's locked
base -> buyer, fees on the asset received -> fee account), so balances are right after every
step. Self-trade prevention follows Binance: the *taker's* mode decides; EXPIRE_MAKER expires
the resting order and goes on, EXPIRE_TAKER ends the taker, EXPIRE_BOTH does both; the
expired orders end as EXPIRED_IN_MATCH. NONE lets the account trade with itself.

Every amount is exact at its asset's precision: a market's tick x step fits its quote asset
(:func:`keyplane.exchange.markets.check_exact`), divisions count whole lots (``MarketSpec.lots``),
and fees are rounded down to the precision of the asset they are taken in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from keyplane.exchange.amounts import floor_to
from keyplane.exchange.book import OrderBook
from keyplane.exchange.ledger import FEE_ACCOUNT, Bucket, Entry, EntryKind, Ledger
from keyplane.exchange.markets import MarketSpec, StpMode
from keyplane.exchange.models import AggTradeRecord, Fill, Order, OrderStatus, OrderType, Side, TradeRecord
from keyplane.exchange.wallet.transfers import DepositCredit, Withdrawal

ZERO = Decimal(0)


@dataclass(kw_only=True, slots=True)
class Command:
    """What one command changed; the service writes it in one transaction."""

    seq: int
    now: int
    next_trade_id: int
    next_agg_id: int
    orders: dict[int, Order] = field(default_factory=dict)
    new_order_ids: set[int] = field(default_factory=set)
    trades: list[TradeRecord] = field(default_factory=list)
    aggs: list[AggTradeRecord] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    withdrawals: dict[int, Withdrawal] = field(default_factory=dict)
    new_withdrawal_ids: set[int] = field(default_factory=set)
    deposit_credits: list[DepositCredit] = field(default_factory=list)

    def touch(self, order: Order) -> None:
        order.update_time = self.now
        self.orders[order.order_id] = order


def lock_asset(market: MarketSpec, side: Side) -> str:
    return market.quote if side is Side.BUY else market.base


def release(order: Order, market: MarketSpec, ledger: Ledger, cx: Command) -> None:
    """Give back whatever the order still holds locked."""
    acc = ledger.account_of(order.user_id)
    if order.locked_amount and acc is not None:
        ledger.unlock(acc, lock_asset(market, order.side), order.locked_amount, order.order_id)
    order.locked_amount = ZERO
    cx.touch(order)


def crosses(taker: Order, price: Decimal) -> bool:
    if taker.type is OrderType.MARKET:
        return True
    return price <= taker.price if taker.side is Side.BUY else price >= taker.price


def fillable_qty(book: OrderBook, taker: Order) -> Decimal:
    """How much a LIMIT taker could fill now, honouring its STP mode (used for FOK)."""
    total = ZERO
    for maker in book.opposite(taker.side).iter_orders():
        if not crosses(taker, maker.price) or total >= taker.remaining_qty:
            break
        if maker.user_id == taker.user_id and taker.self_trade_prevention_mode is not StpMode.NONE:
            if taker.self_trade_prevention_mode is StpMode.EXPIRE_MAKER:
                continue
            break
        total += maker.remaining_qty
    return total


def lock_needed(
    side: Side,
    otype: OrderType,
    price: Decimal,
    qty: Decimal,
    quote: Decimal,
    book: OrderBook,
    market: MarketSpec,
) -> Decimal:
    """What a new order must lock (an estimate from the book for MARKET orders of unknown cost)."""
    if otype is not OrderType.MARKET:
        return price * qty if side is Side.BUY else qty
    if side is Side.BUY and quote:
        return quote
    if side is Side.SELL and qty:
        return qty
    # Estimate by walking the book: quote cost of ``qty`` (buy) or base needed for ``quote`` (sell).
    spent = ZERO
    left = qty if side is Side.BUY else quote
    for maker in book.opposite(side).iter_orders():
        if left <= 0:
            break
        if side is Side.BUY:
            take = min(left, maker.remaining_qty)
            spent += take * maker.price
        else:
            take = min(maker.remaining_qty, market.lots(left, maker.price))
            if take <= 0:
                break
            spent += take
            take = take * maker.price
        left -= take
    return spent


def _fee(amount: Decimal, rate: Decimal, precision: int) -> Decimal:
    """The fee on ``amount``, rounded down to the precision of the asset it is paid in."""
    return floor_to(amount * rate, precision)


def _taker_cap(taker: Order, market: MarketSpec, price: Decimal) -> tuple[Decimal, bool]:
    """Largest qty the taker may take at ``price``; the flag says the cap is its quote target."""
    if taker.orig_quote_order_qty:
        target = market.lots(taker.orig_quote_order_qty - taker.cummulative_quote_qty, price)
        cap, by_quote = target, True
    else:
        cap, by_quote = taker.remaining_qty, False
    if taker.type is OrderType.MARKET:
        if taker.side is Side.BUY:
            affordable = market.lots(taker.locked_amount, price)
        else:
            affordable = market.floor_qty(taker.locked_amount)
        if affordable < cap:
            return affordable, False
    return cap, by_quote


def settle(taker: Order, maker: Order, qty: Decimal, market: MarketSpec, ledger: Ledger, cx: Command) -> None:
    """Move the money of one fill at the maker's price and record the trade."""
    price = maker.price
    cost = qty * price
    buyer, seller = (taker, maker) if taker.side is Side.BUY else (maker, taker)
    b_acc, s_acc = ledger.account_of(buyer.user_id), ledger.account_of(seller.user_id)
    assert b_acc is not None and s_acc is not None
    q, b = market.quote, market.base
    fee_b = _fee(qty, market.maker_fee if buyer is maker else market.taker_fee, ledger.precision[b])
    fee_s = _fee(cost, market.maker_fee if seller is maker else market.taker_fee, ledger.precision[q])
    reserved = qty * buyer.price if buyer.type is not OrderType.MARKET else cost
    tid = cx.next_trade_id
    cx.next_trade_id += 1
    trade, fee, free, locked = EntryKind.TRADE, EntryKind.FEE, Bucket.FREE, Bucket.LOCKED
    entries: list[Entry] = [
        Entry(account_id=b_acc, asset=q, bucket=locked, amount=-reserved, kind=trade, ref=tid),
        Entry(account_id=s_acc, asset=q, bucket=free, amount=cost - fee_s, kind=trade, ref=tid),
        Entry(account_id=FEE_ACCOUNT, asset=q, bucket=free, amount=fee_s, kind=fee, ref=tid),
        Entry(account_id=s_acc, asset=b, bucket=locked, amount=-qty, kind=trade, ref=tid),
        Entry(account_id=b_acc, asset=b, bucket=free, amount=qty - fee_b, kind=trade, ref=tid),
        Entry(account_id=FEE_ACCOUNT, asset=b, bucket=free, amount=fee_b, kind=fee, ref=tid),
    ]
    if reserved != cost:
        refund = EntryKind.REFUND
        entries.append(
            Entry(account_id=b_acc, asset=q, bucket=free, amount=reserved - cost, kind=refund, ref=tid)
        )
    ledger.post([e for e in entries if e.amount])
    buyer.locked_amount -= reserved
    seller.locked_amount -= qty
    for o in (taker, maker):
        o.executed_qty += qty
        o.cummulative_quote_qty += cost
        cx.touch(o)
    if maker.remaining_qty == 0:
        maker.status = OrderStatus.FILLED
    else:
        maker.status = OrderStatus.PARTIALLY_FILLED
    cx.trades.append(
        TradeRecord(
            id=tid,
            symbol=market.symbol,
            price=price,
            qty=qty,
            quote_qty=cost,
            time=cx.now,
            is_buyer_maker=buyer is maker,
            buyer_order_id=buyer.order_id,
            seller_order_id=seller.order_id,
            buyer_user_id=buyer.user_id,
            seller_user_id=seller.user_id,
            buyer_fee=fee_b,
            seller_fee=fee_s,
        )
    )
    taker_fee, taker_fee_asset = (fee_b, b) if taker is buyer else (fee_s, q)
    cx.fills.append(
        Fill(trade_id=tid, price=price, qty=qty, commission=taker_fee, commission_asset=taker_fee_asset)
    )
    last = cx.aggs[-1] if cx.aggs else None
    if last is not None and last.taker_order_id == taker.order_id and last.price == price:
        last.qty += qty
        last.last_trade_id = tid
    else:
        cx.aggs.append(
            AggTradeRecord(
                id=cx.next_agg_id,
                symbol=market.symbol,
                price=price,
                qty=qty,
                first_trade_id=tid,
                last_trade_id=tid,
                time=cx.now,
                is_buyer_maker=buyer is maker,
                taker_order_id=taker.order_id,
            )
        )
        cx.next_agg_id += 1


def _quote_spent(taker: Order, market: MarketSpec, cx: Command) -> bool:
    """A quote order whose remainder cannot buy one more step at its last fill price is done,
    even when the book ran out at the same moment."""
    if not taker.orig_quote_order_qty or not cx.fills:
        return False
    cap, by_quote = _taker_cap(taker, market, cx.fills[-1].price)
    return by_quote and cap <= 0


def match(taker: Order, book: OrderBook, market: MarketSpec, ledger: Ledger, cx: Command) -> bool:
    """Match ``taker`` against ``book``; returns True when it met its quote target (quote orders)."""
    side = book.opposite(taker.side)
    stp = taker.self_trade_prevention_mode
    while True:
        maker = side.best()
        if maker is None or not crosses(taker, maker.price):
            return _quote_spent(taker, market, cx)
        if maker.user_id == taker.user_id and stp is not StpMode.NONE:
            if stp in (StpMode.EXPIRE_MAKER, StpMode.EXPIRE_BOTH):
                book.remove(maker)
                maker.status = OrderStatus.EXPIRED_IN_MATCH
                release(maker, market, ledger, cx)
            if stp in (StpMode.EXPIRE_TAKER, StpMode.EXPIRE_BOTH):
                taker.status = OrderStatus.EXPIRED_IN_MATCH
                return False
            continue
        cap, by_quote = _taker_cap(taker, market, maker.price)
        qty = min(cap, maker.remaining_qty)
        if qty <= 0:
            return by_quote
        settle(taker, maker, qty, market, ledger, cx)
        if maker.status is OrderStatus.FILLED:
            book.remove(maker)
            release(maker, market, ledger, cx)
        if not taker.orig_quote_order_qty and taker.remaining_qty == 0:
            return False
