"""The streams of one process, put together: hub, publisher, relay, derived and paced streams,
sessions.

Built by the composition root (``runtime.build_server_parts``); the HTTP layer's WebSocket
endpoints use it. ``attach`` hooks the publisher to the exchange when this process runs it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy import Engine

from keyplane.clock import now_ms
from keyplane.exchange.service import Exchange
from keyplane.keys.cache import KeyCache
from keyplane.store import exchange_repo as repo
from keyplane.streams.admission import Admission
from keyplane.streams.derived import Derived
from keyplane.streams.hub import Hub
from keyplane.streams.listen_keys import ListenKeys, MemoryListenKeys, RedisListenKeys
from keyplane.streams.paced_depth import PacedDepth
from keyplane.streams.publisher import Publisher
from keyplane.streams.relay import Relay
from keyplane.streams.sessions import Sessions


@dataclass(frozen=True)
class StreamLimits:
    max_age_s: float = 86_400.0
    messages_per_second: int = 5
    max_streams: int = 1024
    queue: int = 10_000
    connection_attempts: int = 300  # per IP per 5 minutes (Binance's rule)
    open_connections: int = 300  # per IP at once


@dataclass
class Streams:
    hub: Hub
    sessions: Sessions
    listen_keys: ListenKeys
    derived: Derived
    depth: PacedDepth
    publisher: Publisher
    engine: Engine
    limits: StreamLimits
    admission: Admission
    relay: Relay | None = None
    _symbols: frozenset[str] = frozenset()
    _symbols_at: float = field(default=-1e9)

    @staticmethod
    def build(engine: Engine, cache: KeyCache, redis: Redis | None, limits: StreamLimits) -> Streams:
        hub = Hub()
        # Instances of one deployment share its database: its address names their Redis channels.
        deployment = hashlib.sha256(str(engine.url).encode()).hexdigest()[:16]
        relay = Relay(redis, hub, deployment) if redis is not None else None
        sessions = Sessions(cache)
        cache.on_invalidate.append(sessions.key_changed)
        keys: ListenKeys = RedisListenKeys(redis, deployment) if redis is not None else MemoryListenKeys()
        publisher = Publisher(hub, relay.send if relay is not None else None)
        derived = Derived(hub, engine, now_ms)
        depth = PacedDepth(hub, now_ms)
        admission = Admission(limits.connection_attempts, limits.open_connections)
        return Streams(hub, sessions, keys, derived, depth, publisher, engine, limits, admission, relay)

    def attach(self, exchange: Exchange) -> None:
        if self.publisher.on_events not in exchange.listeners:
            exchange.listeners.append(self.publisher.on_events)
            exchange.events_wanted = self.publisher.wants_events

    async def start(self) -> None:
        self.derived.start()
        self.depth.start()
        if self.relay is not None:
            self.relay.start()

    async def stop(self) -> None:
        await self.derived.stop()
        await self.depth.stop()
        if self.relay is not None:
            await self.relay.stop()

    async def user_of(self, key_id: str) -> int | None:
        """The user of a usable key (from the key cache), or None."""
        entry = await self.sessions.cache.get(key_id)
        if entry is None or not entry.key.is_usable(now_ms()):
            return None
        return entry.key.user_id

    async def symbols(self) -> frozenset[str]:
        """The markets' symbols, read from the database at most every 10 s (markets rarely change)."""
        if time.monotonic() - self._symbols_at > 10:

            def load() -> frozenset[str]:
                with self.engine.connect() as conn:
                    return frozenset(repo.load_markets(conn))

            self._symbols = await asyncio.to_thread(load)
            self._symbols_at = time.monotonic()
        return self._symbols
