"""New-order validation, and trades from one account's point of view (``myTrades``).

Validation runs before anything is written and raises the exact Binance error; the order of the
checks follows Binance (parameters, then filters; balance is checked by the service).
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal

from keyplane.exchange.amounts import exact
from keyplane.exchange.errors import FilterFailure, InvalidParameter
from keyplane.exchange.markets import MarketSpec, StpMode
from keyplane.exchange.models import (
    CONDITIONAL_LIMIT,
    GTC,
    LIMIT,
    MARKET,
    OrderType,
    Side,
    TimeInForce,
    Trade,
    TradeRecord,
)
from keyplane.store.types import MONEY_INTEGER_DIGITS, decimal_places

CLIENT_ID_PATTERN = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"
CLIENT_ID_RE = re.compile(CLIENT_ID_PATTERN)
MAX_DECIMALS = 8
# The TRAILING_DELTA filter, in BIPS, the same above and below the market (exchangeInfo shows it).
MIN_TRAILING_DELTA, MAX_TRAILING_DELTA = 10, 2000
ZERO = Decimal(0)


@dataclass(kw_only=True, frozen=True, slots=True)
class OrderRequest:
    """A new order as its caller sent it, enums already parsed (the HTTP layer parses strings).

    ``None`` is a parameter not sent; :func:`validate` decides which are required for the type."""

    user_id: int
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal | None = None
    price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    quote_order_qty: Decimal | None = None
    client_order_id: str | None = None
    self_trade_prevention_mode: StpMode | None = None
    stop_price: Decimal | None = None
    trailing_delta: int | None = None


@dataclass(kw_only=True, slots=True)
class ValidOrder:
    """A request that passed every parameter and filter check (not frozen: built once per order,
    read at once, and a frozen dataclass costs as much to build as the rest of the validation)."""

    side: Side
    type: OrderType
    time_in_force: TimeInForce
    price: Decimal
    quantity: Decimal
    quote_order_qty: Decimal
    client_order_id: str
    stp_mode: StpMode
    stop_price: Decimal = ZERO
    trailing_delta: int = 0


_ID_PREFIX = "kp" + secrets.token_hex(8)
_ID_COUNTER = itertools.count(1)


def new_client_order_id() -> str:
    """Unique within this process (a counter) and across processes (a random prefix per process);
    cheaper than drawing 15 random bytes from the OS for every order."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):x}"


def _amount(name: str, value: Decimal | None) -> Decimal:
    if value is None:
        raise InvalidParameter.missing(name)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidParameter.illegal_chars(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMALS and decimal_places(value) > MAX_DECIMALS:
        raise InvalidParameter.too_precise(name)
    if value and value.adjusted() >= MONEY_INTEGER_DIGITS:
        raise InvalidParameter(f"Parameter '{name}' overflowed.", -1108)
    return value


class _Passed:
    """The prices and quantities that passed a market's parameter checks and its PRICE_FILTER or
    LOT_SIZE: a limit order's checks are pure functions of the value and the market, and a market's
    orders repeat a few prices and sizes (checking one afresh costs about 2 µs of every order's
    ~20). Tied to the :class:`MarketSpec` object they were checked against, and bounded."""

    __slots__ = ("market", "prices", "qtys")

    def __init__(self, market: MarketSpec) -> None:
        self.market = market
        self.prices: set[Decimal] = set()
        self.qtys: set[Decimal] = set()


_PASSED: dict[str, _Passed] = {}
_PASSED_MAX = 4096


def _passed(market: MarketSpec) -> _Passed:
    memo = _PASSED.get(market.symbol)
    if memo is None or memo.market is not market:  # new, or the market was read again
        memo = _PASSED[market.symbol] = _Passed(market)
    return memo


def _limit_amounts(qty: Decimal | None, price: Decimal | None, market: MarketSpec) -> tuple[Decimal, Decimal]:
    """A priced order's quantity and price, checked as :func:`_amount`, ``check_price`` and
    ``check_qty`` check them, in that order (so the first refusal is the same), skipping the checks
    of a value that passed them before on this market (``Decimal`` only: a ``float`` equal to a
    passed value must still be refused)."""
    memo = _passed(market)
    known_qty = qty if type(qty) is Decimal and qty in memo.qtys else None
    known_price = price if type(price) is Decimal and price in memo.prices else None
    checked_qty = known_qty if known_qty is not None else _amount("quantity", qty)
    checked_price = known_price
    if checked_price is None:
        checked_price = _amount("price", price)
        market.check_price(checked_price)
        _remember(memo.prices, checked_price)
    if known_qty is None:
        market.check_qty(checked_qty)
        _remember(memo.qtys, checked_qty)
    return checked_qty, checked_price


def _remember(passed: set[Decimal], value: Decimal) -> None:
    if len(passed) >= _PASSED_MAX:  # bounded: start afresh
        passed.clear()
    passed.add(value)


@exact
def validate(req: OrderRequest, market: MarketSpec, avg_price: Decimal | None) -> ValidOrder:
    """Check parameters and filters; ``avg_price`` (5-minute average) prices MARKET notional."""
    otype = req.type
    stp = market.stp_mode if req.self_trade_prevention_mode is None else req.self_trade_prevention_mode
    coid = req.client_order_id
    if coid is None or coid == "":
        coid = new_client_order_id()
    elif not CLIENT_ID_RE.match(coid):
        raise InvalidParameter.illegal_chars("newClientOrderId", CLIENT_ID_PATTERN)
    tif = GTC
    price = qty = quote = ZERO
    if otype.is_conditional:
        return _conditional(req, market, avg_price, coid, stp)
    for name, sent in (("stopPrice", req.stop_price), ("trailingDelta", req.trailing_delta)):
        if sent is not None:
            raise InvalidParameter.not_required(name)
    if otype is MARKET:
        for name, v in (("price", req.price), ("timeInForce", req.time_in_force)):
            if v is not None:
                raise InvalidParameter.not_required(name)
        if req.quantity is None and req.quote_order_qty is None:
            raise InvalidParameter.neither("quantity", "quoteOrderQty")
        if req.quantity is not None and req.quote_order_qty is not None:
            raise InvalidParameter.not_required("quoteOrderQty")
        if req.quantity is not None:
            qty = _amount("quantity", req.quantity)
            market.check_qty(qty)
            if avg_price and qty * avg_price < market.min_notional:  # applyMinToMarket, not max
                raise FilterFailure("NOTIONAL")
        else:
            quote = _amount("quoteOrderQty", req.quote_order_qty)
            if quote <= 0:
                raise InvalidParameter.invalid("quoteOrderQty")
            if quote < market.min_notional:
                raise FilterFailure("NOTIONAL")
    else:
        if req.quote_order_qty is not None:
            raise InvalidParameter.not_required("quoteOrderQty")
        if otype is LIMIT:
            if req.time_in_force is None:
                raise InvalidParameter.missing("timeInForce")
            tif = req.time_in_force
        elif req.time_in_force is not None:
            raise InvalidParameter.not_required("timeInForce")
        qty, price = _limit_amounts(req.quantity, req.price, market)
        market.check_notional(price * qty)
    return ValidOrder(
        side=req.side,
        type=otype,
        time_in_force=tif,
        price=price,
        quantity=qty,
        quote_order_qty=quote,
        client_order_id=coid,
        stp_mode=stp,
    )


def _conditional(
    req: OrderRequest, market: MarketSpec, avg_price: Decimal | None, coid: str, stp: StpMode
) -> ValidOrder:
    """A stop or take-profit order: the parameters of its LIMIT or MARKET form, plus ``stopPrice``
    (PRICE_FILTER) and/or ``trailingDelta`` (TRAILING_DELTA). The NOTIONAL of a MARKET form is
    priced at its stop price, or at the 5-minute average for a trailing order without one."""
    limit = req.type in CONDITIONAL_LIMIT
    if req.quote_order_qty is not None:
        raise InvalidParameter.not_required("quoteOrderQty")
    tif = GTC
    if limit:
        if req.time_in_force is None:
            raise InvalidParameter.missing("timeInForce")
        tif = req.time_in_force
    else:
        for name, v in (("price", req.price), ("timeInForce", req.time_in_force)):
            if v is not None:
                raise InvalidParameter.not_required(name)
    qty = _amount("quantity", req.quantity)
    price = _amount("price", req.price) if limit else ZERO
    if req.stop_price is None and req.trailing_delta is None:
        raise InvalidParameter.neither("stopPrice", "trailingDelta")
    stop = ZERO
    if req.stop_price is not None:
        stop = _amount("stopPrice", req.stop_price)
        market.check_price(stop)
    delta = req.trailing_delta or 0
    if req.trailing_delta is not None and not MIN_TRAILING_DELTA <= delta <= MAX_TRAILING_DELTA:
        raise FilterFailure("TRAILING_DELTA")
    if limit:
        market.check_price(price)
    market.check_qty(qty)
    if limit:
        market.check_notional(price * qty)
    else:
        ref = stop or avg_price
        if ref and qty * ref < market.min_notional:  # applyMinToMarket, not max
            raise FilterFailure("NOTIONAL")
    return ValidOrder(
        side=req.side,
        type=req.type,
        time_in_force=tif,
        price=price,
        quantity=qty,
        quote_order_qty=ZERO,
        client_order_id=coid,
        stp_mode=stp,
        stop_price=stop,
        trailing_delta=delta,
    )


def clamp_limit(limit: int | None, default: int, maximum: int) -> int:
    if limit is None:
        return default
    if limit <= 0:
        raise InvalidParameter.invalid("limit")
    return min(limit, maximum)


def account_trades(
    records: list[TradeRecord], user_id: int, market: MarketSpec, order_id: int | None
) -> list[Trade]:
    """``myTrades`` rows from one account's point of view (of ``order_id`` if given); a trade of
    the account with itself is two rows, the buyer's and the seller's."""
    out: list[Trade] = []
    for t in records:
        for is_buyer in (True, False):
            uid = t.buyer_user_id if is_buyer else t.seller_user_id
            oid = t.buyer_order_id if is_buyer else t.seller_order_id
            if uid != user_id or (order_id is not None and oid != order_id):
                continue
            out.append(
                Trade(
                    id=t.id,
                    order_id=oid,
                    symbol=t.symbol,
                    price=t.price,
                    qty=t.qty,
                    quote_qty=t.quote_qty,
                    commission=t.buyer_fee if is_buyer else t.seller_fee,
                    commission_asset=market.base if is_buyer else market.quote,
                    time=t.time,
                    is_buyer=is_buyer,
                    is_maker=t.is_buyer_maker == is_buyer,
                )
            )
    return out
