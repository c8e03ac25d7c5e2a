"""Attacks on the channel between instances: it must never become a way around key verification.

A gateway forwards a request it has verified in a signed envelope; the writer acts on what the
envelope says (this key signed it). So the forwarding path is tried from outside: no signature,
a signature under another key, a tampered body, an old envelope, a captured envelope sent again,
the proven facts claimed through headers, and a replay of an executed order through the other
instance (with and without a shared replay guard).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select

from keyplane.cluster.channel import PURPOSE, SIGNATURE_HEADER, Channel, Forwarded
from keyplane.cluster.gateway import FORWARD_PATH
from keyplane.keys.masterkey import load_sealer
from keyplane.store.engine import make_engine
from keyplane.store.exchange_tables import ex_orders
from tests.conftest import REDIS_URL
from tests.http.conftest import issue_key
from tests.http.exchange.funding import fund_before_start
from tests.support.databases import fresh_database
from tests.support.server import Instance, free_port, server_env
from tests.support.signing import hmac_hex

FUNDS = {"USDT": "100000"}
ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001"}


@dataclass
class Pair:
    writer: Instance
    gateway: Instance
    key: dict[str, str]
    database_url: str
    data_dir: Path

    def orders(self) -> int:
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(ex_orders)).scalar_one())
        finally:
            engine.dispose()

    def channel(self) -> Channel:
        """The channel as an insider holding the master key would make it (to capture envelopes)."""
        return Channel(load_sealer(self.data_dir, None).derived_keys(PURPOSE))


@contextmanager
def two_instances(tmp_path: Path, redis_url: str | None) -> Iterator[Pair]:
    with fresh_database(tmp_path) as url:
        env = server_env(tmp_path / "data", url, redis_url)
        writer, gateway = Instance(env, free_port()), Instance(dict(env), free_port())
        writer.cli("users", "create", "alice")
        fund_before_start(url, {"alice": FUNDS})
        writer.start(tmp_path / "writer.log")
        gateway.start(tmp_path / "gateway.log")
        try:
            key = issue_key(writer, "--permissions", "read,trade")
            yield Pair(writer, gateway, key, url, tmp_path / "data")
        finally:
            gateway.stop()
            writer.stop()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with two_instances(tmp_path_factory.mktemp("forwarding"), REDIS_URL) as made:
        yield made


def signed_order(key: dict[str, str], price: str) -> str:
    query = urlencode({**ORDER, "price": price, "timestamp": str(int(time.time() * 1000))})
    return query + "&signature=" + hmac_hex(key["secret"], query)


def envelope_for(pair: Pair, price: str) -> Forwarded:
    """What a gateway would forward for alice's order: her key proven, no Binance signature needed."""
    return Forwarded(
        method="POST",
        path="/api/v3/order",
        query=urlencode({**ORDER, "price": price}).encode(),
        headers=[],
        client_ip="203.0.113.9",
        key_id=pair.key["key"],
        weight=1,
    )


def post_envelope(url: str, envelope: bytes, signature: str | None) -> httpx.Response:
    headers = {SIGNATURE_HEADER: signature} if signature is not None else {}
    return httpx.post(url + FORWARD_PATH, content=envelope, headers=headers)


def refused(answer: httpx.Response) -> bool:
    return answer.status_code == 401 and answer.json()["code"] == -1002


def test_an_envelope_without_a_genuine_signature_is_refused_and_places_nothing(pair: Pair) -> None:
    before = pair.orders()
    genuine, signature = pair.channel().seal(envelope_for(pair, "20000"), b"")
    forger = Channel([b"k" * 32])  # the attacker's own key
    forged, forged_signature = forger.seal(envelope_for(pair, "20000"), b"")
    attempts = [
        post_envelope(pair.writer.url, genuine, None),
        post_envelope(pair.writer.url, genuine, ""),
        post_envelope(pair.writer.url, forged, forged_signature),
        post_envelope(pair.writer.url, genuine.replace(b"20000", b"20001"), signature),  # tampered
        post_envelope(pair.writer.url, genuine + b"&quantity=9", signature),
        httpx.get(pair.writer.url + FORWARD_PATH, headers={SIGNATURE_HEADER: signature}),
        post_envelope(pair.gateway.url, forged, forged_signature),
    ]
    assert all(refused(a) for a in attempts), [(a.status_code, a.text) for a in attempts]
    assert "Traceback" not in "".join(a.text for a in attempts)
    assert pair.orders() == before


def test_a_captured_envelope_is_accepted_once_and_an_old_one_never(pair: Pair) -> None:
    before = pair.orders()
    channel = pair.channel()
    envelope, signature = channel.seal(envelope_for(pair, "20002"), b"")
    first = post_envelope(pair.writer.url, envelope, signature)
    assert first.status_code == 200 and first.json()["status"] == "NEW"  # the insider's own envelope works
    again = post_envelope(pair.writer.url, envelope, signature)
    assert refused(again)
    stale_channel = Channel(load_sealer(pair.data_dir, None).derived_keys(PURPOSE), clock=lambda: 1)
    stale, stale_signature = stale_channel.seal(envelope_for(pair, "20003"), b"")
    assert refused(post_envelope(pair.writer.url, stale, stale_signature))
    assert pair.orders() == before + 1


def test_headers_cannot_claim_what_only_a_verified_envelope_proves(pair: Pair) -> None:
    before = pair.orders()
    query = urlencode({**ORDER, "price": "20004", "timestamp": str(int(time.time() * 1000))})
    claims = {
        "X-MBX-APIKEY": pair.key["key"],
        SIGNATURE_HEADER: "anything",
        "x-keyplane-forwarded": "1",
        "keyplane.forwarded": "1",
        "x-keyplane-not-writer": "1",
    }
    for url in (pair.writer.url, pair.gateway.url):
        answer = httpx.post(url + "/api/v3/order?" + query, headers=claims)
        assert answer.status_code in (400, 401) and answer.json()["code"] in (-1102, -2014, -1022), (
            answer.text
        )
    assert pair.orders() == before


def test_an_executed_order_replayed_through_the_other_instance_is_refused(pair: Pair) -> None:
    before = pair.orders()
    headers = {"X-MBX-APIKEY": pair.key["key"]}
    captured = signed_order(pair.key, "20005")
    assert httpx.post(pair.writer.url + "/api/v3/order?" + captured, headers=headers).status_code == 200
    replayed = httpx.post(pair.gateway.url + "/api/v3/order?" + captured, headers=headers)
    assert replayed.json()["code"] == -1021
    other = signed_order(pair.key, "20006")
    assert httpx.post(pair.gateway.url + "/api/v3/order?" + other, headers=headers).status_code == 200
    assert httpx.post(pair.writer.url + "/api/v3/order?" + other, headers=headers).json()["code"] == -1021
    assert pair.orders() == before + 2


def test_without_a_shared_replay_guard_a_gateway_does_not_forward_signed_requests(tmp_path: Path) -> None:
    with two_instances(tmp_path, None) as alone:
        headers = {"X-MBX-APIKEY": alone.key["key"]}
        captured = signed_order(alone.key, "20007")
        assert httpx.post(alone.writer.url + "/api/v3/order?" + captured, headers=headers).status_code == 200
        # The gateway's own memory never saw it: forwarded, it would be executed twice.
        replayed = httpx.post(alone.gateway.url + "/api/v3/order?" + captured, headers=headers)
        assert replayed.status_code == 503 and replayed.json()["code"] == -1008, replayed.text
        assert "KEYPLANE_REDIS_URL" in replayed.json()["msg"]
        assert alone.orders() == 1
        # Public market data carries no signature to replay: it is still forwarded.
        assert httpx.get(alone.gateway.url + "/api/v3/depth?symbol=BTCUSDT").status_code == 200
