"""The sequencer: commands applied in order in memory, their effects written in group commits.

Why: a transaction per command, under a lock, in a worker thread, bounds the exchange by the
database's commit latency and makes every read wait behind other commands' commits. Here a command
is applied at once on the event loop: validating and mutating the books and ledger is plain
in-memory work with no ``await`` inside, so commands are strictly ordered without a lock. Its
effects join the open batch (:class:`keyplane.exchange.journal.Journal`). One committer task
writes batches one at a time: when the previous commit has finished it closes the open batch
(a snapshot of row values, since later commands keep mutating the same objects) and writes it in
one transaction in a worker thread while new commands accumulate into the next batch. A caller is
answered only when its batch is durable.

Failure: if a commit fails, no command of that batch nor of the batch opened after it (applied on
top of it) is acknowledged (:class:`NotDurable`), and memory is rebuilt from the database. A
command that fails half-way through its mutation (:meth:`Sequencer.abort`) does the same to the
open batch, so memory is never ahead of a state that will not be written. Until memory is rebuilt,
:attr:`Sequencer.stale` is true: commands wait for the rebuild and memory reads say "try again".

The sequencer knows nothing of orders: the owner passes ``close`` (snapshot the open batch, on the
loop), ``write`` (one transaction, in a thread), ``read`` (state from the database, in a thread)
and ``install`` (put that state in place, on the loop).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from keyplane.exchange.errors import NotDurable

log = logging.getLogger(__name__)

B = TypeVar("B")
S = TypeVar("S")


class Sequencer(Generic[B, S]):
    """Group commits of applied commands; not bound to an event loop until a command arrives."""

    def __init__(
        self,
        *,
        close: Callable[[], B],
        write: Callable[[B], None],
        read: Callable[[], S],
        install: Callable[[S], None],
        durable: Callable[[B], None] | None = None,
    ) -> None:
        self._close, self._write, self._read, self._install = close, write, read, install
        self._durable = durable  # told of each batch once it is written (on the loop)
        self._waiting: list[asyncio.Future[None]] = []  # the open batch's callers
        self._committer: asyncio.Task[None] | None = None
        self._rebuilder: asyncio.Task[None] | None = None
        self.stale = False
        self.batches = 0  # group commits written (for benchmarks and tests)

    @property
    def busy(self) -> bool:
        """A batch is open or being written."""
        return bool(self._waiting) or (self._committer is not None and not self._committer.done())

    async def ready(self) -> None:
        """Return once memory holds no effect that will not be written (after a rebuild if need be).

        Call it as the last ``await`` before a command's synchronous part."""
        while self.stale:
            if self._rebuilder is None or self._rebuilder.done():
                self._rebuilder = self._start_rebuild()
            try:
                await asyncio.shield(self._rebuilder)
            except Exception as error:
                raise NotDurable() from error

    def applied(self) -> asyncio.Future[None]:
        """The command just applied joins the open batch; the future resolves when it is durable."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_loop(), context=contextvars.Context())
        return future

    def abort(self, error: BaseException) -> None:
        """A command failed half-way through its mutation: the open batch will never be written."""
        self._fail(self._waiting, error)
        self._waiting = []
        self.stale = True
        if self._committer is None or self._committer.done():
            try:  # nothing in flight: the database is the whole truth, rebuild at once
                self._install(self._read())
                self.stale = False
            except Exception:
                log.exception("exchange state could not be rebuilt; the next command retries")
        elif self._rebuilder is None or self._rebuilder.done():
            self._rebuilder = self._start_rebuild()  # once the batch in flight has landed

    async def drain(self) -> None:
        """Wait until every applied command is written (or has failed)."""
        while self._committer is not None and not self._committer.done():
            await asyncio.wait([self._committer])

    async def _commit_loop(self) -> None:
        while self._waiting and not self.stale:
            waiting, self._waiting = self._waiting, []
            try:
                batch = self._close()
                await asyncio.to_thread(self._write, batch)
            except BaseException as error:
                log.exception("group commit failed; its commands are not acknowledged")
                self._fail(waiting + self._waiting, error)
                self._waiting = []
                self.stale = True
                self._rebuilder = self._start_rebuild()
                if not isinstance(error, Exception):
                    raise
                return
            self.batches += 1
            if self._durable is not None:
                try:
                    self._durable(batch)
                except Exception:
                    log.exception("a listener of durable batches failed")
            for future in waiting:
                if not future.done():
                    future.set_result(None)

    def _start_rebuild(self) -> asyncio.Task[None]:
        task = asyncio.create_task(self._rebuild(), context=contextvars.Context())
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # a failure is seen by ready()
        return task

    async def _rebuild(self) -> None:
        await self.drain()  # a batch still in flight lands (or fails) before the database is read
        state = await asyncio.to_thread(self._read)
        self._install(state)
        self.stale = False

    @staticmethod
    def _fail(futures: list[asyncio.Future[None]], error: BaseException) -> None:
        for future in futures:
            if not future.done():
                failure = NotDurable()
                failure.__cause__ = error
                future.set_exception(failure)
