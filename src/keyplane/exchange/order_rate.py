"""Binance's ORDERS rate limits: new orders per account in ten seconds and in one (UTC) day.

Why in the exchange and not beside the request weights: every new order of every instance goes
through the one writer, in order, so the writer counts an account's orders exactly, whichever
gateway they came through, without a round trip. Windows are fixed (they start on multiples of
ten seconds and at midnight UTC), as Binance's. The counts live in memory: a writer that takes over
starts from zero, so an account may place at most one window's worth more across a takeover.
Every order of a list counts, and the new order of a cancel-replace; refused orders do not.
"""

from __future__ import annotations

from dataclasses import dataclass

from keyplane.exchange.errors import ExchangeError

TEN_SECONDS_MS, DAY_MS = 10_000, 86_400_000


class TooManyOrders(ExchangeError):
    """-1015, HTTP 429 (without Retry-After, as Binance answers it)."""

    code = -1015
    status = 429


@dataclass(frozen=True, slots=True)
class OrderRateLimits:
    """0 turns a window's limit off."""

    per_ten_seconds: int = 100
    per_day: int = 200_000


UNLIMITED = OrderRateLimits(0, 0)


class _Windows:
    __slots__ = ("day", "day_count", "ten", "ten_count")

    def __init__(self) -> None:
        self.ten = self.ten_count = self.day = self.day_count = 0

    def roll(self, now: int) -> None:
        ten, day = now - now % TEN_SECONDS_MS, now - now % DAY_MS
        if ten != self.ten:
            self.ten, self.ten_count = ten, 0
        if day != self.day:
            self.day, self.day_count = day, 0


class OrderCounter:
    def __init__(self, limits: OrderRateLimits) -> None:
        self.limits = limits
        self.counting = bool(limits.per_ten_seconds or limits.per_day)  # callers skip it when not
        self._accounts: dict[int, _Windows] = {}
        self._day = 0
        self._exempt: set[int] = set()

    def exempt(self, *user_ids: int) -> None:
        """Accounts the operator runs in-process (the demo's market maker and taker quote every
        market each round): their orders are not counted, as an exchange's own liquidity."""
        self._exempt.update(user_ids)

    def check(self, user_id: int, orders: int, now: int) -> None:
        """Raise :class:`TooManyOrders` if ``orders`` more now would pass a window's limit."""
        limits = self.limits
        if not self.counting:
            return
        windows = self._accounts.get(user_id)
        if windows is None:  # nothing counted yet (exempt accounts never are)
            return
        windows.roll(now)
        if limits.per_ten_seconds and windows.ten_count + orders > limits.per_ten_seconds:
            raise TooManyOrders(_message(limits.per_ten_seconds, "10 SECOND"))
        if limits.per_day and windows.day_count + orders > limits.per_day:
            raise TooManyOrders(_message(limits.per_day, "1 DAY"))

    def add(self, user_id: int, orders: int, now: int) -> None:
        """Count orders placed (after :meth:`check` let them through)."""
        if not self.counting or user_id in self._exempt:
            return
        if now - now % DAY_MS != self._day:  # a new day: yesterday's accounts are forgotten
            self._day, self._accounts = now - now % DAY_MS, {}
        windows = self._accounts.get(user_id)
        if windows is None:
            windows = self._accounts[user_id] = _Windows()
        windows.roll(now)
        windows.ten_count += orders
        windows.day_count += orders

    def counts(self, user_id: int, now: int) -> tuple[int, int] | None:
        """The account's orders in the current ten seconds and day (Binance's X-MBX-ORDER-COUNT-10S
        and -1D headers); None while nothing is counted for it."""
        if not self.counting or user_id in self._exempt:
            return None
        windows = self._accounts.get(user_id)
        if windows is None:
            return 0, 0
        windows.roll(now)
        return windows.ten_count, windows.day_count


def _message(limit: int, interval: str) -> str:
    return f"Too many new orders; current limit is {limit} orders per {interval}."
