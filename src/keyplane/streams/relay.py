"""Stream messages between instances over Redis pub/sub.

The writer publishes every batch's messages once; every instance (the writer too, which skips its
own) delivers what it receives to its hub. Order is kept: one sender task per process writes the
batches in the order the exchange made them. Pub/sub delivers at most once: a stream that misses
a batch while Redis is away sees a gap in depth ids and resyncs, as on Binance.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets

from redis.asyncio import Redis

from keyplane.streams.hub import Hub, Message

CHANNEL = "keyplane:streams:"  # + the deployment (its database), so deployments sharing a Redis never mix
log = logging.getLogger(__name__)


class Relay:
    def __init__(self, redis: Redis, hub: Hub, deployment: str) -> None:
        self._redis, self._hub = redis, hub
        self._channel = CHANNEL + deployment
        self._me = secrets.token_hex(8)
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=10_000)
        self._tasks: list[asyncio.Task[None]] = []

    def send(self, messages: list[Message]) -> None:
        if not messages:
            return
        try:
            self._queue.put_nowait(json.dumps({"from": self._me, "m": messages}, separators=(",", ":")))
        except asyncio.QueueFull:
            log.warning("stream relay queue is full; a batch of stream messages was not relayed")

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._send_loop()), asyncio.create_task(self._listen_loop())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _send_loop(self) -> None:
        while True:
            text = await self._queue.get()
            try:
                await self._redis.publish(self._channel, text)
            except Exception:  # noqa: BLE001 - streams resync; the exchange goes on
                log.warning("could not relay stream messages to Redis")

    async def _listen_loop(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        bundle = json.loads(message["data"])
                        if bundle.get("from") != self._me:
                            self._hub.publish([(t, p) for t, p in bundle["m"]])
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - reconnect; clients resync on a gap
                log.warning("stream relay subscription lost; reconnecting")
                await asyncio.sleep(1.0)
