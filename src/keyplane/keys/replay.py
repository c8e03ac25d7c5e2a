"""Replay guard: what each signature proved, and the one method and path it was first seen on.

The fingerprint is what was proven, never how the signature was spelt (hex case, base64's ``+``
as ``%2B`` or ``%20``): the key id and a SHA-256 of the exact payload bytes that verified (for an
HMAC key the verified signature already is a keyed SHA-256 of them, in lower-case hex). With it
the guard keeps the request's binding (``"DELETE /api/v3/openOrders"``), because Binance's signature
covers neither method nor path: the pipeline refuses a signature seen on another binding, and a
state-changing request seen before at all; a repeat of the same GET stays allowed.

A signature covers its timestamp, so it is remembered only until its request would fail the
timestamp check anyway (timestamp + recvWindow). In memory for one instance; in Redis (a script)
when several instances share the traffic, where a signed request's replay check and its weight
travel in one script (``ratelimit.RedisRateLimiter.spend_signed``). A memory guard forgets on restart, so
it says since when it remembers (``remembers_since_ms``: the start of its process, when the process
it replaces had stopped) and the pipeline refuses state-changing requests signed before that.
"""

from __future__ import annotations

import hashlib
import heapq
import time
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis

from keyplane.clock import now_ms
from keyplane.keys.roundtrips import RoundTrips, Script

# Taken when the server process imports the key core, well before it listens: requests signed
# between this and the first one served can only have reached a process that had stopped.
PROCESS_STARTED_MS = now_ms()


def fingerprint(key_id: str, payload: bytes, hmac_signature: str | None = None) -> str:
    """What a verified request proved: this key signed exactly these bytes.

    ``hmac_signature``, a verified HMAC-SHA256 hex signature, stands for the payload's hash and
    saves hashing it again on the hot path.
    """
    if hmac_signature is not None:
        return key_id + ":" + hmac_signature.lower()
    return key_id + ":" + hashlib.sha256(payload).hexdigest()


class ReplayGuard(Protocol):
    # Earliest request time (ms) whose replays this guard can still recognise.
    remembers_since_ms: int

    async def remember(self, fingerprint: str, binding: str, ttl_ms: int) -> str | None:
        """Record ``binding`` for ``fingerprint``: None the first time within ``ttl_ms``, else the
        binding it was first seen with (a replay, or the same signature on another method/path)."""
        ...


def is_refused(first_seen_on: str | None, binding: str, state_changing: bool) -> bool:
    """A signature seen before is refused for a state change, and on any binding after it was
    first used for one; a read seen before may be read again, on its path or another read's.

    Binance's signature covers neither method nor path, and clients sign two different reads in
    the same millisecond with the same parameters (python-binance's account/status and
    apiTradingStatus): both are answered. A read's signature never becomes a cancel or an order.
    (The Redis script of ``ratelimit.ADMIT`` says the same.)"""
    if first_seen_on is None:
        return False
    return state_changing or (first_seen_on != binding and not first_seen_on.startswith("GET "))


class MemoryReplayGuard:
    """One process's memory; expiries in a heap, so pruning costs nothing per request."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, started_ms: int | None = None) -> None:
        self.remembers_since_ms = PROCESS_STARTED_MS if started_ms is None else started_ms
        self._clock = clock
        self._seen: dict[str, tuple[float, str]] = {}
        self._expiries: list[tuple[float, str]] = []

    async def remember(self, fingerprint: str, binding: str, ttl_ms: int) -> str | None:
        now = self._clock()
        expiries, seen = self._expiries, self._seen
        while expiries and expiries[0][0] <= now:
            _, old = heapq.heappop(expiries)
            del seen[old]  # each entry has exactly one heap item: entries are never overwritten
        entry = seen.get(fingerprint)
        if entry is not None:
            return entry[1]
        expiry = now + ttl_ms / 1000.0
        seen[fingerprint] = (expiry, binding)
        heapq.heappush(expiries, (expiry, fingerprint))
        return None


# SET NX with the old value back, in one round trip on any Redis version (SET NX GET needs 7.0).
REMEMBER = Script("""
local previous = redis.call('GET', KEYS[1])
if previous then return previous end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
""")


def text(value: object) -> str:
    """A Redis reply as text (the server's client does not decode replies)."""
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisReplayGuard:
    """Shared by every instance, and it outlives a restart of any of them."""

    remembers_since_ms = 0

    def __init__(self, redis: Redis, prefix: str = "kp:replay:") -> None:
        self.redis = redis
        self._prefix = prefix
        self._trips = RoundTrips(redis)

    def key(self, fingerprint: str) -> str:
        """The Redis key that holds ``fingerprint``'s first binding."""
        return self._prefix + fingerprint

    async def remember(self, fingerprint: str, binding: str, ttl_ms: int) -> str | None:
        previous = await self._trips.run(REMEMBER, [self.key(fingerprint)], [binding, max(ttl_ms, 1)])
        return None if previous is None else text(previous)
