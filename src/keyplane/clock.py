"""The wall clock in epoch milliseconds, the unit of every time Keyplane stores and sends.

A leaf module (no imports from Keyplane) so every package can share it; code that must be
deterministic in tests takes it as an injected ``now`` argument rather than calling it directly.
"""

from __future__ import annotations

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
