"""Orders signed with Ed25519 and RSA keys, through both clients, on the SOLUSDT book."""

from __future__ import annotations

from pathlib import Path

from tests.http.conftest import issue_key
from tests.http.exchange.conftest import MINIMAL, Venue
from tests.support.clients import ccxt_binance, python_binance
from tests.support.signing import ed25519_pair, private_pem, rsa_pair


def test_ccxt_places_and_cancels_an_order_with_an_ed25519_key(venue: Venue, tmp_path: Path) -> None:
    private, public = ed25519_pair()
    key = issue_key(venue.server, "--permissions", "read,trade", public_key=public, tmp=tmp_path)
    exchange = ccxt_binance(venue.url, key["key"], private_pem(private), **MINIMAL)
    order = exchange.create_order("SOL/USDT", "limit", "buy", 1, 10)
    assert order["status"] == "open"
    assert exchange.cancel_order(order["id"], "SOL/USDT")["status"] == "canceled"


def test_python_binance_places_and_cancels_an_order_with_an_rsa_key(venue: Venue, tmp_path: Path) -> None:
    private, public = rsa_pair()
    key = issue_key(venue.server, "--permissions", "read,trade", public_key=public, tmp=tmp_path)
    client = python_binance(venue.url, key["key"], private_key=private_pem(private))
    placed = client.create_order(
        symbol="SOLUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="1", price="11"
    )
    assert placed["status"] == "NEW"
    canceled = client.cancel_order(symbol="SOLUSDT", orderId=placed["orderId"])
    assert canceled["status"] == "CANCELED"
