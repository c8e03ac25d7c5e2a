"""A key platform in-process on a real database, with a clock the test controls."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from keyplane.keys.cache import CachedKey, KeyCache
from keyplane.keys.pipeline import Limits, Verifier
from keyplane.keys.ratelimit import MemoryRateLimiter
from keyplane.keys.replay import MemoryReplayGuard
from keyplane.keys.sealing import Sealer
from keyplane.keys.service import Actor, KeyService
from keyplane.keys.usage import UsageRecorder

NOW = 1_800_000_000_000


class Clock:
    def __init__(self) -> None:
        self.ms = NOW

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


@dataclass
class KeyBench:
    clock: Clock
    sealer: Sealer
    service: KeyService
    cache: KeyCache
    usage: UsageRecorder
    verifier: Verifier
    user_id: int

    def refresh(self) -> None:
        """What the change watcher does on a real server."""
        self.cache.clear()


@pytest.fixture
def bench(engine: Engine) -> KeyBench:
    clock = Clock()
    sealer = Sealer(os.urandom(32))
    service = KeyService(engine, sealer, now_ms=clock)

    async def load(key_id: str) -> CachedKey | None:
        return service.load_for_cache(key_id)

    cache = KeyCache(load)
    usage = UsageRecorder(engine, now_ms=clock)
    verifier = Verifier(
        cache,
        MemoryReplayGuard(),
        MemoryRateLimiter(),
        usage,
        # Refusals weigh as accepted requests here; tests/keys/test_floods.py weighs them apart.
        Limits(weight_per_key=50, weight_per_ip=80, refused_weight=0),
        clock,
    )
    user_id = service.create_user("alice", Actor("test"))
    return KeyBench(clock, sealer, service, cache, usage, verifier, user_id)
