"""A small signing client for Keyplane's Binance-compatible API.

Use it when ccxt is more than you need (scripts, health checks) or to see exactly what is sent:

    client = Keyplane.from_credentials(vault.credentials("main"))
    client.sync_clock()
    client.get("/api/v3/account", signed=True)

Signed requests carry ``timestamp`` (local clock + measured offset), ``recvWindow`` and the
signature as the last parameter; the API key travels in ``X-MBX-APIKEY``. Error answers raise the
class for their code (``keyplane.client.api_errors``). No method logs or repeats key material.
"""

from __future__ import annotations

from typing import Any, Self
from urllib.parse import urlencode

import httpx

from keyplane.client.api_errors import ApiError, api_error
from keyplane.client.clock import Clock, Now, offset_from, wall_ms
from keyplane.client.signing import Signer, make_signer
from keyplane.client.vault import Credentials

Params = dict[str, Any]


class Keyplane:
    """One API key against one server; ``signer`` is ``None`` for public endpoints only."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        signer: Signer | None = None,
        *,
        recv_window: int = 5000,
        now: Now = wall_ms,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._signer = signer
        self.recv_window = recv_window
        self.clock = Clock(now)
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    @classmethod
    def from_credentials(cls, credentials: Credentials, **options: Any) -> Keyplane:
        if not credentials.url:
            raise ValueError(f"account {credentials.name!r} has no URL; the SDK talks to Keyplane servers")
        signer = make_signer(credentials.secret, credentials.private_key)
        return cls(credentials.url, credentials.api_key, signer, **options)

    def __repr__(self) -> str:
        kind = self._signer.kind if self._signer else "public"
        return f"Keyplane(base_url={self.base_url!r}, signing={kind!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- clock ------------------------------------------------------------------------------------

    def sync_clock(self) -> int:
        """Measure and keep the offset to the server's clock; returns it in milliseconds."""
        sent = self.clock.local()
        server = int(self.get("/api/v3/time")["serverTime"])
        received = self.clock.local()
        self.clock.offset_ms = offset_from(sent, server, received)
        return self.clock.offset_ms

    # -- requests ---------------------------------------------------------------------------------

    def get(self, path: str, params: Params | None = None, *, signed: bool = False) -> Any:
        return self.request("GET", path, params, signed=signed)

    def post(self, path: str, params: Params | None = None, *, signed: bool = True) -> Any:
        return self.request("POST", path, params, signed=signed)

    def delete(self, path: str, params: Params | None = None, *, signed: bool = True) -> Any:
        return self.request("DELETE", path, params, signed=signed)

    def request(self, method: str, path: str, params: Params | None = None, *, signed: bool = False) -> Any:
        """Send one request; parameters go in the query string, as Binance accepts for every verb."""
        query = [(k, _text(v)) for k, v in (params or {}).items() if v is not None]
        headers = {}
        if signed or self._api_key is not None:
            if self._api_key is None:
                raise ValueError("this endpoint needs an API key")
            headers["X-MBX-APIKEY"] = self._api_key
        if signed:
            if self._signer is None:
                raise ValueError("this endpoint needs a secret or private key to sign with")
            query += [("recvWindow", str(self.recv_window)), ("timestamp", str(self.clock.stamp()))]
            payload = urlencode(query)
            query.append(("signature", self._signer.sign(payload.encode("ascii"))))
        url = path + ("?" + urlencode(query) if query else "")
        try:
            response = self._http.request(method, url, headers=headers)
        except httpx.HTTPError as error:
            raise ApiError(-1001, f"could not reach {self.base_url}: {type(error).__name__}", 0) from None
        return _decode(response)

    # -- a few conveniences -----------------------------------------------------------------------

    def ping(self) -> None:
        self.get("/api/v3/ping")

    def server_time(self) -> int:
        return int(self.get("/api/v3/time")["serverTime"])

    def api_restrictions(self) -> dict[str, Any]:
        return dict(self.get("/sapi/v1/account/apiRestrictions", signed=True))

    def account(self) -> dict[str, Any]:
        return dict(self.get("/api/v3/account", signed=True))

    def new_order(self, **params: Any) -> dict[str, Any]:
        return dict(self.post("/api/v3/order", params))

    def cancel_order(self, symbol: str, order_id: int) -> dict[str, Any]:
        return dict(self.delete("/api/v3/order", {"symbol": symbol, "orderId": order_id}))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _decode(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code < 400:
        if body is None:
            raise ApiError(-1006, "the server sent an answer that is not JSON", response.status_code)
        return body
    retry = response.headers.get("Retry-After")
    retry_after = int(retry) if retry and retry.isdigit() else None
    if isinstance(body, dict) and isinstance(body.get("code"), int):
        raise api_error(int(body["code"]), str(body.get("msg", "")), response.status_code, retry_after)
    raise api_error(0, f"HTTP {response.status_code}", response.status_code, retry_after)
