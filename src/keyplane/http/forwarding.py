"""Every instance serves every route: exchange requests on a gateway go to the exchange writer.

Sending: :func:`forward` wraps what this instance has proven about a request (the client's IP, the
API key whose signature it verified and the weight it charged, or the operator token) with the
request itself into a signed envelope and relays the writer's answer. :func:`on_exchange` does the
same for plain endpoints (console pages, which the writer authenticates itself from the session).

Receiving: :class:`ForwardedRequests` is the only door through which an envelope enters. It checks
the signature, age and single use (:class:`keyplane.cluster.channel.Channel`) and then runs the
original request through the app with the proven facts in the ASGI scope, where no header can
put them. Anything else sent to the forwarding path is refused and weighed like a bad signature.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyplane.cluster.channel import SIGNATURE_HEADER, ChannelError, Forwarded
from keyplane.cluster.gateway import FORWARD_PATH, NOT_WRITER_HEADER, Relayed, end_to_end
from keyplane.exchange.errors import ExchangeError, ExchangeUnavailable
from keyplane.http.clientip import client_ip, forwarded_for
from keyplane.runtime import ServerParts

log = logging.getLogger("keyplane.http.forwarding")

SCOPE_KEY = "keyplane.forwarded"


def forwarded_of(request: Request) -> Forwarded | None:
    """What a gateway proved about this request, if it came through the channel."""
    found = request.scope.get(SCOPE_KEY)
    return found if isinstance(found, Forwarded) else None


def request_ip(request: HTTPConnection) -> str:
    client = request.scope.get("client")
    peer = client[0] if client else ""
    trusted = request.app.state.trusted_proxies
    if not trusted:  # no proxy is trusted: X-Forwarded-For cannot change the answer, skip reading it
        return peer
    hops = forwarded_for(request.headers.getlist("x-forwarded-for"))
    return client_ip(peer, hops, trusted)


def relay(answer: Relayed) -> Response:
    response = Response(answer.body, status_code=answer.status)
    response.raw_headers.extend(answer.headers)
    return response


async def forward(
    request: Request,
    body: bytes,
    *,
    client_ip: str,
    key_id: str | None = None,
    weight: int | None = None,
    operator: bool = False,
) -> Response:
    """Hand the request to the exchange writer; a request that came forwarded is never sent on."""
    if forwarded_of(request) is not None:
        raise ExchangeUnavailable()
    parts: ServerParts = request.app.state.parts
    envelope = Forwarded(
        method=request.method,
        path=request.scope["path"],
        query=request.scope.get("query_string", b""),
        headers=end_to_end(list(request.scope["headers"])),
        client_ip=client_ip,
        key_id=key_id,
        weight=weight,
        operator=operator,
    )
    return relay(await parts.gateway.forward(envelope, body))


Endpoint = Callable[[Request], Awaitable[Response]]


def on_exchange(endpoint: Endpoint, on_error: Callable[[Exception], Response]) -> Endpoint:
    """Run ``endpoint`` here if this instance runs the exchange, else on the instance that does."""

    async def wrapper(request: Request) -> Response:
        parts: ServerParts = request.app.state.parts
        if parts.platform.runs_exchange:
            return await endpoint(request)
        try:
            return await forward(request, await request.body(), client_ip=request_ip(request))
        except ExchangeError as error:
            return on_error(error)

    return wrapper


async def _answer(send: Send, status: int, code: int, msg: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"code": code, "msg": msg}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ForwardedRequests:
    """ASGI middleware: opens envelopes posted to the forwarding path; passes everything else on."""

    def __init__(self, app: ASGIApp, parts: ServerParts) -> None:
        self.app = app
        self.parts = parts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != FORWARD_PATH:
            await self.app(scope, receive, send)
            return
        envelope = await _read_body(receive)
        signature = ""
        for name, value in scope["headers"]:
            if name == SIGNATURE_HEADER.encode():
                signature = value.decode("latin-1")
        try:
            if scope["method"] != "POST":
                raise ChannelError("not a POST")
            forwarded, body = self.parts.channel.open(envelope, signature)
        except ChannelError as refused:
            peer = scope["client"][0] if scope.get("client") else ""
            log.warning("refused a forwarded request from %s: %s", peer, refused)
            await self.parts.verifier.charge_unreadable(peer, 1)
            await _answer(send, 401, -1002, "You are not authorized to execute this request.", [])
            return
        if not self.parts.platform.runs_exchange:
            msg = "This instance no longer runs the exchange."
            await _answer(send, 503, -1008, msg, [(NOT_WRITER_HEADER.encode(), b"1")])
            return
        inner: Scope = {
            **scope,
            "method": forwarded.method,
            "path": forwarded.path,
            "raw_path": forwarded.path.encode(),
            "query_string": forwarded.query,
            "headers": [*forwarded.headers, (b"content-length", str(len(body)).encode())],
            "client": (forwarded.client_ip, 0),
            SCOPE_KEY: forwarded,
        }
        await self.app(inner, _replay(body, receive), send)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, then: Receive) -> Receive:
    """The original body in one message; afterwards whatever the connection says (a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await then()

    return receive
