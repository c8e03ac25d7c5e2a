"""A task of the streams that runs a round at a fixed period on the event loop until stopped.

Why shared: the derived streams (tickers, klines) and the paced depth streams both run on a
timer; a failed round is logged and the next one runs, so one bad round never ends a stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)


class Periodic:
    period_s: float
    _task: asyncio.Task[None] | None = None

    async def round(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.period_s)
            try:
                await self.round()
            except Exception:
                log.exception("%s round failed", type(self).__name__)
