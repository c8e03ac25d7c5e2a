"""Issue #7 item 2: Binance's signature covers neither the method nor the path.

So the URL of a signed ``GET /api/v3/openOrders`` (from a proxy log, say) sent as
``DELETE /api/v3/openOrders`` within its recvWindow would cancel every open order, and a captured
``POST /api/v3/order/test`` sent to ``/api/v3/order`` would place the order. The server remembers
the method and path each signature was first seen on, and refuses it on any other; a plain repeat
of the same GET stays allowed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import Instance
from tests.support.signed_attacks import (
    ORDER,
    Signer,
    code_of,
    open_orders,
    running_funded,
    send,
    signed_call,
    signed_query,
    trade_signer,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    with running_funded(tmp_path_factory.mktemp("binding")) as instance:
        yield instance


@pytest.fixture
def signer(server: Instance, tmp_path: Path) -> Signer:
    return trade_signer(server, "hmac", tmp_path)


def place(server: Instance, signer: Signer, symbol: str) -> int:
    response = signed_call(server, signer, "POST", "/api/v3/order", {**ORDER, "symbol": symbol})
    assert response.status_code == 200, response.text
    return int(response.json()["orderId"])


def test_a_signed_get_of_open_orders_replayed_as_delete_cancels_nothing(
    server: Instance, signer: Signer
) -> None:
    place(server, signer, "SOLUSDT")
    place(server, signer, "SOLUSDT")
    payload, signature = signed_query(signer, {"symbol": "SOLUSDT", "recvWindow": 60000})
    url = f"{payload}&signature={signature}"
    listed = send(server, signer.key_id, "GET", "/api/v3/openOrders", url)
    assert listed.status_code == 200 and len(listed.json()) >= 2

    replayed = send(server, signer.key_id, "DELETE", "/api/v3/openOrders", url)

    assert code_of(replayed) == -1021
    assert "GET /api/v3/openOrders" in replayed.json()["msg"]
    assert len(open_orders(server, signer)) == len(listed.json())


def test_a_plain_repeat_of_the_same_signed_get_is_still_answered(server: Instance, signer: Signer) -> None:
    payload, signature = signed_query(signer, {"symbol": "SOLUSDT"})
    url = f"{payload}&signature={signature}"
    for _ in range(3):
        assert send(server, signer.key_id, "GET", "/api/v3/openOrders", url).status_code == 200


def test_a_signed_query_of_one_order_replayed_as_its_cancel_is_refused(
    server: Instance, signer: Signer
) -> None:
    order_id = place(server, signer, "SOLUSDT")
    payload, signature = signed_query(signer, {"symbol": "SOLUSDT", "orderId": order_id})
    url = f"{payload}&signature={signature}"
    assert send(server, signer.key_id, "GET", "/api/v3/order", url).json()["status"] == "NEW"

    assert code_of(send(server, signer.key_id, "DELETE", "/api/v3/order", url)) == -1021
    assert order_id in [o["orderId"] for o in open_orders(server, signer)]


def test_a_test_order_replayed_to_the_real_order_route_places_nothing(
    server: Instance, signer: Signer
) -> None:
    before = len(open_orders(server, signer))
    payload, signature = signed_query(signer, ORDER)
    body = f"{payload}&signature={signature}"
    tested = send(server, signer.key_id, "POST", "/api/v3/order/test", body=body)
    assert tested.status_code == 200, tested.text

    replayed = send(server, signer.key_id, "POST", "/api/v3/order", body=body)

    assert code_of(replayed) == -1021
    assert "POST /api/v3/order/test" in replayed.json()["msg"]
    assert len(open_orders(server, signer)) == before


def test_two_different_reads_signed_with_the_same_parameters_are_both_answered(
    server: Instance, signer: Signer
) -> None:
    """python-binance signs account/status and apiTradingStatus in the same millisecond with the
    same parameters: the same signature on two reads. Refusing the second broke a real client."""
    payload, signature = signed_query(signer, {})
    url = f"{payload}&signature={signature}"
    assert send(server, signer.key_id, "GET", "/sapi/v1/account/status", url).status_code == 200
    assert send(server, signer.key_id, "GET", "/sapi/v1/account/apiTradingStatus", url).status_code == 200
    # ...but a read's signature never becomes a state change, on any path.
    assert code_of(send(server, signer.key_id, "DELETE", "/api/v3/openOrders", url)) in (-1021, -1102)


def test_a_cancel_replayed_as_a_read_is_refused_too(server: Instance, signer: Signer) -> None:
    order_id = place(server, signer, "SOLUSDT")
    payload, signature = signed_query(signer, {"symbol": "SOLUSDT", "orderId": order_id})
    url = f"{payload}&signature={signature}"
    assert send(server, signer.key_id, "DELETE", "/api/v3/order", url).status_code == 200

    assert code_of(send(server, signer.key_id, "GET", "/api/v3/order", url)) == -1021


def test_a_repeated_state_changing_request_is_still_refused_as_a_replay(
    server: Instance, signer: Signer
) -> None:
    before = len(open_orders(server, signer))
    payload, signature = signed_query(signer, ORDER)
    body = f"{payload}&signature={signature}"
    assert send(server, signer.key_id, "POST", "/api/v3/order", body=body).status_code == 200

    again = send(server, signer.key_id, "POST", "/api/v3/order", body=body)

    assert code_of(again) == -1021
    assert again.json()["msg"] == "This request was already received: replays are refused."
    assert len(open_orders(server, signer)) == before + 1
