"""What an asset was worth, in the report currency, at a moment.

The engine asks a ``PriceSource``. ``HistoryPrices`` answers from the history's own trades against
the report currency (the nearest one in time, within ``max_gap_ms``) and otherwise asks a fallback,
such as ``keyplane.client.gains.candles.CandlePrices`` (the exchange's own candles). ``TablePrices``
answers from a fixed table, for worked examples.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol

from keyplane.client.history.records import Kind, Record

DAY_MS = 86_400_000


class PriceSource(Protocol):
    def price(self, asset: str, at_ms: int) -> Decimal | None: ...


class TablePrices:
    """Fixed prices per asset, valid at any time: ``{"ETH": Decimal("3000")}``."""

    def __init__(self, table: dict[str, Decimal]) -> None:
        self.table = dict(table)

    def price(self, asset: str, at_ms: int) -> Decimal | None:
        return self.table.get(asset)


class HistoryPrices:
    """Prices implied by the history's trades of an asset directly against the report currency."""

    def __init__(
        self,
        records: Iterable[Record],
        report: str,
        fallback: PriceSource | None = None,
        max_gap_ms: int = DAY_MS,
    ) -> None:
        self.fallback = fallback
        self.max_gap_ms = max_gap_ms
        points: dict[str, list[tuple[int, Decimal]]] = {}
        for r in records:
            if r.kind is not Kind.TRADE or not r.sent_amount or not r.received_amount:
                continue
            if r.sent_asset == report and r.received_asset:
                points.setdefault(r.received_asset, []).append((r.time_ms, r.sent_amount / r.received_amount))
            elif r.received_asset == report and r.sent_asset:
                points.setdefault(r.sent_asset, []).append((r.time_ms, r.received_amount / r.sent_amount))
        self.points = {asset: sorted(found) for asset, found in points.items()}

    def price(self, asset: str, at_ms: int) -> Decimal | None:
        found = self.points.get(asset)
        if found:
            i = bisect.bisect_left(found, (at_ms, Decimal(0)))
            near = [found[j] for j in (i - 1, i) if 0 <= j < len(found)]
            best = min(near, key=lambda point: abs(point[0] - at_ms))
            if abs(best[0] - at_ms) <= self.max_gap_ms:
                return best[1]
        return self.fallback.price(asset, at_ms) if self.fallback is not None else None
