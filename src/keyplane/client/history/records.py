"""One history record, the shape every exporter and the gains calculator read.

A record is a movement of value seen from the account: what left (``sent``), what arrived
(``received``) and the fee, each an amount and an asset. A buy of 0.1 BTC for 6,000 USDT sends
6,000 USDT and receives 0.1 BTC; a deposit only receives; a withdrawal only sends (its network fee
is the fee). Amounts are ``Decimal`` and never negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum


class Kind(str, Enum):
    TRADE = "trade"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    FEE = "fee"


@dataclass(kw_only=True, frozen=True, slots=True)
class Record:
    """A trade, deposit, withdrawal or stand-alone fee of one account."""

    account: str
    exchange: str
    kind: Kind
    time_ms: int
    ref: str  # the exchange's own id: unique per account and kind
    sent_amount: Decimal | None = None
    sent_asset: str | None = None
    received_amount: Decimal | None = None
    received_asset: str | None = None
    fee_amount: Decimal | None = None
    fee_asset: str | None = None
    symbol: str | None = None  # trades: ccxt's unified symbol, e.g. BTC/USDT
    side: str | None = None  # trades: buy or sell
    order_ref: str | None = None
    txid: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes a record unique: exporting pages twice must not count it twice."""
        return (self.account, self.kind.value, self.ref)

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.time_ms / 1000, tz=UTC)

    def __post_init__(self) -> None:
        for amount in (self.sent_amount, self.received_amount, self.fee_amount):
            if amount is not None and amount < 0:
                raise ValueError("history amounts are never negative")


def sort_key(record: Record) -> tuple[int, str, str, str]:
    return (record.time_ms, record.account, record.kind.value, record.ref)
