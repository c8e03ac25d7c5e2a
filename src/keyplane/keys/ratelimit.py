"""Rate limits by request weight in fixed one-minute windows, per key and per IP, as Binance counts.

In memory for one instance; Redis (``INCRBY`` + ``PEXPIRE`` in one pipeline) when several instances
must share one budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

WINDOW_MS = 60_000


@dataclass(frozen=True)
class Usage:
    used: int
    retry_after_s: int


class RateLimiter(Protocol):
    async def spend(self, bucket: str, weight: int, now_ms: int) -> Usage:
        """Add ``weight`` to ``bucket`` in the current window; return the total used in it."""
        ...


def _window(now_ms: int) -> tuple[int, int]:
    start = now_ms - now_ms % WINDOW_MS
    retry_after = max(1, (start + WINDOW_MS - now_ms + 999) // 1000)
    return start, retry_after


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}

    async def spend(self, bucket: str, weight: int, now_ms: int) -> Usage:
        start, retry_after = _window(now_ms)
        window, used = self._counts.get(bucket, (start, 0))
        if window != start:
            if len(self._counts) > 100_000:
                self._counts = {k: v for k, v in self._counts.items() if v[0] == start}
            used = 0
        used += weight
        self._counts[bucket] = (start, used)
        return Usage(used, retry_after)


class RedisRateLimiter:
    def __init__(self, redis: Redis, prefix: str = "kp:rl:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def spend(self, bucket: str, weight: int, now_ms: int) -> Usage:
        start, retry_after = _window(now_ms)
        key = f"{self._prefix}{bucket}:{start}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(key, weight)
            pipe.pexpire(key, WINDOW_MS + 5_000)
            used, _ = await pipe.execute()
        return Usage(int(used), retry_after)
