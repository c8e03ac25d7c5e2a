"""Redis scripts from concurrent requests leave together: one round trip in flight per client.

Each caller awaits its own script's answer, but every script queued while a round trip is in
flight goes in the next one, as one pipeline of ``EVALSHA`` (a group commit, for Redis). Under
load many requests share a round trip, and they hold one pooled connection however many are
waiting: redis-py's pool refuses a request beyond its size ("Too many connections", 100 by
default) instead of making it wait.

A script unknown to Redis (first use, or after Redis restarted) is loaded and run again in one
more round trip; a script that failed with NOSCRIPT did not run, so running it again is safe.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError


class Script:
    """A Lua script known by its SHA-1, as Redis caches it."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


@dataclass(slots=True)
class _Call:
    script: Script
    keys: Sequence[str]
    args: Sequence[str | int]
    answer: asyncio.Future[Any]


class RoundTrips:
    def __init__(self, redis: Redis, max_batch: int = 256) -> None:
        self.redis = redis
        self._max_batch = max_batch
        self._queue: list[_Call] = []
        self._sender: asyncio.Task[None] | None = None

    async def run(self, script: Script, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        """Run ``script`` in the next round trip and return its answer (errors raised as Redis's)."""
        loop = asyncio.get_running_loop()
        call = _Call(script, keys, args, loop.create_future())
        self._queue.append(call)
        if self._sender is None:
            self._sender = loop.create_task(self._send_queued())
        return await call.answer

    async def _send_queued(self) -> None:
        batch: list[_Call] = []
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._send(batch)
                batch = []
        finally:
            self._sender = None
            # Only left when the sender was cancelled mid-way (shutdown): nobody will answer these.
            for call in [*batch, *self._queue]:
                call.answer.cancel()
            self._queue.clear()

    async def _send(self, batch: list[_Call]) -> None:
        try:
            answers = await self._pipeline(batch, load=False)
            missing = [i for i, answer in enumerate(answers) if isinstance(answer, NoScriptError)]
            if missing:
                again = await self._pipeline([batch[i] for i in missing], load=True)
                for i, answer in zip(missing, again, strict=True):
                    answers[i] = answer
        except Exception as error:  # noqa: BLE001 - every caller in the batch gets Redis's error
            answers = [error] * len(batch)
        for call, answer in zip(batch, answers, strict=True):
            if call.answer.done():  # the caller gave up (its request was cancelled)
                continue
            if isinstance(answer, Exception):
                call.answer.set_exception(answer)
            else:
                call.answer.set_result(answer)

    async def _pipeline(self, calls: list[_Call], load: bool) -> list[Any]:
        scripts = list({call.script.sha: call.script for call in calls}.values()) if load else []
        async with self.redis.pipeline(transaction=False) as pipe:
            for script in scripts:
                pipe.script_load(script.source)
            for call in calls:
                pipe.evalsha(call.script.sha, len(call.keys), *call.keys, *call.args)
            answers = await pipe.execute(raise_on_error=False)
        return list(answers[len(scripts) :])
