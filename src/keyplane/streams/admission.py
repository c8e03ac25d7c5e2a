"""Which WebSocket connections an IP may open: Binance's 300 attempts per 5 minutes, and a bound
on the connections it holds open at once.

Why both: each open connection holds a send queue (up to ``StreamLimits.queue`` messages) and a
task, and costs the fan-out a write per message of every stream it reads. Binance's rule alone
(attempts per window) would let one IP pile up connections window after window for as long as
each lives (24 hours). Refused attempts count too, so a client retrying in a loop is held off
until the window ends. Counts are this process's own: with several instances, each applies them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

WINDOW_S = 300.0


class Admission:
    def __init__(
        self, attempts_per_window: int, open_at_once: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.attempts_per_window = attempts_per_window
        self.open_at_once = open_at_once
        self._clock = clock
        self._window_start = 0.0
        self._attempts: dict[str, int] = {}
        self._open: dict[str, int] = {}

    def admit(self, ip: str) -> str | None:
        """Count an attempt from ``ip``; ``None`` if it may connect (then :meth:`release` it when
        the connection ends), else why not."""
        now = self._clock()
        if now - self._window_start >= WINDOW_S:
            self._window_start, self._attempts = now, {}
        attempts = self._attempts[ip] = self._attempts.get(ip, 0) + 1
        if attempts > self.attempts_per_window:
            return (
                f"Too many WebSocket connection attempts; the limit is {self.attempts_per_window} "
                "per 5 minutes per IP."
            )
        held = self._open.get(ip, 0)
        if held >= self.open_at_once:
            return f"Too many open WebSocket connections; the limit is {self.open_at_once} per IP."
        self._open[ip] = held + 1
        return None

    def release(self, ip: str) -> None:
        held = self._open.get(ip, 0) - 1
        if held > 0:
            self._open[ip] = held
        else:
            self._open.pop(ip, None)

    def open_count(self, ip: str) -> int:
        return self._open.get(ip, 0)
