"""Request bodies bounded in size and in time, on every route, before any route reads them.

A body used to be read in full before the key was looked at, so one 256 MB POST with a bad key
took a gigabyte of memory. Now a declared ``Content-Length`` over the limit is refused before one
byte of the body is read; a body without a length (chunked) is counted as the app reads it and
refused as soon as it passes the limit; a body that is not in within the deadline (a slow
sender) is refused too. Each refusal is a Binance-shaped error and closes the connection, so the
rest of the body is never read. Request heads are bounded in :mod:`keyplane.http.connection`.

A client that hangs up while its body is read (starlette's ``ClientDisconnect``) is the normal
end of that request: there is no one to answer and nothing to log.
"""

from __future__ import annotations

import asyncio
import json

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyplane.cluster.channel import MAX_META_BYTES
from keyplane.cluster.gateway import FORWARD_PATH

TOO_LARGE_CODE = -1101
TIMEOUT_CODE = -1000


class RequestRefused(Exception):
    """A request the limits refuse; ``code``, ``msg`` and ``status`` map it like a domain error."""

    def __init__(self, msg: str, status: int, code: int) -> None:
        super().__init__(msg)
        self.msg = msg
        self.status = status
        self.code = code


class BodyTooLarge(RequestRefused):
    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body too large; the limit is {limit} bytes.", 413, TOO_LARGE_CODE)


class BodyTooSlow(RequestRefused):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"Request body not received within {seconds:g} seconds.", 408, TIMEOUT_CODE)


class _Body:
    """``receive`` for the app, counting the body and holding it to its deadline."""

    def __init__(self, receive: Receive, limit: int, seconds: float, complete: bool) -> None:
        self._receive = receive
        self._limit = limit
        self._seconds = seconds
        self._deadline: float | None = None
        self.received = 0
        self.complete = complete

    async def receive(self) -> Message:
        if self.complete:  # after the body only ``http.disconnect`` can come: no deadline
            return await self._receive()
        loop = asyncio.get_running_loop()
        if self._deadline is None:
            self._deadline = loop.time() + self._seconds
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            raise BodyTooSlow(self._seconds) from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self._limit:
                raise BodyTooLarge(self._limit)
            self.complete = not message.get("more_body", False)
        return message


def _declared(scope: Scope) -> tuple[int | None, bool]:
    """The declared ``Content-Length`` (ASCII digits only) and whether a body may follow at all."""
    length: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():  # bytes.isdigit is ASCII-only
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked or bool(length)


async def _refuse(refused: RequestRefused, send: Send) -> None:
    body = json.dumps({"code": refused.code, "msg": refused.msg}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """ASGI middleware around the whole app: every route, known or not, is behind it."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, timeout_seconds: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, has_body = _declared(scope)
        limit = self.max_body_bytes
        if scope["path"] == FORWARD_PATH:  # a forwarded body comes with its envelope's metadata
            limit += MAX_META_BYTES
        if length is not None and length > limit:
            await _refuse(BodyTooLarge(limit), send)
            return
        body = _Body(receive, limit, self.timeout_seconds, complete=not has_body)
        started = False

        async def send_closing(message: Message) -> None:
            """An answer given before the body was read in full closes the connection."""
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if not body.complete:
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, body.receive, send_closing)
        except RequestRefused as refused:
            if not started:
                await _refuse(refused, send)
        except ClientDisconnect:
            return
