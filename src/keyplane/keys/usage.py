"""Last-used times and sampled refusal events, gathered in memory and written in batches.

The hot path only touches dictionaries; a background task calls ``flush`` every few seconds, so
there is never one database write per request. Refusals are sampled: at most one event per
(reason, key, IP) per minute and at most ``max_refusals_per_flush`` per batch, so a flood of bad
requests cannot flood the audit table.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from keyplane.clock import now_ms
from keyplane.keys.errors import KeyError_, MalformedKey
from keyplane.store import key_repo

SAMPLE_WINDOW_MS = 60_000


class UsageRecorder:
    def __init__(
        self,
        engine: Engine,
        max_refusals_per_flush: int = 200,
        now_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._engine = engine
        self._max_refusals = max_refusals_per_flush
        self._now_ms = now_ms
        self._used: dict[str, int] = {}
        self._refusals: list[dict[str, Any]] = []
        self._last_sampled: dict[tuple[str, str, str], int] = {}
        self.dropped_refusals = 0
        self._lock = threading.Lock()

    def mark_used(self, key_id: str, now_ms: int) -> None:
        self._used[key_id] = now_ms

    def refused(self, error: KeyError_, key_id: str | None, client_ip: str) -> None:
        now = self._now_ms()
        reason = type(error).__name__
        # Only well-formed ids are recorded: a malformed value may be a pasted secret.
        recorded_key = key_id if key_id and not isinstance(error, MalformedKey) else None
        sample = (reason, recorded_key or "", client_ip)
        if now - self._last_sampled.get(sample, -SAMPLE_WINDOW_MS) < SAMPLE_WINDOW_MS:
            return
        if len(self._refusals) >= self._max_refusals:
            self.dropped_refusals += 1
            return
        self._last_sampled[sample] = now
        self._refusals.append(
            {
                "at": now,
                "actor": "api",
                "action": "request.refused",
                "user_id": None,
                "key_id": recorded_key,
                "source_ip": client_ip,
                "detail": json.dumps({"reason": reason, "code": error.code, "msg": error.msg}),
            }
        )

    def flush(self) -> None:
        """Write what has gathered since the last flush, in one transaction."""
        with self._lock:
            used, self._used = self._used, {}
            refusals, self._refusals = self._refusals, []
            if len(self._last_sampled) > 10_000:
                cutoff = self._now_ms() - SAMPLE_WINDOW_MS
                self._last_sampled = {k: t for k, t in self._last_sampled.items() if t > cutoff}
        if not used and not refusals:
            return
        with self._engine.begin() as conn:
            key_repo.touch_last_used(conn, used)
            key_repo.insert_audit(conn, refusals)
