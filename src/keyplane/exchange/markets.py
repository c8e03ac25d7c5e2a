"""Market and asset configuration, Binance-style filters, and their rows in the database.

A market is a table of numbers (``MarketSpec``); filters are checked with ``Decimal`` only.
To add a market, insert a ``MarketSpec`` with :func:`save_markets`; the DB is the record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import Enum

from sqlalchemy import Connection, select

from keyplane.exchange.errors import FilterFailure
from keyplane.store.exchange_tables import ex_assets, ex_markets

D = Decimal
NIL = Decimal(0)
DEFAULT_FEE = Decimal("0.001")


class StpMode(str, Enum):
    NONE = "NONE"
    EXPIRE_TAKER = "EXPIRE_TAKER"
    EXPIRE_MAKER = "EXPIRE_MAKER"
    EXPIRE_BOTH = "EXPIRE_BOTH"


@dataclass(frozen=True)
class AssetSpec:
    code: str
    name: str
    precision: int = 8
    withdraw_fee: Decimal = NIL
    withdraw_min: Decimal = NIL


@dataclass(frozen=True)
class MarketSpec:
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


def default_assets() -> list[AssetSpec]:
    return [
        AssetSpec("BTC", "Bitcoin", 8, D("0.0002"), D("0.001")),
        AssetSpec("ETH", "Ethereum", 8, D("0.002"), D("0.01")),
        AssetSpec("SOL", "Solana", 8, D("0.01"), D("0.1")),
        AssetSpec("USDT", "TetherUS", 8, D("1"), D("10")),
    ]


def default_markets() -> list[MarketSpec]:
    """BTCUSDT, ETHUSDT, ETHBTC, SOLUSDT with Binance-like filters and 0.1% fees."""
    return [
        MarketSpec(
            "BTCUSDT",
            "BTC",
            "USDT",
            D("0.01"),
            D("0.00001"),
            D("0.00001"),
            D("9000"),
            D("5"),
            D("9000000"),
            min_price=D("0.01"),
            max_price=D("1000000"),
        ),
        MarketSpec(
            "ETHUSDT",
            "ETH",
            "USDT",
            D("0.01"),
            D("0.0001"),
            D("0.0001"),
            D("9000"),
            D("5"),
            D("9000000"),
            min_price=D("0.01"),
            max_price=D("1000000"),
        ),
        MarketSpec(
            "ETHBTC",
            "ETH",
            "BTC",
            D("0.00001"),
            D("0.0001"),
            D("0.0001"),
            D("100000"),
            D("0.0001"),
            D("9000000"),
            min_price=D("0.00001"),
            max_price=D("922327"),
        ),
        MarketSpec(
            "SOLUSDT",
            "SOL",
            "USDT",
            D("0.01"),
            D("0.001"),
            D("0.001"),
            D("90000"),
            D("5"),
            D("9000000"),
            min_price=D("0.01"),
            max_price=D("100000"),
        ),
    ]


def save_assets(conn: Connection, assets: list[AssetSpec]) -> None:
    if assets:
        conn.execute(ex_assets.insert(), [asdict(a) for a in assets])


def save_markets(conn: Connection, markets: list[MarketSpec]) -> None:
    rows = []
    for m in markets:
        row = asdict(m)
        row["stp_mode"] = m.stp_mode.value
        rows.append(row)
    if rows:
        conn.execute(ex_markets.insert(), rows)


def load_assets(conn: Connection) -> dict[str, AssetSpec]:
    rows = conn.execute(select(ex_assets).order_by(ex_assets.c.code)).mappings()
    return {r["code"]: AssetSpec(**dict(r)) for r in rows}


def load_markets(conn: Connection) -> dict[str, MarketSpec]:
    out: dict[str, MarketSpec] = {}
    for r in conn.execute(select(ex_markets).order_by(ex_markets.c.symbol)).mappings():
        row = dict(r)
        row["stp_mode"] = StpMode(row["stp_mode"])
        out[row["symbol"]] = MarketSpec(**row)
    return out
