"""Refused requests count against the IP, and an IP over its limit is refused before any work."""

from __future__ import annotations

import asyncio

import pytest

from keyplane.keys.cache import CachedKey, KeyCache
from keyplane.keys.errors import InvalidSignature, IpBanned, PermissionMissing, RateLimited, RequestRefused
from keyplane.keys.formats import new_key_id
from keyplane.keys.model import Permission
from keyplane.keys.pipeline import Limits, RouteNeeds, Verifier
from keyplane.keys.ratelimit import BanPolicy, MemoryRateLimiter
from keyplane.keys.replay import MemoryReplayGuard
from tests.keys.conftest import KeyBench
from tests.keys.test_pipeline import hmac_key, request

READ = RouteNeeds(Permission.READ, weight=2)
TRADE = RouteNeeds(Permission.TRADE, weight=2)
IP = "203.0.113.9"


class Flood:
    """A verifier with a small IP limit that counts how often a key is loaded (the expensive work)."""

    def __init__(self, bench: KeyBench) -> None:
        self.loads = 0

        async def load(key_id: str) -> CachedKey | None:
            self.loads += 1
            return bench.service.load_for_cache(key_id)

        self.limiter = MemoryRateLimiter(BanPolicy(ban_after=3))
        self.verifier = Verifier(
            KeyCache(load, negative_ttl_s=0),
            MemoryReplayGuard(),
            self.limiter,
            bench.usage,
            Limits(weight_per_ip=60, refused_weight=10),
            bench.clock,
        )
        self.bench = bench

    def used(self) -> int:
        return asyncio.run(self.limiter.spend(("ip:" + IP,), 0, self.bench.clock()))[0]

    def unknown_key(self) -> None:
        _, secret = hmac_key(self.bench)
        asyncio.run(self.verifier.verify(request(self.bench, new_key_id(), secret, ip=IP), READ))


def test_a_refusal_before_the_signature_is_proven_weighs_more_than_the_route(bench: KeyBench) -> None:
    flood = Flood(bench)
    key_id, _ = hmac_key(bench)
    with pytest.raises(InvalidSignature):
        asyncio.run(flood.verifier.verify(request(bench, key_id, "kps_wrong", ip=IP), READ))
    assert flood.used() == 2 + 10
    with pytest.raises(RequestRefused):
        flood.unknown_key()
    assert flood.used() == 2 * (2 + 10)


def test_a_refusal_after_the_signature_is_proven_weighs_as_the_route(bench: KeyBench) -> None:
    flood = Flood(bench)
    key_id, secret = hmac_key(bench)  # read-only
    with pytest.raises(PermissionMissing):
        asyncio.run(flood.verifier.verify(request(bench, key_id, secret, method="POST", ip=IP), TRADE))
    assert flood.used() == 2


def test_an_ip_over_its_limit_is_refused_before_its_key_is_looked_up_then_banned(bench: KeyBench) -> None:
    flood = Flood(bench)
    for _ in range(5):  # 12 weight each: 60 is the limit, the 6th crosses it
        with pytest.raises(RequestRefused):
            flood.unknown_key()
    with pytest.raises(RateLimited) as crossed:
        flood.unknown_key()
    assert crossed.value.status == 429
    loads = flood.loads
    answers = []
    for _ in range(4):
        with pytest.raises(RateLimited) as caught:
            flood.unknown_key()
        answers.append(caught.value.status)
    assert answers == [429, 429, 429, 418]
    assert flood.loads == loads  # no key looked up while refused
    banned = caught.value
    assert isinstance(banned, IpBanned)
    assert banned.until_ms == bench.clock() + 120_000 and banned.retry_after == 120
    assert "IP banned until" in banned.msg

    # A good request from the banned IP is refused too, and so is a public one; not other IPs.
    key_id, secret = hmac_key(bench)
    with pytest.raises(IpBanned):
        asyncio.run(flood.verifier.verify(request(bench, key_id, secret, ip=IP), READ))
    with pytest.raises(IpBanned):
        asyncio.run(flood.verifier.charge_public(IP, 1))
    asyncio.run(flood.verifier.verify(request(bench, key_id, secret, ip="203.0.113.10"), READ))
    # The ban ends.
    bench.clock.advance(121)
    asyncio.run(flood.verifier.verify(request(bench, key_id, secret, ip=IP), READ))
