"""The plain dataclasses the exchange takes and returns; every field a Binance JSON needs.

Names follow Binance's JSON keys in snake case, so the HTTP layer's serializers are one-liners.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from keyplane.exchange.markets import StpMode

ZERO = Decimal(0)


class Side(str, Enum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(str, Enum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    LIMIT_MAKER = "LIMIT_MAKER"
    STOP_LOSS = "STOP_LOSS"
    STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
    TAKE_PROFIT = "TAKE_PROFIT"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"

    # A stop or take-profit order: pending until the last trade price meets its condition. Set on
    # each member below (a plain attribute: read a few times per order, a property costs 4x more).
    is_conditional: bool


class TimeInForce(str, Enum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(str, Enum):
    PENDING_NEW = "PENDING_NEW"  # the pending order of an OTO until its working order fills
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    EXPIRED_IN_MATCH = "EXPIRED_IN_MATCH"

    is_open: bool  # set on each member below, as OrderType.is_conditional


OPEN = frozenset((OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_NEW))
CONDITIONAL = frozenset(
    (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT)
)
# Conditional types that work as a LIMIT order at ``price`` once triggered (the others as MARKET).
CONDITIONAL_LIMIT = frozenset((OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT))
for _type in OrderType:
    _type.is_conditional = _type in CONDITIONAL
for _status in OrderStatus:
    _status.is_open = _status in OPEN
PENDING = -1  # ``working_time`` of a conditional order not triggered yet, as Binance answers it

# Members as module constants for the hot path: on Python 3.11 ``Side.BUY`` is a descriptor lookup
# on the class (about 100 ns), a module global about 20 ns, and a command makes dozens of them.
BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET, LIMIT_MAKER = OrderType.LIMIT, OrderType.MARKET, OrderType.LIMIT_MAKER
STOP_LOSS, STOP_LOSS_LIMIT = OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT
TAKE_PROFIT, TAKE_PROFIT_LIMIT = OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT
GTC, IOC, FOK = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK
NEW, PARTIALLY_FILLED, FILLED = OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED
PENDING_NEW = OrderStatus.PENDING_NEW
CANCELED, EXPIRED, EXPIRED_IN_MATCH = OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.EXPIRED_IN_MATCH


def rises_to_stop(otype: OrderType, side: Side) -> bool:
    """True when the stop condition is ``last >= stopPrice`` (STOP_LOSS BUY, TAKE_PROFIT SELL);
    false when it is ``last <= stopPrice`` (STOP_LOSS SELL, TAKE_PROFIT BUY)."""
    stop_loss = otype is STOP_LOSS or otype is STOP_LOSS_LIMIT
    return stop_loss == (side is BUY)


@dataclass(kw_only=True, slots=True)
class Order:
    """An order as the exchange answers and stores it. ``price`` is 0 for MARKET orders, as on
    Binance. (The engine itself holds :class:`keyplane.exchange.book.LiveOrder`, in integer units.)

    ``locked_amount`` is what the order still holds locked: quote for a buy, base for a sell.
    Conditional orders (:data:`CONDITIONAL`) carry ``stop_price`` (0: none), ``trailing_delta``
    in BIPS (0: not trailing), ``trailing_time`` (-1 until it tracks prices) and ``trail_price``,
    the highest (sell) or lowest (buy) trade price since it started tracking; ``working_time`` is
    -1 until it triggers.
    """

    order_id: int
    client_order_id: str
    user_id: int
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    price: Decimal
    orig_qty: Decimal
    orig_quote_order_qty: Decimal
    executed_qty: Decimal
    cummulative_quote_qty: Decimal
    status: OrderStatus
    self_trade_prevention_mode: StpMode
    time: int
    update_time: int
    working_time: int
    locked_amount: Decimal = ZERO
    stop_price: Decimal = ZERO
    trailing_delta: int = 0
    trailing_time: int = -1
    trail_price: Decimal = ZERO
    order_list_id: int = -1
    queue: int = 0  # the order's place in the book's time priority (0: from before it was kept)
    prevented_match_id: int = 0  # expired by self-trade prevention: the match (0: not)
    prevented_quantity: Decimal = ZERO  # and the quantity that expired

    def snapshot(self) -> Order:
        """A copy that later changes to this one do not reach (``dataclasses.replace``, faster)."""
        return Order(
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            user_id=self.user_id,
            symbol=self.symbol,
            side=self.side,
            type=self.type,
            time_in_force=self.time_in_force,
            price=self.price,
            orig_qty=self.orig_qty,
            orig_quote_order_qty=self.orig_quote_order_qty,
            executed_qty=self.executed_qty,
            cummulative_quote_qty=self.cummulative_quote_qty,
            status=self.status,
            self_trade_prevention_mode=self.self_trade_prevention_mode,
            time=self.time,
            update_time=self.update_time,
            working_time=self.working_time,
            locked_amount=self.locked_amount,
            stop_price=self.stop_price,
            trailing_delta=self.trailing_delta,
            trailing_time=self.trailing_time,
            trail_price=self.trail_price,
            order_list_id=self.order_list_id,
            queue=self.queue,
            prevented_match_id=self.prevented_match_id,
            prevented_quantity=self.prevented_quantity,
        )

    @property
    def remaining_qty(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    @property
    def is_working(self) -> bool:
        """Open and in the book (a conditional order waiting for its trigger is not)."""
        return self.status.is_open and self.working_time != PENDING


@dataclass(kw_only=True, slots=True)
class OrderList:
    """An order list (OCO): its legs are orders whose ``order_list_id`` is ``list_id``.

    ``list_status_type`` is EXEC_STARTED while it works, ALL_DONE once a leg executed, triggered
    or was cancelled (the other leg then ends too); ``list_order_status`` EXECUTING, then ALL_DONE."""

    list_id: int
    user_id: int
    symbol: str
    contingency_type: str
    list_status_type: str
    list_order_status: str
    list_client_order_id: str
    transaction_time: int
    orders: list[tuple[int, str]] = field(default_factory=list)  # (order id, client order id) per leg

    def snapshot(self) -> OrderList:
        return OrderList(
            list_id=self.list_id,
            user_id=self.user_id,
            symbol=self.symbol,
            contingency_type=self.contingency_type,
            list_status_type=self.list_status_type,
            list_order_status=self.list_order_status,
            list_client_order_id=self.list_client_order_id,
            transaction_time=self.transaction_time,
            orders=list(self.orders),
        )

    @property
    def is_open(self) -> bool:
        return self.list_status_type == "EXEC_STARTED"


@dataclass(kw_only=True, slots=True)
class Fill:
    """One fill of a just-placed order (``fills`` of the FULL response).

    Not frozen, like :class:`PlacedOrder` and :class:`TradeRecord`, which the engine also builds
    per fill or per answer: a frozen dataclass sets each field through ``object.__setattr__``
    (about 2 µs for a trade's 13, several times a plain one); nothing changes them once built."""

    trade_id: int
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str


@dataclass(kw_only=True, slots=True)
class PlacedOrder:
    """The answer to a new order: its state after matching, and its fills (not frozen: see
    :class:`Fill`)."""

    order: Order
    fills: list[Fill] = field(default_factory=list)


@dataclass(kw_only=True, frozen=True, slots=True)
class Trade:
    """A trade from one account's point of view (``myTrades``)."""

    id: int
    order_id: int
    symbol: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool
    is_best_match: bool = True


@dataclass(kw_only=True, slots=True)
class TradeRecord:
    """One trade as the engine made it, both sides and both fees; what ``ex_trades`` holds (not
    frozen: see :class:`Fill`)."""

    id: int
    symbol: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    time: int
    is_buyer_maker: bool
    buyer_order_id: int
    seller_order_id: int
    buyer_user_id: int
    seller_user_id: int
    buyer_fee: Decimal
    seller_fee: Decimal


@dataclass(kw_only=True, slots=True)
class AggTradeRecord:
    """Consecutive fills of one taker at one price; what ``ex_agg_trades`` holds.

    It grows (``qty``, ``last_trade_id``) while its taker fills at the same price; the taker's
    ``taker_order_id`` is how a fill finds its aggregate and is not stored."""

    id: int
    symbol: str
    price: Decimal
    qty: Decimal
    first_trade_id: int
    last_trade_id: int
    time: int
    is_buyer_maker: bool
    taker_order_id: int


@dataclass(kw_only=True, frozen=True, slots=True)
class PublicTrade:
    """A trade as the public sees it (``trades``)."""

    id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    time: int
    is_buyer_maker: bool
    is_best_match: bool = True


@dataclass(kw_only=True, frozen=True, slots=True)
class AggTrade:
    """``aggTrades`` row: a, p, q, f, l, T, m (M is always true)."""

    id: int
    price: Decimal
    qty: Decimal
    first_trade_id: int
    last_trade_id: int
    time: int
    is_buyer_maker: bool
    is_best_match: bool = True


@dataclass(kw_only=True, frozen=True, slots=True)
class Balance:
    """One asset of one account, as ``account`` lists it and a credit answers."""

    asset: str
    free: Decimal
    locked: Decimal
