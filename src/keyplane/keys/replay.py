"""Replay guard: a state-changing request whose signature was seen within its window is refused.

A signature covers the timestamp, so a signature only needs remembering until its request would
fail the timestamp check anyway (timestamp + recvWindow). In memory for one instance; Redis
(``SET NX PX``) when several instances share the traffic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis


class ReplayGuard(Protocol):
    async def first_use(self, fingerprint: str, ttl_ms: int) -> bool:
        """Record ``fingerprint``; True the first time within ``ttl_ms``, False for a replay."""
        ...


class MemoryReplayGuard:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._next_prune = 0.0

    async def first_use(self, fingerprint: str, ttl_ms: int) -> bool:
        now = self._clock()
        if now >= self._next_prune:
            self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
            self._next_prune = now + 5.0
        expiry = self._seen.get(fingerprint)
        if expiry is not None and expiry > now:
            return False
        self._seen[fingerprint] = now + ttl_ms / 1000.0
        return True


class RedisReplayGuard:
    def __init__(self, redis: Redis, prefix: str = "kp:replay:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def first_use(self, fingerprint: str, ttl_ms: int) -> bool:
        stored = await self._redis.set(self._prefix + fingerprint, b"1", nx=True, px=max(ttl_ms, 1))
        return bool(stored)
