"""listenKeys of the REST user data stream: which API key a listenKey belongs to, for 60 minutes.

Binance's life cycle: POST creates one (or returns the key's live one, extended), PUT extends it,
DELETE closes it; a listenKey not extended for 60 minutes expires. With Redis the mapping is
shared, so a listenKey made through one instance opens a stream on any other; without Redis it
lives in this process (one instance).
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis

VALIDITY_S = 3600
ALPHABET = string.ascii_letters + string.digits
LENGTH = 60


def new_listen_key() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def looks_like_listen_key(text: str) -> bool:
    return len(text) == LENGTH and all(c in ALPHABET for c in text)


class ListenKeys(Protocol):
    async def create(self, key_id: str) -> str: ...

    async def extend(self, listen_key: str, key_id: str) -> bool: ...

    async def close(self, listen_key: str, key_id: str) -> bool: ...

    async def owner(self, listen_key: str) -> str | None: ...


class MemoryListenKeys:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._owner: dict[str, tuple[str, float]] = {}
        self._of: dict[str, str] = {}

    async def create(self, key_id: str) -> str:
        live = self._of.get(key_id)
        if live is not None and await self.extend(live, key_id):
            return live
        listen_key = new_listen_key()
        self._owner[listen_key] = (key_id, self._clock() + VALIDITY_S)
        self._of[key_id] = listen_key
        return listen_key

    async def extend(self, listen_key: str, key_id: str) -> bool:
        if await self.owner(listen_key) != key_id:
            return False
        self._owner[listen_key] = (key_id, self._clock() + VALIDITY_S)
        return True

    async def close(self, listen_key: str, key_id: str) -> bool:
        if await self.owner(listen_key) != key_id:
            return False
        del self._owner[listen_key]
        self._of.pop(key_id, None)
        return True

    async def owner(self, listen_key: str) -> str | None:
        found = self._owner.get(listen_key)
        if found is None:
            return None
        if found[1] <= self._clock():
            del self._owner[listen_key]
            return None
        return found[0]


class RedisListenKeys:
    def __init__(self, redis: Redis, deployment: str) -> None:
        self._redis = redis
        self.PREFIX = f"keyplane:listen-key:{deployment}:"

    async def create(self, key_id: str) -> str:
        live = _text(await self._redis.get(self.PREFIX + "of:" + key_id))
        if live is not None and await self.extend(live, key_id):
            return live
        listen_key = new_listen_key()
        await self._redis.set(self.PREFIX + listen_key, key_id, ex=VALIDITY_S)
        await self._redis.set(self.PREFIX + "of:" + key_id, listen_key, ex=VALIDITY_S)
        return listen_key

    async def extend(self, listen_key: str, key_id: str) -> bool:
        if await self.owner(listen_key) != key_id:
            return False
        await self._redis.expire(self.PREFIX + listen_key, VALIDITY_S)
        await self._redis.expire(self.PREFIX + "of:" + key_id, VALIDITY_S)
        return True

    async def close(self, listen_key: str, key_id: str) -> bool:
        if await self.owner(listen_key) != key_id:
            return False
        await self._redis.delete(self.PREFIX + listen_key, self.PREFIX + "of:" + key_id)
        return True

    async def owner(self, listen_key: str) -> str | None:
        if not looks_like_listen_key(listen_key):
            return None
        return _text(await self._redis.get(self.PREFIX + listen_key))


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
