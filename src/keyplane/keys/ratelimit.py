"""Rate limits by request weight in fixed one-minute windows, per key and per IP, and IP bans.

Weight is counted as Binance counts it. Over the limit, an IP is told 429 until its window ends;
an IP that keeps sending while told 429 (more than ``ban_after`` requests in one window) is banned,
418, for a time that doubles with each repeat offence, from 2 minutes up to 3 days (Binance's
range). ``standing`` is the cheap check the pipeline makes before any expensive work: it does no
I/O. In memory it is the whole truth; with Redis the counters, strikes and bans are shared by every
instance, and ``standing`` is what this instance last learnt of them (each spend and each strike
brings back the IP's ban, in the round trip it makes anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

WINDOW_MS = 60_000


def retry_after_s(now_ms: int) -> int:
    """Seconds until the current window ends, at least 1."""
    return max(1, (WINDOW_MS - now_ms % WINDOW_MS + 999) // 1000)


def window_end(now_ms: int) -> int:
    return now_ms - now_ms % WINDOW_MS + WINDOW_MS


@dataclass(frozen=True, slots=True)
class Block:
    """A bucket refused until ``until_ms``: over its window's limit (429), or banned (418)."""

    until_ms: int
    banned: bool


@dataclass(frozen=True)
class BanPolicy:
    ban_after: int = 20
    first_ban_ms: int = 120_000
    max_ban_ms: int = 259_200_000

    def ban_ms(self, offence: int) -> int:
        """The ``offence``-th ban (1, 2, ...) lasts twice as long as the one before, up to the maximum."""
        return min(self.first_ban_ms << min(offence - 1, 40), self.max_ban_ms)


class RateLimiter(Protocol):
    async def spend(self, buckets: tuple[str, ...], weight: int, now_ms: int) -> list[int]:
        """Add ``weight`` to each bucket in the current window; return each bucket's total."""
        ...

    def standing(self, bucket: str, now_ms: int) -> Block | None:
        """The bucket's block, if any, as this process knows it; no I/O."""
        ...

    def over_limit(self, bucket: str, now_ms: int) -> Block:
        """Note that the bucket went over its limit: refused until its window ends."""
        ...

    async def strike(self, bucket: str, now_ms: int) -> Block:
        """Count a request sent while refused; the one too many bans the bucket."""
        ...


class _KnownBlocks:
    """The blocks this process knows of, dropped once they end."""

    def __init__(self) -> None:
        self._blocks: dict[str, Block] = {}

    def standing(self, bucket: str, now_ms: int) -> Block | None:
        block = self._blocks.get(bucket)
        if block is not None and block.until_ms <= now_ms:
            del self._blocks[bucket]
            return None
        return block

    def over_limit(self, bucket: str, now_ms: int) -> Block:
        current = self.standing(bucket, now_ms)
        if current is not None and current.banned:
            return current
        block = self._blocks[bucket] = Block(window_end(now_ms), False)
        return block

    def _learn_ban(self, bucket: str, until_ms: int) -> Block:
        block = self._blocks[bucket] = Block(until_ms, True)
        return block

    def _forget_ended(self, now_ms: int) -> None:
        self._blocks = {k: b for k, b in self._blocks.items() if b.until_ms > now_ms}


class MemoryRateLimiter(_KnownBlocks):
    def __init__(self, policy: BanPolicy = BanPolicy()) -> None:
        super().__init__()
        self._policy = policy
        self._counts: dict[str, tuple[int, int]] = {}
        self._window = 0
        self._strikes: dict[str, tuple[int, int]] = {}
        self._offences: dict[str, tuple[int, int]] = {}  # bucket -> (bans so far, forgotten at)

    async def spend(self, buckets: tuple[str, ...], weight: int, now_ms: int) -> list[int]:
        start = now_ms - now_ms % WINDOW_MS
        counts = self._counts
        if start != self._window:
            self._window = start
            self._new_window(start)
            counts = self._counts
        used = []
        for bucket in buckets:
            entry = counts.get(bucket)
            total = weight if entry is None or entry[0] != start else entry[1] + weight
            counts[bucket] = (start, total)
            used.append(total)
        return used

    def _new_window(self, start: int) -> None:
        if len(self._counts) > 100_000:
            self._counts = {k: v for k, v in self._counts.items() if v[0] == start}
        self._strikes = {k: v for k, v in self._strikes.items() if v[0] == start}
        self._forget_ended(start)
        if len(self._offences) > 10_000:
            self._offences = {k: v for k, v in self._offences.items() if v[1] > start}

    async def strike(self, bucket: str, now_ms: int) -> Block:
        current = self.standing(bucket, now_ms)
        if current is not None and current.banned:
            return current
        start = now_ms - now_ms % WINDOW_MS
        prior = self._strikes.get(bucket)
        count = prior[1] + 1 if prior is not None and prior[0] == start else 1
        if count <= self._policy.ban_after:
            self._strikes[bucket] = (start, count)
            return current if current is not None else self.over_limit(bucket, now_ms)
        self._strikes.pop(bucket, None)
        bans, forgotten_at = self._offences.get(bucket, (0, 0))
        offence = bans + 1 if forgotten_at > now_ms else 1
        duration = self._policy.ban_ms(offence)
        self._offences[bucket] = (offence, now_ms + duration + self._policy.max_ban_ms)
        return self._learn_ban(bucket, now_ms + duration)


# KEYS: strikes in this window, ban, offences. ARGV: now, strikes' lifetime, ban_after, first, max.
# Returns {1, banned until} or {0, strikes so far}. Offences are forgotten max_ban after a ban ends.
STRIKE = """
local now = tonumber(ARGV[1])
local banned = redis.call('GET', KEYS[2])
if banned and tonumber(banned) > now then return {1, banned} end
local strikes = redis.call('INCR', KEYS[1])
if strikes == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if strikes <= tonumber(ARGV[3]) then return {0, strikes} end
redis.call('DEL', KEYS[1])
local offence = redis.call('INCR', KEYS[3])
local duration = math.min(tonumber(ARGV[4]) * 2 ^ (offence - 1), tonumber(ARGV[5]))
local until_ms = string.format('%d', now + duration)
redis.call('SET', KEYS[2], until_ms, 'PX', string.format('%d', duration))
redis.call('PEXPIRE', KEYS[3], string.format('%d', duration + tonumber(ARGV[5])))
return {1, until_ms}
"""


class RedisRateLimiter(_KnownBlocks):
    """Counters, strikes and bans in Redis, shared by instances; one round trip per call."""

    def __init__(self, redis: Redis, prefix: str = "kp:rl:", policy: BanPolicy = BanPolicy()) -> None:
        super().__init__()
        self._redis = redis
        self._prefix = prefix
        self._policy = policy
        self._strike = redis.register_script(STRIKE)
        self._window = 0

    async def spend(self, buckets: tuple[str, ...], weight: int, now_ms: int) -> list[int]:
        start = now_ms - now_ms % WINDOW_MS
        if start != self._window:
            self._window = start
            self._forget_ended(now_ms)
        async with self._redis.pipeline(transaction=False) as pipe:
            for bucket in buckets:
                key = f"{self._prefix}{bucket}:{start}"
                pipe.incrby(key, weight)
                pipe.pexpire(key, WINDOW_MS + 5_000)
            for bucket in buckets:
                pipe.get(f"{self._prefix}ban:{bucket}")
            results = await pipe.execute()
        count = len(buckets)
        for bucket, until in zip(buckets, results[2 * count :]):
            if until is not None and int(until) > now_ms:
                self._learn_ban(bucket, int(until))
        return [int(value) for value in results[: 2 * count : 2]]

    async def strike(self, bucket: str, now_ms: int) -> Block:
        current = self.standing(bucket, now_ms)
        if current is not None and current.banned:
            return current
        start = now_ms - now_ms % WINDOW_MS
        policy = self._policy
        banned, value = await self._strike(
            keys=[
                f"{self._prefix}strikes:{bucket}:{start}",
                f"{self._prefix}ban:{bucket}",
                f"{self._prefix}offences:{bucket}",
            ],
            args=[now_ms, WINDOW_MS + 5_000, policy.ban_after, policy.first_ban_ms, policy.max_ban_ms],
        )
        if int(banned):
            return self._learn_ban(bucket, int(value))
        return current if current is not None else self.over_limit(bucket, now_ms)
