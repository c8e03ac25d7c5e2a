"""Market and asset configuration and Binance-style filters.

A market is a table of numbers (``MarketSpec``); filters are checked with ``Decimal`` only.
To add a market, pass a ``MarketSpec`` to ``Exchange.add_markets`` (stored by
:func:`keyplane.store.exchange_repo.save_markets`); the DB is the record.

A market must let the engine stay exact (:func:`check_exact`): tick and step decimals together fit
the quote asset's precision, so every price x quantity is an amount the ledger holds as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum

from keyplane.exchange.amounts import floor_div
from keyplane.exchange.errors import FilterFailure, InvalidParameter
from keyplane.store.types import MONEY_SCALE, decimal_places

D = Decimal
NIL = Decimal(0)
DEFAULT_FEE = Decimal("0.001")


class StpMode(str, Enum):
    NONE = "NONE"
    EXPIRE_TAKER = "EXPIRE_TAKER"
    EXPIRE_MAKER = "EXPIRE_MAKER"
    EXPIRE_BOTH = "EXPIRE_BOTH"


@dataclass(kw_only=True, frozen=True, slots=True)
class AssetSpec:
    """An asset: ``precision`` is the decimals the ledger holds it to."""

    code: str
    name: str
    precision: int = 8


@dataclass(kw_only=True, frozen=True, slots=True)
class MarketSpec:
    """A spot market and its filters; a filter whose parameter is 0 is disabled."""

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    max_notional: Decimal
    maker_fee: Decimal = DEFAULT_FEE
    taker_fee: Decimal = DEFAULT_FEE
    min_price: Decimal = NIL
    max_price: Decimal = NIL
    stp_mode: StpMode = StpMode.EXPIRE_MAKER
    status: str = "TRADING"

    def check_price(self, price: Decimal) -> None:
        """PRICE_FILTER: a rule whose parameter is 0 is disabled, as on Binance."""
        if price <= 0:
            raise FilterFailure("PRICE_FILTER")
        if self.min_price and price < self.min_price:
            raise FilterFailure("PRICE_FILTER")
        if self.max_price and price > self.max_price:
            raise FilterFailure("PRICE_FILTER")
        if self.tick_size and price % self.tick_size != 0:
            raise FilterFailure("PRICE_FILTER")

    def check_qty(self, qty: Decimal) -> None:
        """LOT_SIZE."""
        if qty < self.min_qty or qty > self.max_qty or qty <= 0:
            raise FilterFailure("LOT_SIZE")
        if self.step_size and qty % self.step_size != 0:
            raise FilterFailure("LOT_SIZE")

    def check_notional(self, notional: Decimal) -> None:
        """NOTIONAL (min and max)."""
        if notional < self.min_notional or (self.max_notional and notional > self.max_notional):
            raise FilterFailure("NOTIONAL")

    def floor_qty(self, qty: Decimal) -> Decimal:
        """Round a quantity down to the lot step."""
        if qty <= 0:
            return D(0)
        if not self.step_size:
            return qty
        return (qty // self.step_size) * self.step_size

    def lots(self, amount: Decimal, price: Decimal) -> Decimal:
        """The largest quantity on the lot step whose cost at ``price`` is at most ``amount`` of quote."""
        return floor_div(amount, price, self.step_size or Decimal(1).scaleb(-MONEY_SCALE))


def check_exact(market: MarketSpec, assets: dict[str, AssetSpec]) -> None:
    """Refuse a market (or asset) whose prices, quantities or their products the ledger cannot hold."""
    base, quote = assets.get(market.base), assets.get(market.quote)
    if base is None or quote is None:
        raise InvalidParameter.invalid("asset")
    for asset in (base, quote):
        if not 0 <= asset.precision <= MONEY_SCALE:
            raise InvalidParameter.invalid("precision")
    tick, step = market.tick_size, market.step_size
    if tick <= 0 or step <= 0:
        raise InvalidParameter.invalid("tickSize" if tick <= 0 else "stepSize")
    if decimal_places(step) > base.precision:
        raise InvalidParameter.too_precise("stepSize")
    if decimal_places(tick) + decimal_places(step) > quote.precision:
        raise InvalidParameter.too_precise("tickSize")


def exact_lots(market: MarketSpec, assets: dict[str, AssetSpec]) -> MarketSpec:
    """A market saved before :func:`check_exact` existed, with a step coarse enough to pass it.

    ETHBTC was seeded with tick 0.00001 and step 0.0001, whose products need 9 decimals of an
    8-decimal BTC; such a market now trades in lots of 0.001. Markets that pass are returned as is.
    """
    base, quote = assets.get(market.base), assets.get(market.quote)
    if base is None or quote is None or market.tick_size <= 0 or market.step_size <= 0:
        return market
    room = min(base.precision, quote.precision - decimal_places(market.tick_size))
    excess = decimal_places(market.step_size) - room
    if room < 0 or excess <= 0:
        return market
    step = market.step_size.scaleb(excess)
    min_qty = -(-market.min_qty // step) * step
    return replace(
        market, step_size=step, min_qty=max(min_qty, step), max_qty=(market.max_qty // step) * step
    )


def default_assets() -> list[AssetSpec]:
    return [
        AssetSpec(code="BTC", name="Bitcoin", precision=8),
        AssetSpec(code="ETH", name="Ethereum", precision=8),
        AssetSpec(code="SOL", name="Solana", precision=8),
        AssetSpec(code="USDT", name="TetherUS", precision=8),
    ]


def default_markets() -> list[MarketSpec]:
    """BTCUSDT, ETHUSDT, ETHBTC, SOLUSDT with Binance-like filters and 0.1% fees."""
    return [
        MarketSpec(
            symbol="BTCUSDT",
            base="BTC",
            quote="USDT",
            tick_size=D("0.01"),
            step_size=D("0.00001"),
            min_qty=D("0.00001"),
            max_qty=D("9000"),
            min_notional=D("5"),
            max_notional=D("9000000"),
            min_price=D("0.01"),
            max_price=D("1000000"),
        ),
        MarketSpec(
            symbol="ETHUSDT",
            base="ETH",
            quote="USDT",
            tick_size=D("0.01"),
            step_size=D("0.0001"),
            min_qty=D("0.0001"),
            max_qty=D("9000"),
            min_notional=D("5"),
            max_notional=D("9000000"),
            min_price=D("0.01"),
            max_price=D("1000000"),
        ),
        MarketSpec(
            symbol="ETHBTC",
            base="ETH",
            quote="BTC",
            tick_size=D("0.00001"),
            step_size=D("0.001"),  # tick x step decimals must fit BTC's 8 (check_exact)
            min_qty=D("0.001"),
            max_qty=D("100000"),
            min_notional=D("0.0001"),
            max_notional=D("9000000"),
            min_price=D("0.00001"),
            max_price=D("922327"),
        ),
        MarketSpec(
            symbol="SOLUSDT",
            base="SOL",
            quote="USDT",
            tick_size=D("0.01"),
            step_size=D("0.001"),
            min_qty=D("0.001"),
            max_qty=D("90000"),
            min_notional=D("5"),
            max_notional=D("9000000"),
            min_price=D("0.01"),
            max_price=D("100000"),
        ),
    ]
