"""uvicorn's httptools protocol with a bounded request head and a deadline to send it.

Left alone, uvicorn with httptools buffers a request line and headers of any size (a 100 MB
header was accepted) and waits for them for ever, so one client can hold memory or a connection
for nothing. This protocol counts the head as it arrives and answers 414 or 431 as soon as a
limit is passed; it closes a connection whose head does not arrive in full within the deadline
(408 if part of it came), including one that never sends a byte. Bodies are bounded by
:class:`keyplane.http.limits.RequestLimits`, which sees them as the app reads them; idle
keep-alive connections are closed by uvicorn's own ``timeout_keep_alive``.

Binance-sized requests are far below the limits: a signed query string is a few hundred bytes.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

MAX_URL_BYTES = 16 * 1024
# The whole head: request line and every header line. httptools buffers a header until its end,
# so this is counted on the bytes received while the head is incomplete (one read more at most).
MAX_HEAD_BYTES = 32 * 1024
MAX_HEADERS = 100
TOO_LARGE_CODE = -1101
TIMEOUT_CODE = -1000


class _HeadRefused(Exception):
    """Raised in a parser callback to stop parsing; the answer waits in ``_refusal``."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """One connection; ``head_timeout`` is set per server by :func:`bounded_protocol`."""

    head_timeout: float = 10.0

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._reading_head = False
        self._head_bytes = 0
        self._refusal: tuple[int, int, str] | None = None
        self._refused = False
        self._head_timer: asyncio.TimerHandle | None = None

    # -- connection events -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._reading_head and self._head_bytes > MAX_HEAD_BYTES:
            self._answer(431, TOO_LARGE_CODE, f"Request head too large; the limit is {MAX_HEAD_BYTES} bytes.")
            return
        if self._head_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()
        super().data_received(data)
        if self._reading_head:
            self._head_bytes += len(data)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error; a limit that stopped the parser answers instead."""
        if self._refusal is not None:
            self._answer(*self._refusal)
        else:
            super().send_400_response(msg)

    # -- parser callbacks ----------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        self._head_bytes = 0
        if self._head_timer is None:
            self._arm()

    def on_url(self, url: bytes) -> None:
        if len(self.url) + len(url) > MAX_URL_BYTES:
            self._stop(414, f"Request URL too large; the limit is {MAX_URL_BYTES} bytes.")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= MAX_HEADERS:
            self._stop(431, f"Request head too large; the limit is {MAX_HEADERS} header lines.")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._disarm()
        super().on_headers_complete()

    # -- refusals ------------------------------------------------------------------------------
    def _stop(self, status: int, msg: str) -> None:
        self._refusal = (status, TOO_LARGE_CODE, msg)
        raise _HeadRefused(msg)

    def _answer(self, status: int, code: int, msg: str) -> None:
        """A Binance-shaped error, then close: the rest of the request is never read."""
        self._refused = True
        self._disarm()
        body = json.dumps({"code": code, "msg": msg}).encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        if not self.transport.is_closing():
            self.transport.write(b"".join(head) + body)
            self.transport.close()

    # -- the head deadline ---------------------------------------------------------------------
    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head is late while the previous answer is still being made: let that
            # answer finish, then close.
            self.cycle.keep_alive = False
            return
        if self._reading_head:
            self._answer(
                408, TIMEOUT_CODE, f"Request head not received within {self.head_timeout:g} seconds."
            )
        else:
            self._refused = True
            self.transport.close()


def bounded_protocol(head_timeout: float) -> type[BoundedHttpToolsProtocol]:
    """The protocol class to give ``uvicorn.run(http=...)``, with this server's head deadline."""

    class Configured(BoundedHttpToolsProtocol):
        pass

    Configured.head_timeout = head_timeout
    return Configured
