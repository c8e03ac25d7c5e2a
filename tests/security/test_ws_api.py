"""Attacks on the WebSocket API and the user data stream: the same pipeline as REST guards them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import REDIS_URL, redis_available
from tests.http.conftest import issue_key
from tests.http.exchange.funding import fund_before_start
from tests.support.aio import run
from tests.support.databases import backend
from tests.support.server import Instance, free_port, server_env
from tests.support.signing import hmac_hex
from tests.support.wsclient import ask, connect, next_json

FUNDS = {"USDT": "100000", "ETH": "100"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    from tests.support.databases import fresh_database

    tmp = tmp_path_factory.mktemp("wsapi")
    with fresh_database(tmp) as url:
        redis_url = REDIS_URL if backend() == "postgresql" and redis_available() else None
        instance = Instance(server_env(tmp / "data", url, redis_url), free_port())
        instance.cli("users", "create", "alice")
        fund_before_start(url, {"alice": FUNDS})
        instance.start(tmp / "server.log")
        yield instance
        instance.stop()


def signed(key: dict[str, str], **params: Any) -> dict[str, Any]:
    """Params as ccxt signs them for the WebSocket API: sorted, ``k=v`` joined, HMAC-SHA256 hex."""
    params = {"apiKey": key["key"], "timestamp": int(time.time() * 1000), **params}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "signature": hmac_hex(key["secret"], payload)}


ORDER = {
    "symbol": "ETHUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01",
    "price": "1000",
}


def test_a_replayed_websocket_order_signature_is_refused_here_and_on_rest(server: Instance) -> None:
    key = issue_key(server, "--permissions", "read,trade")

    async def go() -> dict[str, Any]:
        ws = await connect(server.url, "/ws-api/v3")
        try:
            params = signed(key, **ORDER)
            first = await ask(ws, {"id": "a", "method": "order.place", "params": params})
            assert first["status"] == 200 and first["result"]["status"] == "NEW"
            again = await ask(ws, {"id": "b", "method": "order.place", "params": params})
            assert again["status"] == 400 and again["error"]["code"] == -1021
            return params
        finally:
            await ws.close()

    params = run(go())
    # The same signed bytes as a REST query (sorted, as signed): a valid signature, seen before.
    unsigned = sorted((k, v) for k, v in params.items() if k != "signature")
    query = "&".join(f"{k}={v}" for k, v in unsigned) + "&signature=" + params["signature"]
    rest = httpx.post(server.url + "/api/v3/order?" + query, headers={"X-MBX-APIKEY": key["key"]})
    assert rest.status_code == 400 and rest.json()["code"] == -1021
    opened = httpx.get(
        server.url + "/api/v3/openOrders?" + _q(key), headers={"X-MBX-APIKEY": key["key"]}
    ).json()
    assert len(opened) == 1


def _q(key: dict[str, str]) -> str:
    params = {"timestamp": int(time.time() * 1000), "symbol": "ETHUSDT"}
    payload = "&".join(f"{k}={v}" for k, v in params.items())
    return payload + "&signature=" + hmac_hex(key["secret"], payload)


@pytest.mark.parametrize(
    ("strip", "code"),
    [({"signature"}, -1102), ({"apiKey", "signature"}, -2014), ({"timestamp"}, -1102)],
)
def test_an_unsigned_websocket_order_is_refused(server: Instance, strip: set[str], code: int) -> None:
    key = issue_key(server, "--permissions", "read,trade")

    async def go() -> None:
        ws = await connect(server.url, "/ws-api/v3")
        try:
            params = {k: v for k, v in signed(key, **ORDER).items() if k not in strip}
            answer = await ask(ws, {"id": 1, "method": "order.place", "params": params})
            assert answer["status"] >= 400 and answer["error"]["code"] == code
        finally:
            await ws.close()

    run(go())


def test_a_forged_signature_and_a_read_key_place_nothing(server: Instance) -> None:
    reader = issue_key(server, "--permissions", "read")
    trader = issue_key(server, "--permissions", "read,trade")

    async def go() -> None:
        ws = await connect(server.url, "/ws-api/v3")
        try:
            answer = await ask(ws, {"id": 1, "method": "order.place", "params": signed(reader, **ORDER)})
            assert answer["status"] == 401 and answer["error"]["code"] == -2015
            assert "trade" in answer["error"]["msg"]
            forged = {**signed(trader, **ORDER), "price": "999"}
            answer = await ask(ws, {"id": 2, "method": "order.place", "params": forged})
            assert answer["error"]["code"] == -1022
            # Refused, but counted against the IP: the answer says how much, as Binance's does.
            (weight,) = [x for x in answer["rateLimits"] if x["rateLimitType"] == "REQUEST_WEIGHT"]
            assert weight["count"] >= 1
            status = await ask(ws, {"id": 3, "method": "account.status", "params": signed(reader)})
            assert status["status"] == 200 and "balances" in status["result"]
        finally:
            await ws.close()

    run(go())


@pytest.mark.parametrize(
    "frame",
    [
        "{not json",
        "[]",
        json.dumps({"id": 1, "method": "order.place", "params": {"a": {"b": 1}}}),
        "\u0000" * 10,
    ],
)
def test_malformed_websocket_api_frames_get_an_error_not_a_traceback(server: Instance, frame: str) -> None:
    async def go() -> None:
        ws = await connect(server.url, "/ws-api/v3")
        try:
            await ws.send(frame)
            answer = await next_json(ws)
            assert answer["status"] == 400 and answer["error"]["code"] == -1100
            assert "Traceback" not in json.dumps(answer)
            assert (await ask(ws, {"id": "p", "method": "ping"}))["status"] == 200  # still serving
        finally:
            await ws.close()

    run(go())


def test_an_oversized_websocket_api_frame_closes_with_1009(server: Instance) -> None:
    async def go() -> None:
        ws = await connect(server.url, "/ws-api/v3")
        with pytest.raises(ConnectionClosed) as closed:
            await ws.send(json.dumps({"id": 1, "method": "ping", "params": {"x": "y" * 300_000}}))
            await next_json(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009

    run(go())


def test_a_revoked_key_closes_its_user_data_subscription_and_listen_key_stream(server: Instance) -> None:
    key = issue_key(server, "--permissions", "read,trade")
    listen_key = httpx.post(
        server.url + "/api/v3/userDataStream", headers={"X-MBX-APIKEY": key["key"]}
    ).json()["listenKey"]

    async def go() -> None:
        api = await connect(server.url, "/ws-api/v3")
        raw = await connect(server.url, "/ws/" + listen_key)
        sub = await ask(api, {"id": 1, "method": "userDataStream.subscribe.signature", "params": signed(key)})
        assert sub["result"] == {"subscriptionId": 0}
        server.cli("keys", "revoke", key["key"])
        for ws in (api, raw):
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await next_json(ws, timeout=30)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        again = await connect(server.url, "/ws-api/v3")
        try:
            refused = await ask(
                again, {"id": 2, "method": "userDataStream.subscribe.signature", "params": signed(key)}
            )
            assert refused["error"]["code"] == -2015
        finally:
            await again.close()

    run(go())


def test_listen_key_routes_need_a_live_api_key_and_the_owners_listen_key(server: Instance) -> None:
    key = issue_key(server, "--permissions", "read")
    other = issue_key(server, "--permissions", "read")
    url = server.url + "/api/v3/userDataStream"
    assert httpx.post(url).json()["code"] == -2014
    assert httpx.post(url, headers={"X-MBX-APIKEY": "kp_" + "x" * 40}).json()["code"] in (-2014, -2015)
    listen_key = httpx.post(url, headers={"X-MBX-APIKEY": key["key"]}).json()["listenKey"]
    assert httpx.post(url, headers={"X-MBX-APIKEY": key["key"]}).json()["listenKey"] == listen_key
    stolen = httpx.put(url + "?listenKey=" + listen_key, headers={"X-MBX-APIKEY": other["key"]})
    assert stolen.status_code == 400 and stolen.json()["code"] == -1125
    assert httpx.put(url + "?listenKey=" + listen_key, headers={"X-MBX-APIKEY": key["key"]}).json() == {}
    assert httpx.delete(url + "?listenKey=" + listen_key, headers={"X-MBX-APIKEY": key["key"]}).json() == {}
    gone = httpx.put(url + "?listenKey=" + listen_key, headers={"X-MBX-APIKEY": key["key"]})
    assert gone.json()["code"] == -1125


def flood(tmp_path: Path, database_url: str, frames: list[str]) -> list[dict[str, Any]]:
    """Send ``frames`` one by one on a WebSocket API connection to a server whose IP limit is 30
    weight a minute; their answers. No Redis: its IP buckets are shared by every test server on
    127.0.0.1, which would pass 30 at once."""
    env = server_env(tmp_path / "data", database_url, None, KEYPLANE_WEIGHT_LIMIT_PER_IP="30")
    instance = Instance(env, free_port())
    instance.start(tmp_path / "server.log")

    async def go() -> list[dict[str, Any]]:
        ws = await connect(instance.url, "/ws-api/v3")
        try:
            answers = []
            for frame in frames:
                await ws.send(frame)
                answers.append(await next_json(ws))
            return answers
        finally:
            await ws.close()

    try:
        return run(go())
    finally:
        instance.stop()


def test_a_websocket_api_flood_meets_the_ip_weight_limit(tmp_path: Path, database_url: str) -> None:
    answers = flood(tmp_path, database_url, [json.dumps({"id": i, "method": "ping"}) for i in range(40)])
    assert answers[0]["status"] == 200
    assert answers[-1]["status"] in (429, 418) and answers[-1]["error"]["code"] == -1003


def test_a_flood_of_unreadable_websocket_api_frames_meets_the_ip_weight_limit(
    tmp_path: Path, database_url: str
) -> None:
    """Frames refused before any route is reached (not JSON, an unknown method) weigh as an unproven
    refusal does on REST (1 + refused_weight): before, they were answered for free, without end."""
    unknown = [json.dumps({"id": i, "method": "no.such.method"}) for i in range(5)]
    answers = flood(tmp_path, database_url, [f for pair in zip(unknown, ["{not json"] * 5) for f in pair])
    counts = [answer["rateLimits"][0]["count"] for answer in answers[:2]]
    assert answers[0]["status"] == 400 and counts[1] - counts[0] == 11
    assert answers[-1]["status"] in (429, 418) and answers[-1]["error"]["code"] == -1003
