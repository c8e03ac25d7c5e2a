"""Attacks on order amendment: reaching another account's order, and splitting a cancel-replace.

A cancel-replace names the order to cancel by id or client id; another account's order must look
exactly like an unknown one (no cancel, no amend, nothing learnt). A captured signed cancel-replace
re-sent, to its own path or as a plain new order (the same signed bytes are a valid new order's
parameters), must be refused whole: one cancel and one new order, however often it is replayed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REDIS_URL
from tests.http.conftest import issue_key
from tests.http.exchange.funding import credit
from tests.security.test_forwarding import ORDER as FORWARDED_ORDER
from tests.security.test_forwarding import two_instances
from tests.support.server import Instance
from tests.support.signed_attacks import (
    ORDER,
    Signer,
    all_orders,
    code_of,
    open_orders,
    running_funded,
    send,
    signed_call,
    signed_query,
    trade_signer,
)

CANCEL_REPLACE, AMEND = "/api/v3/order/cancelReplace", "/api/v3/order/amend/keepPriority"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    with running_funded(tmp_path_factory.mktemp("amend")) as instance:
        instance.cli("users", "create", "mallory")
        credit(instance, "mallory", "USDT", "100000")
        yield instance


def mallory_signer(server: Instance) -> Signer:
    key = issue_key(server, "--permissions", "read,trade", user="mallory")
    return Signer("hmac", key["key"], secret=key["secret"])


def account(server: Instance, signer: Signer) -> list[dict[str, Any]]:
    response = signed_call(server, signer, "GET", "/api/v3/account")
    assert response.status_code == 200, response.text
    return response.json()["balances"]  # type: ignore[no-any-return]


def test_cancel_replace_cannot_reach_another_accounts_order(server: Instance, tmp_path: Path) -> None:
    alice = trade_signer(server, "hmac", tmp_path)
    mallory = mallory_signer(server)
    placed = signed_call(server, alice, "POST", "/api/v3/order", {**ORDER, "newClientOrderId": "alice-1"})
    assert placed.status_code == 200, placed.text
    victim = placed.json()
    before = open_orders(server, alice), account(server, alice)
    new = {**ORDER, "price": "9"}
    for ref in ({"cancelOrderId": victim["orderId"]}, {"cancelOrigClientOrderId": "alice-1"}):
        stopped = signed_call(
            server, mallory, "POST", CANCEL_REPLACE, {**new, **ref, "cancelReplaceMode": "STOP_ON_FAILURE"}
        )
        assert stopped.status_code == 400 and stopped.json()["code"] == -2022
        assert stopped.json()["data"]["cancelResponse"] == {"code": -2011, "msg": "Unknown order sent."}
        allowed = signed_call(
            server, mallory, "POST", CANCEL_REPLACE, {**new, **ref, "cancelReplaceMode": "ALLOW_FAILURE"}
        )
        assert allowed.status_code == 409 and allowed.json()["data"]["cancelResult"] == "FAILURE"
        amend = signed_call(
            server, mallory, "PUT", AMEND, {"symbol": "SOLUSDT", **_amend_ref(ref), "newQty": "0.5"}
        )
        assert (code_of(amend), amend.json()["msg"]) == (-2038, "Unknown order sent.")
    assert (open_orders(server, alice), account(server, alice)) == before
    assert len(open_orders(server, mallory)) == 2  # mallory's own new orders, nothing of alice's
    signed_call(server, alice, "DELETE", "/api/v3/openOrders", {"symbol": "SOLUSDT"})
    signed_call(server, mallory, "DELETE", "/api/v3/openOrders", {"symbol": "SOLUSDT"})


def _amend_ref(ref: dict[str, Any]) -> dict[str, Any]:
    if "cancelOrderId" in ref:
        return {"orderId": ref["cancelOrderId"]}
    return {"origClientOrderId": ref["cancelOrigClientOrderId"]}


def test_a_replayed_cancel_replace_cannot_split_the_pair(server: Instance, tmp_path: Path) -> None:
    alice = trade_signer(server, "hmac", tmp_path)
    first = signed_call(server, alice, "POST", "/api/v3/order", ORDER)
    assert first.status_code == 200, first.text
    old_id = first.json()["orderId"]
    orders_before = len(all_orders(server, alice))
    params = {**ORDER, "price": "9", "cancelOrderId": old_id, "cancelReplaceMode": "ALLOW_FAILURE"}
    payload, signature = signed_query(alice, params)
    body = f"{payload}&signature={signature}"
    done = send(server, alice.key_id, "POST", CANCEL_REPLACE, body=body)
    assert done.status_code == 200, done.text
    new_id = done.json()["newOrderResponse"]["orderId"]
    for method, path in (("POST", CANCEL_REPLACE), ("POST", "/api/v3/order"), ("DELETE", "/api/v3/order")):
        again = send(server, alice.key_id, method, path, body=body)
        assert code_of(again) in (-1021, -1022), (path, again.text)
    assert [o["orderId"] for o in open_orders(server, alice)] == [new_id]
    assert len(all_orders(server, alice)) == orders_before + 1
    usdt = next(b for b in account(server, alice) if b["asset"] == "USDT")
    assert usdt["locked"] == "9.00000000"
    signed_call(server, alice, "DELETE", "/api/v3/openOrders", {"symbol": "SOLUSDT"})


def test_a_cancel_replace_through_a_gateway_runs_on_the_writer_and_relays_its_answer(tmp_path: Path) -> None:
    """The gateway forwards the signed pair whole, and relays the writer's 409 with its data."""
    with two_instances(tmp_path, REDIS_URL) as pair:
        key = pair.key
        signer = Signer("hmac", key["key"], secret=key["secret"])
        order = {**FORWARDED_ORDER, "price": "20000"}
        placed = signed_call(pair.gateway, signer, "POST", "/api/v3/order", order)
        assert placed.status_code == 200, placed.text
        new = {**order, "price": "20001", "cancelOrderId": placed.json()["orderId"]}
        done = signed_call(
            pair.gateway, signer, "POST", CANCEL_REPLACE, {**new, "cancelReplaceMode": "STOP_ON_FAILURE"}
        )
        assert done.status_code == 200 and done.json()["cancelResult"] == "SUCCESS", done.text
        again = signed_call(
            pair.gateway, signer, "POST", CANCEL_REPLACE, {**new, "cancelReplaceMode": "ALLOW_FAILURE"}
        )
        assert again.status_code == 409 and again.json()["code"] == -2021
        assert again.json()["data"]["cancelResponse"] == {"code": -2011, "msg": "Unknown order sent."}
        opened = open_orders(pair.gateway, signer, "BTCUSDT")
        assert sorted(o["price"] for o in opened) == ["20001.00000000", "20001.00000000"]
