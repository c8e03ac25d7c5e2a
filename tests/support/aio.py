"""Awaiting the exchange's commands from plain test functions (no pytest-asyncio here).

One event loop for the whole test session, so an exchange built by a fixture runs every command
of a test on the same loop, as it does in the server.
"""

from __future__ import annotations

import asyncio
import atexit
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_runner = asyncio.Runner()
atexit.register(_runner.close)


def run(command: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine to completion on the session's loop."""
    return _runner.run(command)
