"""The Redis replay guard and rate limiter behave as the in-memory ones, shared across instances."""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import Redis

from keyplane.keys.ratelimit import MemoryRateLimiter, RedisRateLimiter
from keyplane.keys.replay import MemoryReplayGuard, RedisReplayGuard


def test_replay_guards_refuse_the_second_use_within_the_window(redis_url: str) -> None:
    async def scenario() -> list[bool]:
        redis = Redis.from_url(redis_url)
        prefix = f"kp:test:{uuid.uuid4().hex}:"
        first, second = RedisReplayGuard(redis, prefix), RedisReplayGuard(redis, prefix)  # two instances
        memory = MemoryReplayGuard()
        results = [
            await first.first_use("sig", 5000),
            await second.first_use("sig", 5000),
            await memory.first_use("sig", 5000),
            await memory.first_use("sig", 5000),
            await first.first_use("short", 50),
        ]
        await asyncio.sleep(0.2)
        results.append(await second.first_use("short", 50))
        await redis.aclose()
        return results

    assert asyncio.run(scenario()) == [True, False, True, False, True, True]


def test_rate_limiters_share_one_budget_per_window(redis_url: str) -> None:
    async def scenario() -> tuple[list[int], list[int], list[int]]:
        redis = Redis.from_url(redis_url)
        prefix = f"kp:test:{uuid.uuid4().hex}:"
        one, two = RedisRateLimiter(redis, prefix), RedisRateLimiter(redis, prefix)
        now = 1_800_000_000_000
        await one.spend(("key:a", "ip:x"), 5, now)
        shared = await two.spend(("key:a", "ip:y"), 7, now)
        next_window = await one.spend(("key:a",), 1, now + 60_000)
        memory = MemoryRateLimiter()
        await memory.spend(("key:a",), 5, now)
        local = await memory.spend(("key:a", "ip:x"), 7, now)
        await redis.aclose()
        return shared, next_window, local

    shared, next_window, local = asyncio.run(scenario())
    assert shared == [12, 7] and next_window == [1] and local == [12, 7]
