"""Live connections that act for an API key, so that revoking the key ends them within a second.

The key-change watcher drops a changed key from the cache on every instance (Redis at once, the
database log within its poll); :meth:`Sessions.key_changed` is told of it, reloads the key and
closes every connection of a key that is no longer usable (revoked, disabled, expired, deleted).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from keyplane.clock import now_ms
from keyplane.keys.cache import KeyCache

log = logging.getLogger(__name__)
Closer = Callable[[], Awaitable[None]]


class Sessions:
    def __init__(self, cache: KeyCache) -> None:
        self.cache = cache
        self._by_key: dict[str, dict[int, Closer]] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def add(self, key_id: str, token: int, close: Closer) -> None:
        self._by_key.setdefault(key_id, {})[token] = close

    def remove(self, key_id: str, token: int) -> None:
        found = self._by_key.get(key_id)
        if found is not None:
            found.pop(token, None)
            if not found:
                del self._by_key[key_id]

    def count(self, key_id: str) -> int:
        return len(self._by_key.get(key_id, {}))

    def key_changed(self, key_id: str) -> None:
        """Called by the cache when a key changes anywhere (on the event loop)."""
        if key_id not in self._by_key:
            return
        try:
            task = asyncio.get_running_loop().create_task(self._recheck(key_id))
        except RuntimeError:
            return  # no loop (a CLI process): no sessions either
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _recheck(self, key_id: str) -> None:
        entry = await self.cache.get(key_id)
        if entry is not None and entry.key.is_usable(now_ms()):
            return
        for close in list(self._by_key.pop(key_id, {}).values()):
            try:
                await close()
            except Exception:  # noqa: BLE001 - the others are still closed
                log.warning("closing a session of a revoked key failed")
