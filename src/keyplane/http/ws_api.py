"""Binance's WebSocket API, ``/ws-api/v3``: the REST routes' handlers, called over one connection.

Each request ``{"id", "method", "params"}`` names a REST route (``order.place`` is ``POST
/api/v3/order``) and is verified by the same pipeline: the signature over the sorted parameters
(as Binance and ccxt build it, or percent-encoded as python-binance does), the replay guard
(bound to the WebSocket method, so a signature never serves twice nor on REST), the IP allowlist,
the permission and the weight. ``session.logon`` (Ed25519 keys, as on Binance) lets later requests
on the session omit ``apiKey`` and ``signature``. ``userDataStream.subscribe.signature`` (and
``userDataStream.subscribe`` on a session) sends the key's account events on this connection,
wrapped as ``{"subscriptionId", "event"}``; revoking the key closes the connection.

Every answer carries ``rateLimits`` as Binance's do: the IP's request weight this minute and, for
a request that placed orders, the account's ORDERS counts (``returnRateLimits=false`` on the
connection's URL or on one request leaves them out). A request refused before it was charged
(malformed, or refused by verification) carries none.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from keyplane.clock import now_ms
from keyplane.cluster.channel import Forwarded
from keyplane.cluster.gateway import NoSharedReplayGuard
from keyplane.exchange.errors import InvalidParameter
from keyplane.http import binance_json, ws_methods
from keyplane.http.errors import to_response
from keyplane.http.forwarding import request_ip
from keyplane.http.routing import Call, Route
from keyplane.http.ws_connection import Connection
from keyplane.keys.errors import BadParameter, KeyError_, RequestRefused
from keyplane.keys.model import ApiKey, KeyKind, Permission
from keyplane.keys.payload import ParsedRequest, SignedRequest
from keyplane.keys.pipeline import RouteNeeds
from keyplane.runtime import ServerParts
from keyplane.streams.names import user_topic

Json = dict[str, Any]
# What a request spent, under the names of the REST headers that report it.
WEIGHT, ORDERS_10S, ORDERS_1D = "X-MBX-USED-WEIGHT-1M", "X-MBX-ORDER-COUNT-10S", "X-MBX-ORDER-COUNT-1D"


class ApiConnection(Connection):
    message_budget = False  # every request weighs, as on REST (per IP, and per key once signed)

    def __init__(self, ws: WebSocket, parts: ServerParts) -> None:
        assert parts.streams is not None
        super().__init__(ws, parts.streams)
        self.parts = parts
        self.ip = request_ip(ws)
        self.session: ApiKey | None = None
        self.connected_since = now_ms()
        self._subscription: tuple[str, int] | None = None  # key id, user id
        self._keys: set[str] = set()  # keys whose revocation closes this connection
        self.return_rate_limits = ws.query_params.get("returnRateLimits") != "false"

    def deliver(self, name: str, text: str) -> None:
        self.send_text('{"subscriptionId":0,"event":' + text + "}")

    def closed(self) -> None:
        if self._subscription is not None:
            self.streams.hub.unsubscribe(self, user_topic(self._subscription[1]), "user")
        for key_id in self._keys:
            self.streams.sessions.remove(key_id, self.token)

    def _watch_key(self, key_id: str) -> None:
        if key_id not in self._keys:
            self._keys.add(key_id)
            self.streams.sessions.add(key_id, self.token, self.close)

    async def on_text(self, text: str) -> None:
        request_id: Any = None
        counted: dict[str, str] = {}  # the weight and order counts spent, by their REST headers
        wanted = self.return_rate_limits
        try:
            try:
                request = json.loads(text)
            except (json.JSONDecodeError, RecursionError):
                raise BadParameter(
                    -1100, "Illegal characters found in a parameter: malformed JSON."
                ) from None
            if not isinstance(request, dict):
                raise BadParameter(-1100, "Illegal characters found in a parameter: expected a JSON object.")
            request_id = request.get("id")
            if (
                request_id is not None
                and not isinstance(request_id, (str, int))
                or isinstance(request_id, bool)
            ):
                request_id = None
                raise BadParameter(-1100, "Illegal characters found in parameter 'id'.")
            method = request.get("method")
            params = ws_methods.string_params(request.get("params", {}))
            wanted = wanted and params.get("returnRateLimits") != "false"
            status, result = await self._call(method, params, counted)
            answer = {"id": request_id, "status": status, "result": result}
        except Exception as error:  # noqa: BLE001 - every error becomes a Binance-shaped answer
            if WEIGHT not in counted:
                error = await self._count_refusal(error, counted)
            response = to_response(error)
            body = json.loads(bytes(response.body))
            answer = {"id": request_id, "status": response.status_code, "error": body}
        if wanted and counted:
            answer["rateLimits"] = self._rate_limits(counted)
        self.send_json(answer)

    async def _count_refusal(self, error: Exception, counted: dict[str, str]) -> Exception:
        """Report a refusal's weight, as Binance does; returns the error to answer with.

        One the verifier counted carries its weight. One made before any route counted it (not
        JSON, an unknown method) weighs as an unreadable REST request does, or a flood of such
        frames would be free; if that puts the IP over its limit, the limit is the answer."""
        if isinstance(error, KeyError_) and error.used_weight is not None:
            counted[WEIGHT] = str(error.used_weight)
            return error
        try:
            counted[WEIGHT] = str(await self.parts.verifier.charge_unreadable(self.ip, 1))
        except KeyError_ as limited:
            if limited.used_weight is not None:
                counted[WEIGHT] = str(limited.used_weight)
            return limited
        return error

    def _rate_limits(self, counted: dict[str, str]) -> list[Json]:
        """Binance's ``rateLimits``: the ORDERS windows if the request placed orders, then the weight."""
        orders = self.parts.platform.order_rate_limits
        out: list[Json] = []
        if ORDERS_10S in counted:
            out = binance_json.order_counts(orders, (int(counted[ORDERS_10S]), int(counted[ORDERS_1D])))
        if WEIGHT in counted:
            weight = binance_json.request_weight(self.parts.verifier.limits.weight_per_ip)
            out.append(dict(weight, count=int(counted[WEIGHT])))
        return out

    async def _call(self, method: Any, params: dict[str, str], counted: dict[str, str]) -> tuple[int, Any]:
        if method in ("ping", "time"):
            counted[WEIGHT] = str(await self.parts.verifier.charge_public(self.ip, 1))
            return 200, {} if method == "ping" else {"serverTime": now_ms()}
        if method == "session.logon":
            return 200, await self._logon(params, counted)
        if method == "session.status":
            return 200, self._status()
        if method == "session.logout":
            self.session = None
            return 200, self._status()
        if method == "userDataStream.subscribe.signature":
            key = await self._verify(params, RouteNeeds(Permission.READ, 2, None), method, counted)
            return 200, self._subscribe(key)
        if method == "userDataStream.subscribe":  # the logged-on session's key, no parameters
            if self.session is None or await self.streams.user_of(self.session.key_id) is None:
                raise RequestRefused("Log on first (session.logon) with a usable API key.")
            return 200, self._subscribe(self.session)
        if method == "userDataStream.unsubscribe":
            if self._subscription is not None:
                self.streams.hub.unsubscribe(self, user_topic(self._subscription[1]), "user")
                self._subscription = None
            return 200, {}
        route = ws_methods.route_of(method)
        if route is None:
            shown = method[:40] if isinstance(method, str) else ""
            raise InvalidParameter(f"Unknown method {shown!r}.", -1100)
        if route.security.value == "public":
            used = await self.parts.verifier.charge_public(self.ip, route.weight_of(params))
            counted[WEIGHT] = str(used)
            params = {k: v for k, v in params.items() if k != "returnRateLimits"}
            if route.on_exchange and not self.parts.platform.runs_exchange:
                return await self._forward(route, params, None, counted)
            return 200, await route.handler(Call(self.ws, self.parts, params, self.ip))
        binding = route.method + " " + route.path
        key = await self._verify(params, route.needs(params), binding, counted)
        params = {k: v for k, v in params.items() if k not in ("apiKey", "signature", "returnRateLimits")}
        if route.on_exchange and not self.parts.platform.runs_exchange:
            if self.parts.redis is None:
                raise NoSharedReplayGuard()
            return await self._forward(route, params, key, counted)
        call = Call(self.ws, self.parts, params, self.ip, key)
        result = await route.handler(call)
        counted.update(call.headers)
        return 200, result

    async def _verify(
        self, params: dict[str, str], needs: RouteNeeds, binding: str, counted: dict[str, str]
    ) -> ApiKey:
        """A signed request, or one on a logged-on session (no apiKey or signature)."""
        if "signature" not in params and self.session is not None:
            verified = await self.parts.verifier.verify_session(self.session.key_id, params, self.ip, needs)
            counted[WEIGHT] = str(verified.used_weight)
            return verified.key
        signature = params.get("signature")
        unsigned = {k: v for k, v in params.items() if k != "signature"}
        parsed = ParsedRequest(unsigned, signature, ws_methods.signing_payloads(unsigned))
        state_changing = needs.permission is not Permission.READ
        method = "POST" if state_changing else "GET"
        signed = SignedRequest(method, parsed, params.get("apiKey"), self.ip, "ws " + binding)
        verified = await self.parts.verifier.verify(signed, needs)
        counted[WEIGHT] = str(verified.used_weight)
        self._watch_key(verified.key.key_id)
        return verified.key

    async def _logon(self, params: dict[str, str], counted: dict[str, str]) -> Json:
        key = await self._verify(params, RouteNeeds(Permission.READ, 2, None), "session.logon", counted)
        if key.kind is not KeyKind.ED25519:
            raise RequestRefused("session.logon needs an Ed25519 API key; sign each request with this key.")
        self.session = key
        return self._status()

    def _status(self) -> Json:
        now = now_ms()
        return {
            "apiKey": self.session.key_id if self.session else None,
            "authorizedSince": now if self.session else None,
            "connectedSince": self.connected_since,
            "returnRateLimits": self.return_rate_limits,
            "serverTime": now,
            "userDataStream": self._subscription is not None,
        }

    def _subscribe(self, key: ApiKey) -> Json:
        if self._subscription is None:
            self._subscription = (key.key_id, key.user_id)
            self.streams.hub.subscribe(self, user_topic(key.user_id), "user")
        self._watch_key(key.key_id)
        return {"subscriptionId": 0}

    async def _forward(
        self, route: Route, params: dict[str, str], key: ApiKey | None, counted: dict[str, str]
    ) -> tuple[int, Any]:
        """On a gateway instance: the writer runs the command, as for a forwarded REST request."""
        envelope = Forwarded(
            method=route.method,
            path=route.path,
            query=urlencode(params).encode(),
            headers=[],
            client_ip=self.ip,
            key_id=key.key_id if key is not None else None,
            weight=route.weight_of(params),
        )
        answer = await self.parts.gateway.forward(envelope, b"")
        for name, value in answer.headers:
            if name.lower() in (b"x-mbx-order-count-10s", b"x-mbx-order-count-1d"):
                counted[name.decode("latin-1").upper()] = value.decode("latin-1")
        body = json.loads(answer.body)
        if answer.status != 200:
            raise ws_methods.Relayed(body, answer.status)
        return 200, body


async def endpoint(ws: WebSocket) -> None:
    await ApiConnection(ws, ws.app.state.parts).serve()


API_ROUTES = [WebSocketRoute("/ws-api/v3", endpoint)]
