"""Rate limits by request weight in fixed one-minute windows, per key and per IP, as Binance counts.

In memory for one instance; Redis (``INCRBY`` + ``PEXPIRE`` in one pipeline) when several instances
must share one budget. One call spends on several buckets (key and IP) at once: one round trip.
"""

from __future__ import annotations

from typing import Protocol

from redis.asyncio import Redis

WINDOW_MS = 60_000


def retry_after_s(now_ms: int) -> int:
    """Seconds until the current window ends, at least 1."""
    return max(1, (WINDOW_MS - now_ms % WINDOW_MS + 999) // 1000)


class RateLimiter(Protocol):
    async def spend(self, buckets: tuple[str, ...], weight: int, now_ms: int) -> list[int]:
        """Add ``weight`` to each bucket in the current window; return each bucket's total."""
        ...


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}
        self._window = 0

    async def spend(self, buckets: tuple[str, ...], weight: int, now_ms: int) -> list[int]:
        start = now_ms - now_ms % WINDOW_MS
        counts = self._counts
        if start != self._window:
            self._window = start
            if len(counts) > 100_000:
                self._counts = counts = {k: v for k, v in counts.items() if v[0] == start}
        used = []
        for bucket in buckets:
            entry = counts.get(bucket)
            total = weight if entry is None or entry[0] != start else entry[1] + weight
            counts[bucket] = (start, total)
            used.append(total)
        return used


class RedisRateLimiter:
    def __init__(self, redis: Redis, prefix: str = "kp:rl:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def spend(self, buckets: tuple[str, ...], weight: int, now_ms: int) -> list[int]:
        start = now_ms - now_ms % WINDOW_MS
        async with self._redis.pipeline(transaction=False) as pipe:
            for bucket in buckets:
                key = f"{self._prefix}{bucket}:{start}"
                pipe.incrby(key, weight)
                pipe.pexpire(key, WINDOW_MS + 5_000)
            results = await pipe.execute()
        return [int(value) for value in results[::2]]
