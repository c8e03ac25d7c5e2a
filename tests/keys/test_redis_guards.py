"""The Redis replay guard and rate limiter behave as the in-memory ones, shared across instances."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from keyplane.keys.ratelimit import BanPolicy, Block, MemoryRateLimiter, RateLimiter, RedisRateLimiter
from keyplane.keys.replay import MemoryReplayGuard, RedisReplayGuard


def test_replay_guards_remember_the_first_binding_within_the_window(redis_url: str) -> None:
    async def scenario() -> list[str | None]:
        redis = Redis.from_url(redis_url)
        prefix = f"kp:test:{uuid.uuid4().hex}:"
        first, second = RedisReplayGuard(redis, prefix), RedisReplayGuard(redis, prefix)  # two instances
        memory = MemoryReplayGuard()
        results = [
            await first.remember("sig", "GET /a", 5000),
            await second.remember("sig", "DELETE /a", 5000),
            await memory.remember("sig", "GET /a", 5000),
            await memory.remember("sig", "DELETE /a", 5000),
            await first.remember("short", "POST /b", 50),
        ]
        await asyncio.sleep(0.2)
        results.append(await second.remember("short", "POST /b", 50))
        await redis.aclose()
        return results

    assert asyncio.run(scenario()) == [None, "GET /a", None, "GET /a", None, None]


def test_a_memory_guard_forgets_expired_signatures_and_says_since_when_it_remembers() -> None:
    now = [100.0]
    guard = MemoryReplayGuard(clock=lambda: now[0], started_ms=1234)
    assert guard.remembers_since_ms == 1234
    assert RedisReplayGuard.remembers_since_ms == 0

    async def scenario() -> list[str | None]:
        seen = [await guard.remember("a", "POST /x", 1000), await guard.remember("a", "POST /x", 1000)]
        now[0] += 1.5
        seen.append(await guard.remember("a", "GET /x", 1000))
        return seen

    assert asyncio.run(scenario()) == [None, "POST /x", None]


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


POLICY = BanPolicy(ban_after=3, first_ban_ms=120_000, max_ban_ms=259_200_000)
START = 1_800_000_000_000  # the start of a one-minute window


async def offend(limiter: RateLimiter, now: int) -> list[Block]:
    """An IP over its limit that keeps sending: one strike per request until the ban."""
    limiter.over_limit("ip:x", now)
    return [await limiter.strike("ip:x", now) for _ in range(POLICY.ban_after + 1)]


async def escalation(limiter: RateLimiter, other: RateLimiter) -> list[list[Block]]:
    first = await offend(limiter, START)
    # The ban is over; the same IP offends again and is banned twice as long.
    later = START + 3 * 60_000
    second = await offend(limiter, later)
    # Another instance learns the ban with its next spend (Redis) or shares it (memory, same object).
    await other.spend(("ip:x",), 1, later + 1)
    return [first, second, [b for b in [other.standing("ip:x", later + 1)] if b is not None]]


def check(first: list[Block], second: list[Block], learnt: list[Block]) -> None:
    window_end = START + 60_000
    assert first[:-1] == [Block(window_end, False)] * POLICY.ban_after
    assert first[-1] == Block(START + 120_000, True)
    assert second[-1] == Block(START + 3 * 60_000 + 240_000, True)
    assert learnt == [second[-1]]


def test_memory_limiter_bans_an_ip_that_keeps_going_and_doubles_repeat_bans() -> None:
    limiter = MemoryRateLimiter(POLICY)
    check(*asyncio.run(escalation(limiter, limiter)))


def test_redis_limiter_bans_across_instances_and_doubles_repeat_bans(redis_url: str) -> None:
    async def scenario() -> list[list[Block]]:
        redis = Redis.from_url(redis_url)
        prefix = f"kp:test:{uuid.uuid4().hex}:"
        try:
            return await escalation(
                RedisRateLimiter(redis, prefix, POLICY), RedisRateLimiter(redis, prefix, POLICY)
            )
        finally:
            await redis.aclose()

    check(*asyncio.run(scenario()))


@pytest.mark.parametrize("offence", [1, 2, 3, 12, 40, 1000])
def test_ban_lengths_run_from_two_minutes_to_three_days(offence: int) -> None:
    lengths: Callable[[int], int] = BanPolicy().ban_ms
    assert 120_000 <= lengths(offence) <= 259_200_000
    assert lengths(offence) == min(120_000 * 2 ** (offence - 1), 259_200_000)
