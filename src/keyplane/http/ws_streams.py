"""Binance's market streams: raw ``/ws/<stream>`` and combined ``/stream?streams=a/b``.

A connection may change what it reads with ``SUBSCRIBE``, ``UNSUBSCRIBE``, ``LIST_SUBSCRIPTIONS``,
``SET_PROPERTY``/``GET_PROPERTY`` (``combined``), answered with the request's id, and errors in
Binance's form ``{"error": {"code", "msg"}, "id"}``. A path part that is a live listenKey reads
that key's user data (closed when the key is revoked). Names Keyplane does not serve are ignored in
the path (ccxt opens ``/ws/0`` and subscribes afterwards) and refused in a ``SUBSCRIBE``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from keyplane.http.ws_connection import Connection
from keyplane.streams.listen_keys import looks_like_listen_key
from keyplane.streams.names import Stream, parse, user_topic
from keyplane.streams.service import Streams

METHODS = "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"


class Refusal(Exception):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code, self.msg = code, msg


class StreamConnection(Connection):
    def __init__(self, ws: WebSocket, streams: Streams, names: list[str], combined: bool) -> None:
        super().__init__(ws, streams)
        self.combined = combined
        self._initial = names
        self._subs: dict[str, Stream] = {}
        self._user: tuple[str, str, int] | None = None  # listenKey, key id, user id

    def deliver(self, name: str, text: str) -> None:
        if self.combined:
            text = '{"stream":' + json.dumps(name) + ',"data":' + text + "}"
        self.send_text(text)

    async def opened(self) -> None:
        symbols = await self.streams.symbols()
        for name in self._initial[: self.streams.limits.max_streams]:
            if looks_like_listen_key(name) and self._user is None:
                await self._open_user(name)
                continue
            stream = parse(name, symbols)
            if stream is not None:
                self._add(stream)

    async def _open_user(self, listen_key: str) -> None:
        key_id = await self.streams.listen_keys.owner(listen_key)
        if key_id is None:
            return
        user_id = await self.streams.user_of(key_id)
        if user_id is None:
            return
        self._user = (listen_key, key_id, user_id)
        self.streams.hub.subscribe(self, user_topic(user_id), listen_key)
        self.streams.sessions.add(key_id, self.token, self.close)

    def closed(self) -> None:
        for stream in self._subs.values():
            self.streams.hub.unsubscribe(self, stream.topic, stream.name)
        self._subs.clear()
        if self._user is not None:
            listen_key, key_id, user_id = self._user
            self.streams.hub.unsubscribe(self, user_topic(user_id), listen_key)
            self.streams.sessions.remove(key_id, self.token)

    def _add(self, stream: Stream) -> None:
        if stream.name not in self._subs:
            self._subs[stream.name] = stream
            self.streams.hub.subscribe(self, stream.topic, stream.name)

    async def on_text(self, text: str) -> None:
        request_id: Any = None
        try:
            try:
                request = json.loads(text)
            except (json.JSONDecodeError, RecursionError):
                raise Refusal(3, "Invalid JSON: expected value at line 1 column 1") from None
            if not isinstance(request, dict):
                raise Refusal(2, "Invalid request: expected an object")
            request_id = request.get("id")
            if "id" not in request:
                raise Refusal(2, "Invalid request: missing field `id`")
            if not isinstance(request_id, int) or isinstance(request_id, bool) or request_id < 0:
                request_id = None
                raise Refusal(2, "Invalid request: request ID must be an unsigned integer")
            result = await self._handle(request)
            self.send_json({"result": result, "id": request_id})
        except Refusal as refusal:
            self.send_json({"error": {"code": refusal.code, "msg": refusal.msg}, "id": request_id})

    async def _handle(self, request: dict[str, Any]) -> Any:
        method = request.get("method")
        if method is None:
            raise Refusal(2, "Invalid request: missing field `method`")
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            names = _names(request.get("params"))
            symbols = await self.streams.symbols()
            parsed = []
            for name in names:
                stream = parse(name, symbols)
                if stream is None:
                    raise Refusal(2, f"Invalid request: unknown stream name {name[:64]!r}")
                parsed.append(stream)
            if method == "SUBSCRIBE":
                new = {s.name for s in parsed} - set(self._subs)
                if len(self._subs) + len(new) > self.streams.limits.max_streams:
                    limit = self.streams.limits.max_streams
                    raise Refusal(
                        2, f"Invalid request: too many streams; the limit is {limit} per connection"
                    )
                for stream in parsed:
                    self._add(stream)
            else:
                for stream in parsed:
                    if self._subs.pop(stream.name, None) is not None:
                        self.streams.hub.unsubscribe(self, stream.topic, stream.name)
            return None
        if method == "LIST_SUBSCRIPTIONS":
            return list(self._subs)
        if method == "SET_PROPERTY":
            params = request.get("params")
            if not (isinstance(params, list) and len(params) == 2 and params[0] == "combined"):
                raise Refusal(0, "Unknown property")
            if not isinstance(params[1], bool):
                raise Refusal(1, "Invalid value type: expected Boolean")
            self.combined = params[1]
            return None
        if method == "GET_PROPERTY":
            params = request.get("params")
            if params != ["combined"]:
                raise Refusal(0, "Unknown property")
            return self.combined
        shown = method[:32] if isinstance(method, str) else type(method).__name__
        raise Refusal(2, f"Invalid request: unknown variant {shown}, expected one of {METHODS}")


def _names(params: Any) -> list[str]:
    if not isinstance(params, list):
        raise Refusal(2, "Invalid request: `params` must be a list of stream names")
    if not all(isinstance(p, str) for p in params):
        raise Refusal(1, "Invalid value type: expected a string")
    return list(params)


def _streams(ws: WebSocket) -> Streams:
    streams = ws.app.state.parts.streams
    assert streams is not None
    return streams  # type: ignore[no-any-return]


async def raw(ws: WebSocket) -> None:
    rest = ws.path_params.get("rest", "")
    names = [n for n in rest.split("/") if n]
    await StreamConnection(ws, _streams(ws), names, combined=False).serve()


async def combined(ws: WebSocket) -> None:
    names = [n for n in ws.query_params.get("streams", "").split("/") if n]
    await StreamConnection(ws, _streams(ws), names, combined=True).serve()


STREAM_ROUTES = [
    WebSocketRoute("/ws", raw),
    WebSocketRoute("/ws/{rest:path}", raw),
    WebSocketRoute("/stream", combined),
]
