"""The warm key cache: verification on a cached key touches no database.

Entries are dropped when a change is announced (``invalidate``) and are reloaded after
``max_age_s`` as a safety net. Expiry and rotation grace are checked against the wall clock on use. Unknown key ids are cached negatively for a short time so that a stranger
spraying well-formed ids cannot turn each request into a database round trip.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from keyplane.keys.model import ApiKey, IpNetwork, parse_networks
from keyplane.keys.schemes import SignatureVerifier


@dataclass(frozen=True)
class CachedKey:
    key: ApiKey
    verifiers: tuple[SignatureVerifier, ...] = field(repr=False)
    networks: tuple[IpNetwork, ...]
    loaded_at: float = 0.0

    @staticmethod
    def build(key: ApiKey, verifiers: tuple[SignatureVerifier, ...]) -> CachedKey:
        return CachedKey(key, verifiers, parse_networks(key.ip_allowlist))


Loader = Callable[[str], Awaitable["CachedKey | None"]]


class KeyCache:
    def __init__(
        self,
        loader: Loader,
        max_age_s: float = 300.0,
        negative_ttl_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loader = loader
        self._max_age = max_age_s
        self._negative_ttl = negative_ttl_s
        self._clock = clock
        self._entries: dict[str, CachedKey] = {}
        self._missing: dict[str, float] = {}
        # Told of every invalidated key id (live sessions of a revoked key close on it).
        self.on_invalidate: list[Callable[[str], None]] = []

    def peek(self, key_id: str) -> CachedKey | None:
        """The cached entry if it is still fresh; never loads."""
        entry = self._entries.get(key_id)
        if entry is not None and self._clock() - entry.loaded_at < self._max_age:
            return entry
        return None

    async def get(self, key_id: str) -> CachedKey | None:
        entry = self.peek(key_id)
        if entry is not None:
            return entry
        now = self._clock()
        if self._missing.get(key_id, 0.0) > now:
            return None
        loaded = await self._loader(key_id)
        if loaded is None:
            if len(self._missing) > 50_000:
                self._missing = {k: t for k, t in self._missing.items() if t > now}
            self._missing[key_id] = now + self._negative_ttl
            return None
        entry = CachedKey(loaded.key, loaded.verifiers, loaded.networks, now)
        self._entries[key_id] = entry
        return entry

    def invalidate(self, key_id: str) -> None:
        self._entries.pop(key_id, None)
        self._missing.pop(key_id, None)
        for listener in self.on_invalidate:
            listener(key_id)

    def clear(self) -> None:
        self._entries.clear()
        self._missing.clear()
