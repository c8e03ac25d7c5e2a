"""Carries key changes made anywhere to this instance's cache within a second.

Every change is a row in ``key_changes`` (written in the same transaction as the change). Each
instance polls that log every ``poll_seconds``; with Redis configured, changes are also published
on a channel so instances usually drop the entry within milliseconds. The poll stays on as the
guarantee, since pub/sub delivers at most once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis import Redis as SyncRedis
from redis.asyncio import Redis
from sqlalchemy import Engine

from keyplane.keys.cache import KeyCache
from keyplane.store import key_repo

CHANNEL = "keyplane:key-changes"
log = logging.getLogger(__name__)


class RedisChangePublisher:
    """Used by the key service after a change commits."""

    def __init__(self, redis_url: str) -> None:
        self._redis = SyncRedis.from_url(redis_url)

    def __call__(self, key_id: str) -> None:
        try:
            self._redis.publish(CHANNEL, key_id)
        except Exception:  # noqa: BLE001 - the database log still carries the change
            log.warning("could not publish a key change to Redis; instances will see it by polling")


class KeyChangeWatcher:
    def __init__(
        self, engine: Engine, cache: KeyCache, poll_seconds: float = 0.25, redis: Redis | None = None
    ) -> None:
        self._engine = engine
        self._cache = cache
        self._poll = poll_seconds
        self._redis = redis
        self._last_id = 0
        self._tasks: list[asyncio.Task[None]] = []

    def _latest(self) -> int:
        with self._engine.connect() as conn:
            return key_repo.latest_change(conn)

    def _new_changes(self) -> list[str]:
        with self._engine.connect() as conn:
            rows = key_repo.changes_since(conn, self._last_id)
        if rows:
            self._last_id = rows[-1]["id"]
        return [row["key_id"] for row in rows]

    async def start(self) -> None:
        self._last_id = await asyncio.to_thread(self._latest)
        self._tasks.append(asyncio.create_task(self._poll_loop()))
        if self._redis is not None:
            self._tasks.append(asyncio.create_task(self._listen_loop(self._redis)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _poll_loop(self) -> None:
        while True:
            try:
                for key_id in await asyncio.to_thread(self._new_changes):
                    self._cache.invalidate(key_id)
            except Exception:
                log.exception("key-change poll failed; retrying")
            await asyncio.sleep(self._poll)

    async def _listen_loop(self, redis: Redis) -> None:
        while True:
            try:
                async with redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._cache.invalidate(message["data"].decode("ascii", "replace"))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - polling still covers us while Redis is away
                log.warning("Redis key-change subscription lost; reconnecting")
                await asyncio.sleep(1.0)
