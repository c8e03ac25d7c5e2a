"""The SDK signs as the server verifies (HMAC, Ed25519, RSA), syncs its clock and types its errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from keyplane.client.api_errors import (
    ApiError,
    BadApiKeyFormat,
    BadRequest,
    BadSymbol,
    CancelRejected,
    InvalidSignature,
    KeyRejected,
    OrderRejected,
    RateLimited,
    TimestampOutsideWindow,
    UnknownOrder,
    api_error,
)
from keyplane.client.clock import offset_from
from keyplane.client.sdk import Keyplane
from keyplane.client.signing import HmacSigner, make_signer
from keyplane.client.vault import Credentials
from tests.client.conftest import Exchange
from tests.http.conftest import issue_key
from tests.support.signing import ed25519_pair, private_pem, rsa_pair


def test_hmac_signing_matches_binances_documented_example() -> None:
    # Binance's SIGNED endpoint example (HMAC SHA256) from its REST API documentation.
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    assert (
        HmacSigner(secret).sign(payload.encode())
        == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )


def test_an_hmac_key_reads_the_account(exchange_a: Exchange) -> None:
    with Keyplane.from_credentials(exchange_a.credentials("read")) as client:
        balances = {b["asset"]: b["free"] for b in client.account()["balances"]}
        assert balances["BTC"].startswith("1.5")
        assert client.api_restrictions()["enableSpotAndMarginTrading"] is False


@pytest.mark.parametrize("make_pair", [ed25519_pair, rsa_pair], ids=["ed25519", "rsa"])
def test_asymmetric_keys_sign_requests_the_server_accepts(
    exchange_a: Exchange, tmp_path: Path, make_pair: Callable[[], tuple[object, str]]
) -> None:
    private, public = make_pair()
    key = issue_key(exchange_a.server, "--permissions", "read", public_key=public, tmp=tmp_path)
    creds = Credentials(
        name="x",
        exchange="keyplane",
        url=exchange_a.url,
        api_key=key["key"],
        private_key=private_pem(private),
    )
    with Keyplane.from_credentials(creds) as client:
        assert client.api_restrictions()["keyplane"]["kind"] == key["kind"]


def test_a_wrong_secret_raises_invalid_signature(exchange_a: Exchange) -> None:
    key = exchange_a.key("read")
    client = Keyplane(exchange_a.url, key["key"], make_signer(secret="kps_" + "0" * 40))
    with client, pytest.raises(InvalidSignature) as caught:
        client.account()
    assert caught.value.api_code == -1022 and caught.value.status == 400
    assert "kps_" + "0" * 40 not in str(caught.value)


def test_bad_and_unknown_keys_raise_their_own_classes(exchange_a: Exchange) -> None:
    secret = exchange_a.key("read")["secret"]
    with (
        Keyplane(exchange_a.url, "not-a-key", make_signer(secret=secret)) as client,
        pytest.raises(BadApiKeyFormat),
    ):
        client.account()
    revoked = issue_key(exchange_a.server, "--permissions", "read")
    exchange_a.server.cli("keys", "revoke", revoked["key"])
    client = Keyplane(exchange_a.url, revoked["key"], make_signer(secret=revoked["secret"]))
    with client, pytest.raises(KeyRejected):
        client.account()


def test_a_read_key_cannot_trade_and_order_errors_are_typed(exchange_a: Exchange) -> None:
    with Keyplane.from_credentials(exchange_a.credentials("read")) as reader, pytest.raises(KeyRejected):
        reader.new_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001", price="100"
        )
    with Keyplane.from_credentials(exchange_a.credentials("read,trade")) as trader:
        with pytest.raises(BadSymbol):
            trader.new_order(
                symbol="NOPEUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="1", price="1"
            )
        with pytest.raises(CancelRejected, match="Unknown order"):
            trader.cancel_order("BTCUSDT", 987654321)
        with pytest.raises(UnknownOrder):
            trader.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": 987654321}, signed=True)
        with pytest.raises((OrderRejected, BadRequest)):
            trader.new_order(
                symbol="BTCUSDT",
                side="BUY",
                type="LIMIT",
                timeInForce="GTC",
                quantity="100000",
                price="100000",
            )


def test_a_skewed_local_clock_fails_until_the_offset_is_synced(exchange_a: Exchange) -> None:
    from keyplane.client.clock import wall_ms

    creds = exchange_a.credentials("read")
    behind = Keyplane.from_credentials(
        creds, now=lambda: wall_ms() - 60_000
    )  # this laptop runs a minute slow
    with behind, pytest.raises(TimestampOutsideWindow) as caught:
        behind.account()
    assert caught.value.api_code == -1021
    with Keyplane.from_credentials(creds, now=lambda: wall_ms() - 60_000) as synced:
        offset = synced.sync_clock()
        assert 59_000 <= offset <= 61_000
        assert synced.account()["balances"]


def test_a_cancel_and_a_query_of_the_same_order_in_one_millisecond_both_go_through(
    exchange_a: Exchange,
) -> None:
    """Same parameters, same millisecond: the SDK's timestamps still differ, so the signatures do
    (CI saw the query refused as a replay of the cancel's signature on another path)."""
    from keyplane.client.clock import wall_ms

    frozen = wall_ms()  # every request of this client is stamped in the same millisecond
    with Keyplane.from_credentials(exchange_a.credentials("read,trade"), now=lambda: frozen) as trader:
        placed = trader.new_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001", price="10000"
        )
        order = {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
        assert trader.delete("/api/v3/order", order, signed=True)["status"] == "CANCELED"
        assert trader.get("/api/v3/order", order, signed=True)["status"] == "CANCELED"


def test_offset_is_taken_at_the_midpoint_of_the_round_trip() -> None:
    assert offset_from(sent_ms=1_000, server_ms=5_100, received_ms=1_200) == 4_000


def test_unknown_codes_fall_back_by_range_and_status() -> None:
    assert type(api_error(-1199, "x", 400)) is BadRequest
    assert type(api_error(-9999, "x", 429)) is RateLimited
    assert type(api_error(-9999, "x", 400)) is ApiError
    assert api_error(-1003, "slow down", 429, retry_after=7).retry_after == 7


def test_repr_of_client_and_signer_shows_no_secret(exchange_a: Exchange) -> None:
    creds = exchange_a.credentials("read")
    client = Keyplane.from_credentials(creds)
    assert creds.secret not in repr(client) and creds.api_key not in repr(client)
    assert creds.secret not in repr(make_signer(secret=creds.secret))
    client.close()
