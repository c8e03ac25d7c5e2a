"""Daily account snapshots (Binance's ``GET /sapi/v1/accountSnapshot``): each day's balances at its
last millisecond, rebuilt from the ledger's entries, and their value in BTC at that day's prices.

Why from entries: the ledger is append-only and every entry has its time, so the balance of any
past moment is the sum of the entries up to it; nothing has to be stored each midnight (and a
server that was down at midnight still answers that day).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from keyplane.exchange.ledger import Bucket

DAY_MS = 86_400_000
MIN_DAYS, MAX_DAYS = 7, 30
ZERO = Decimal(0)
BTC_PLACES = Decimal("1e-8")


@dataclass(kw_only=True, frozen=True, slots=True)
class Snapshot:
    """One day's closing balances (asset -> (free, locked), held assets only) and their BTC value."""

    update_time: int  # the day's last millisecond
    balances: dict[str, tuple[Decimal, Decimal]]
    total_btc: Decimal


def day_ends(start: int | None, end: int, limit: int) -> list[int]:
    """The last milliseconds of the days that ended by ``end`` and not before ``start``: the first
    ``limit`` of them from ``start``, or the last ``limit`` when no start is given."""
    last = (end + 1) // DAY_MS - 1  # the last day whose end is at or before ``end``
    first = last - limit + 1 if start is None else start // DAY_MS  # a day ends at or after start
    return [(day + 1) * DAY_MS - 1 for day in range(max(first, 0), min(first + limit, last + 1))]


def closing_balances(
    sums: Iterable[tuple[str, str, int, Decimal]], ends: list[int]
) -> list[dict[str, tuple[Decimal, Decimal]]]:
    """Each of ``ends``' balances from per-day entry sums (asset, bucket, day number, amount)."""
    by_day: dict[int, list[tuple[str, str, Decimal]]] = defaultdict(list)
    for asset, bucket, day, amount in sums:
        by_day[day].append((asset, bucket, amount))
    held: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    out: list[dict[str, tuple[Decimal, Decimal]]] = []
    days = sorted(by_day)
    i = 0
    for end in ends:
        while i < len(days) and days[i] <= end // DAY_MS:
            for asset, bucket, amount in by_day[days[i]]:
                held[asset][0 if bucket == Bucket.FREE.value else 1] += amount
            i += 1
        out.append({a: (f, lk) for a, (f, lk) in sorted(held.items()) if f or lk})
    return out


def btc_value(
    balances: dict[str, tuple[Decimal, Decimal]], price_in_btc: Callable[[str], Decimal]
) -> Decimal:
    """The balances' worth in BTC (an asset without a price counts nothing), to 8 decimals."""
    total = sum(((free + locked) * price_in_btc(asset) for asset, (free, locked) in balances.items()), ZERO)
    return total.quantize(BTC_PLACES)


def btc_pricer(last_price: Callable[[str], Decimal | None]) -> Callable[[str], Decimal]:
    """An asset's price in BTC from markets' last prices: BTC itself, a market against BTC (either
    way round), or through USDT; 0 for an asset none of these prices."""
    cache: dict[str, Decimal] = {}

    def price(asset: str) -> Decimal:
        if asset not in cache:
            cache[asset] = _in_btc(asset, last_price)
        return cache[asset]

    return price


def _in_btc(asset: str, last_price: Callable[[str], Decimal | None]) -> Decimal:
    if asset == "BTC":
        return Decimal(1)
    direct = last_price(asset + "BTC")
    if direct:
        return direct
    inverse = last_price("BTC" + asset)
    if inverse:
        return 1 / inverse
    in_usdt, btc_in_usdt = last_price(asset + "USDT"), last_price("BTCUSDT")
    return in_usdt / btc_in_usdt if in_usdt and btc_in_usdt else ZERO
