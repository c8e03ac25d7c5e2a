"""The offset between this machine's clock and the exchange's, measured from ``/api/v3/time``.

Binance refuses a request whose timestamp is more than 1 s ahead of its clock or older than
``recvWindow`` (-1021). A laptop clock can be seconds off; the SDK stamps requests with
``local time + offset``, the offset taken at the midpoint of a round trip (NTP's estimate).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Now = Callable[[], int]


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def offset_from(sent_ms: int, server_ms: int, received_ms: int) -> int:
    """Server minus local time, assuming the server read its clock halfway through the trip."""
    return server_ms - (sent_ms + received_ms) // 2


class Clock:
    """Local time (injected for tests) plus the last measured offset."""

    def __init__(self, now: Now = wall_ms) -> None:
        self._now = now
        self.offset_ms = 0
        self._last_stamp = 0
        self._stamping = threading.Lock()

    def local(self) -> int:
        return self._now()

    def server_estimate(self) -> int:
        return self._now() + self.offset_ms

    def stamp(self) -> int:
        """A signed request's timestamp: the server estimate, but always after the last one given.
        Two requests with the same parameters in one millisecond (a cancel, then a query of the same
        order) would otherwise carry the same signature, and Keyplane binds a signature to the one
        method and path it was first seen on (-1021 for the second)."""
        with self._stamping:
            self._last_stamp = max(self.server_estimate(), self._last_stamp + 1)
            return self._last_stamp
