"""One WebSocket connection as Binance runs them: a send queue, a message budget, a 24-hour life.

Why a queue per connection: the hub hands a message to every reader without awaiting; this
connection's sender task writes them out. A reader too slow to keep up (its queue full) is
disconnected rather than slowing everyone. Incoming messages are counted per second: past the
limit the connection is closed, as Binance does. Pings and pongs are the WebSocket server's
(every 20 s; no pong within a minute closes). A connection closes itself after ``max_age_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from keyplane import jsontext
from keyplane.http.errors import error_response
from keyplane.http.forwarding import request_ip
from keyplane.streams.service import Streams

log = logging.getLogger(__name__)
POLICY = 1008  # WebSocket close code: policy violation
TOO_BIG = 1009
_tokens = itertools.count(1)


class Connection:
    # Market streams allow a few control messages per second; the WebSocket API counts request
    # weight instead (per IP and key, as REST), so its subclass turns the budget off.
    message_budget = True

    def __init__(self, ws: WebSocket, streams: Streams) -> None:
        self.ws = ws
        self.streams = streams
        self.token = next(_tokens)
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=streams.limits.queue + 1)
        self._window = 0.0
        self._count = 0
        self._closing: tuple[int, str] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._admitted: str | None = None  # the IP whose connection slot this one holds

    # -- the reader side (the hub calls it; must not block) -----------------------------------
    def deliver(self, name: str, text: str) -> None:
        self.send_text(text)

    def send_text(self, text: str) -> None:
        if self._closing is not None:
            return
        if self._queue.qsize() >= self.streams.limits.queue:
            log.info("a WebSocket reader could not keep up; disconnected")
            self.close_soon(POLICY, "Too slow: messages were not read in time.")
            return
        self._queue.put_nowait(text)

    def send_json(self, data: Any) -> None:
        self.send_text(jsontext.dumps_text(data))

    # -- life cycle ---------------------------------------------------------------------------
    async def serve(self) -> None:
        """Admit (or refuse the handshake), accept, run until either side closes, always clean up."""
        ip = request_ip(self.ws)
        refusal = self.streams.admission.admit(ip)
        if refusal is not None:  # not logged: a flood of attempts would flood the log
            await self.ws.send_denial_response(error_response(-1003, refusal, 429))
            return
        self._admitted = ip
        try:
            await self._serve()
        finally:
            self._release()

    def _release(self) -> None:
        """Give the IP's slot back, once: as soon as the connection is closing (before its close
        frame goes out, so a client that saw its connection close may open another at once)."""
        if self._admitted is not None:
            self.streams.admission.release(self._admitted)
            self._admitted = None

    async def _serve(self) -> None:
        await self.ws.accept()
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.streams.limits.max_age_s, self.close_soon, 1000, "Connection age limit.")
        self._sender = asyncio.create_task(self._send_loop())
        try:
            await self.opened()
            await self._read_loop()
        except WebSocketDisconnect:
            pass
        finally:
            timer.cancel()
            self.closed()
            self._release()
            self.close_soon(1000, "")
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._sender), 5)
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sender

    async def opened(self) -> None:
        """Subclasses subscribe their initial streams here."""

    def closed(self) -> None:
        """Subclasses drop their subscriptions here."""

    async def on_text(self, text: str) -> None:
        raise NotImplementedError

    async def _read_loop(self) -> None:
        while self._closing is None:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            if self.message_budget and not self._within_budget():
                return
            text = message.get("text")
            if text is None:
                data = message.get("bytes") or b""
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    text = "\x00"  # not JSON: answered as invalid JSON
            await self.on_text(text)

    def _within_budget(self) -> bool:
        """Binance's budget of incoming messages per second; past it the connection closes."""
        now = time.monotonic()
        if now - self._window >= 1.0:
            self._window, self._count = now, 0
        self._count += 1
        if self._count > self.streams.limits.messages_per_second:
            limit = self.streams.limits.messages_per_second
            self.close_soon(POLICY, f"Too many messages; the limit is {limit} per second.")
            return False
        return True

    def close_soon(self, code: int, reason: str) -> None:
        """Stop sending messages and close once what was queued before is sent."""
        if self._closing is not None:
            return
        self._closing = (code, reason)
        self._queue.put_nowait(None)

    async def close(self) -> None:
        """Close from outside (a revoked key): the read loop then ends."""
        self.close_soon(POLICY, "The API key was revoked or disabled.")

    async def _send_loop(self) -> None:
        while True:
            text = await self._queue.get()
            if text is None:
                code, reason = self._closing or (1000, "")
                if self.ws.application_state is WebSocketState.CONNECTED:
                    with contextlib.suppress(Exception):
                        await self.ws.close(code, reason)
                return
            try:
                await self.ws.send_text(text)
            except Exception:  # noqa: BLE001 - the peer went away; the read loop ends too
                self._closing = self._closing or (1000, "")
                return
