"""Round trips to Redis, counted on the wire: one per signed request, few for public requests, one
connection for a burst however large; and what instances sharing Redis admit past an IP's limit."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import Connection

from keyplane.keys.errors import KeyError_, PermissionMissing, TimestampRejected
from keyplane.keys.model import Permission
from keyplane.keys.payload import SignedRequest
from keyplane.keys.pipeline import Limits, RouteNeeds, Verifier
from keyplane.keys.ratelimit import BanPolicy, RedisRateLimiter
from keyplane.keys.replay import RedisReplayGuard
from tests.keys.conftest import KeyBench
from tests.keys.test_pipeline import hmac_key, request

READ = RouteNeeds(Permission.READ)
TRADE = RouteNeeds(Permission.TRADE)
IP = "198.51.100.23"


class Wire:
    """A Redis client whose connections count what they send: one write per command or pipeline,
    so one round trip each. redis-py's own connection, subclassed; nothing of ours is replaced."""

    def __init__(self, url: str, max_connections: int | None = None) -> None:
        self.sent = 0
        self.connections: set[int] = set()
        wire = self

        class Counting(Connection):
            async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
                wire.sent += 1
                wire.connections.add(id(self))
                await super().send_packed_command(command, check_health)

        pool = ConnectionPool.from_url(url, connection_class=Counting, max_connections=max_connections)
        self.redis = Redis(connection_pool=pool)


def redis_verifier(bench: KeyBench, redis: Redis, limits: Limits | None = None) -> Verifier:
    """Guards as a server with Redis builds them; a prefix of the test's own."""
    prefix = f"kp:test:{uuid.uuid4().hex}:"
    return Verifier(
        bench.cache,
        RedisReplayGuard(redis, prefix + "replay:"),
        RedisRateLimiter(redis, prefix + "rl:"),
        bench.usage,
        limits or Limits(),
        bench.clock,
    )


async def trips(wire: Wire, verifier: Verifier, req: SignedRequest, needs: RouteNeeds) -> tuple[int, str]:
    """Round trips that one verification made, and how it ended."""
    before = wire.sent
    try:
        await verifier.verify(req, needs)
        outcome = "ok"
    except KeyError_ as refused:
        outcome = type(refused).__name__
    return wire.sent - before, outcome


def test_a_signed_request_makes_one_round_trip_accepted_or_refused(bench: KeyBench, redis_url: str) -> None:
    reader, reader_secret = hmac_key(bench)
    trader, trader_secret = hmac_key(bench, permissions=frozenset({Permission.TRADE}))

    async def scenario() -> list[tuple[int, str]]:
        wire = Wire(redis_url)
        verifier = redis_verifier(bench, wire.redis)
        try:
            await verifier.verify(
                request(bench, reader, reader_secret, ip=IP), READ
            )  # connects, loads scripts
            get = request(bench, reader, reader_secret, {"symbol": "BTCUSDT"}, ip=IP)
            post = request(bench, trader, trader_secret, {"symbol": "BTCUSDT"}, method="POST", ip=IP)
            cannot = request(bench, reader, reader_secret, {"symbol": "ETHUSDT"}, method="POST", ip=IP)
            return [
                await trips(wire, verifier, get, READ),
                await trips(wire, verifier, get, READ),  # the same GET again: allowed
                await trips(wire, verifier, post, TRADE),
                await trips(wire, verifier, post, TRADE),  # a replay
                await trips(wire, verifier, cannot, TRADE),  # proven, but a read-only key
            ]
        finally:
            await wire.redis.aclose()

    assert asyncio.run(scenario()) == [
        (1, "ok"),
        (1, "ok"),
        (1, "ok"),
        (1, "TimestampRejected"),
        (1, "PermissionMissing"),
    ]


def test_a_refused_signed_request_is_charged_to_its_ip_only(bench: KeyBench, redis_url: str) -> None:
    trader, trader_secret = hmac_key(bench, permissions=frozenset({Permission.TRADE}))
    reader, reader_secret = hmac_key(bench)

    async def scenario() -> list[int]:
        redis = Redis.from_url(redis_url)
        prefix = f"kp:test:{uuid.uuid4().hex}:"
        limiter = RedisRateLimiter(redis, prefix + "rl:")
        guard = RedisReplayGuard(redis, prefix + "replay:")
        verifier = Verifier(bench.cache, guard, limiter, bench.usage, Limits(), bench.clock)
        try:
            post = request(bench, trader, trader_secret, {"symbol": "BTCUSDT"}, method="POST", ip=IP)
            await verifier.verify(post, TRADE)
            with pytest.raises(TimestampRejected):
                await verifier.verify(post, TRADE)  # a replay
            await verifier.verify(request(bench, reader, reader_secret, ip=IP), READ)
            cannot = request(bench, reader, reader_secret, {"symbol": "BTCUSDT"}, method="POST", ip=IP)
            with pytest.raises(PermissionMissing):
                await verifier.verify(cannot, TRADE)
            return await limiter.spend(("key:" + trader, "key:" + reader, "ip:" + IP), 0, bench.clock())
        finally:
            await redis.aclose()

    assert asyncio.run(scenario()) == [1, 1, 4]


def test_public_requests_make_a_round_trip_per_slack_or_per_fresh_ms(bench: KeyBench, redis_url: str) -> None:
    async def scenario() -> tuple[int, int, int, int]:
        wire = Wire(redis_url)
        verifier = redis_verifier(bench, wire.redis, Limits(weight_per_ip=6400))  # slack: 100
        try:
            await verifier.charge_public(IP, 1)  # connects, loads the script
            before = wire.sent
            used = [await verifier.charge_public(IP, 1) for _ in range(1000)]
            burst = wire.sent - before
            bench.clock.advance(0.1)  # what this instance knows of the IP is now 100 ms old
            before = wire.sent
            await verifier.charge_public(IP, 1)
            stale = wire.sent - before
            return burst, used[-1], stale, await verifier.charge_public(IP, 0)
        finally:
            await wire.redis.aclose()

    burst, last, stale, total = asyncio.run(scenario())
    assert burst <= 1000 // 100 + 1
    assert last == 1001 and total == 1002  # one instance counts exactly
    assert stale == 1


def admitted(limiters: list[RedisRateLimiter], limit: int, now: int) -> int:
    """Requests of weight 1 from one IP, in turn to each instance, until every one refuses."""

    async def scenario() -> int:
        count, refusing = 0, set()
        while len(refusing) < len(limiters):
            for index, limiter in enumerate(limiters):
                if await limiter.spend_ip("ip:" + IP, 1, now, limit) <= limit:
                    count += 1
                else:
                    refusing.add(index)
        return count

    return asyncio.run(scenario())


@pytest.mark.parametrize("instances", [1, 2, 3])
def test_instances_sharing_redis_admit_at_most_one_slack_each_past_the_limit(
    redis_url: str, instances: int
) -> None:
    limit = 640  # slack: 10
    now = 1_800_000_000_000

    async def limiters() -> list[RedisRateLimiter]:
        prefix = f"kp:test:{uuid.uuid4().hex}:"
        return [RedisRateLimiter(Redis.from_url(redis_url), prefix) for _ in range(instances)]

    shared = asyncio.run(limiters())
    assert shared[0].slack(limit) == 10
    count = admitted(shared, limit, now)
    assert limit <= count <= limit + (instances - 1) * 10
    if instances == 1:
        assert count == limit


def test_a_ban_set_elsewhere_is_learnt_within_fresh_ms(redis_url: str) -> None:
    policy = BanPolicy(ban_after=2)
    now = 1_800_000_000_000
    limit = 6400

    async def scenario() -> list[bool]:
        redis = Redis.from_url(redis_url)
        prefix = f"kp:test:{uuid.uuid4().hex}:"
        one, two = RedisRateLimiter(redis, prefix, policy), RedisRateLimiter(redis, prefix, policy)
        try:
            await two.spend_ip("ip:" + IP, 1, now, limit)  # two knows the IP, as of now
            one.over_limit("ip:" + IP, now)
            for _ in range(policy.ban_after + 1):
                await one.strike("ip:" + IP, now)
            seen = []
            for later in (now + 50, now + 100):
                await two.spend_ip("ip:" + IP, 1, later, limit)
                block = two.standing("ip:" + IP, later)
                seen.append(block is not None and block.banned)
            return seen
        finally:
            await redis.aclose()

    assert asyncio.run(scenario()) == [False, True]


def test_a_burst_larger_than_the_pool_shares_round_trips_on_one_connection(
    bench: KeyBench, redis_url: str
) -> None:
    """redis-py's pool refuses a command beyond its size instead of waiting ("Too many
    connections"): a server that sent one command per waiting request answered -1000."""
    trader, secret = hmac_key(bench, permissions=frozenset({Permission.TRADE}))
    orders = [
        request(bench, trader, secret, {"symbol": "BTCUSDT", "n": str(i)}, method="POST", ip=IP)
        for i in range(300)
    ]

    async def scenario() -> tuple[list[str], int, int]:
        wire = Wire(redis_url, max_connections=2)
        verifier = redis_verifier(bench, wire.redis, Limits(weight_per_key=10_000, weight_per_ip=10_000))
        try:
            before = wire.sent
            results = await asyncio.gather(
                *(verifier.verify(order, TRADE) for order in [*orders, orders[0]]), return_exceptions=True
            )
            return [type(r).__name__ for r in results], wire.sent - before, len(wire.connections)
        finally:
            await wire.redis.aclose()

    outcomes, sent, connections = asyncio.run(scenario())
    assert outcomes.count("Verified") == 300
    assert outcomes.count("TimestampRejected") == 1  # orders[0] sent twice at once: one is a replay
    assert len(outcomes) == 301
    assert connections == 1
    assert sent < 301 // 10
