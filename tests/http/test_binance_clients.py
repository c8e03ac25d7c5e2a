"""ccxt and python-binance, unmodified, against a running ``keyplane serve``."""

from __future__ import annotations

from pathlib import Path

import ccxt
import pytest
from binance.exceptions import BinanceAPIException

from tests.http.conftest import issue_key
from tests.support.clients import ccxt_binance, python_binance
from tests.support.server import Instance
from tests.support.signing import ed25519_pair, private_pem, rsa_pair


def test_ccxt_reads_api_restrictions_with_an_hmac_key(server: Instance) -> None:
    key = issue_key(server, "--permissions", "read,trade")
    info = ccxt_binance(server.url, key["key"], key["secret"]).sapi_get_account_apirestrictions()
    assert info["enableReading"] is True and info["enableSpotAndMarginTrading"] is True
    assert info["enableWithdrawals"] is False and info["ipRestrict"] is False
    assert info["keyplane"]["keyId"] == key["key"]


@pytest.mark.parametrize("make_pair", [ed25519_pair, rsa_pair], ids=["ed25519", "rsa"])
def test_ccxt_signs_with_an_asymmetric_private_key(server: Instance, tmp_path: Path, make_pair) -> None:  # type: ignore[no-untyped-def]
    private, public = make_pair()
    key = issue_key(server, public_key=public, tmp=tmp_path)
    assert "secret" not in key
    info = ccxt_binance(server.url, key["key"], private_pem(private)).sapi_get_account_apirestrictions()
    assert info["keyplane"]["kind"] == key["kind"]


def test_python_binance_reads_permissions_with_hmac_and_ed25519(server: Instance, tmp_path: Path) -> None:
    hmac_key = issue_key(server)
    assert python_binance(server.url, hmac_key["key"], hmac_key["secret"]).get_account_api_permissions()[
        "enableReading"
    ]
    private, public = ed25519_pair()
    ed_key = issue_key(server, public_key=public, tmp=tmp_path)
    client = python_binance(server.url, ed_key["key"], private_key=private_pem(private))
    assert client.get_account_api_permissions()["keyplane"]["kind"] == "ed25519"


def test_wrong_secret_is_1022_and_ccxt_raises_authentication_error(server: Instance) -> None:
    key = issue_key(server)
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        ccxt_binance(server.url, key["key"], "kps_wrong").sapi_get_account_apirestrictions()
    with pytest.raises(BinanceAPIException) as caught:
        python_binance(server.url, key["key"], "kps_wrong").get_account_api_permissions()
    assert caught.value.code == -1022 and caught.value.status_code == 400


def test_malformed_and_unknown_keys_are_2014_and_2015_with_status_401(server: Instance) -> None:
    key = issue_key(server)
    with pytest.raises(BinanceAPIException) as malformed:
        python_binance(server.url, "not-a-key", key["secret"]).get_account_api_permissions()
    assert (malformed.value.code, malformed.value.status_code) == (-2014, 401)
    with pytest.raises(ccxt.AuthenticationError, match="-2014"):
        ccxt_binance(server.url, "not-a-key", key["secret"]).sapi_get_account_apirestrictions()
    revoked = issue_key(server)
    server.cli("keys", "revoke", revoked["key"])
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        ccxt_binance(server.url, revoked["key"], "kps_guess").sapi_get_account_apirestrictions()


def test_clock_skew_is_1021_and_ccxt_raises_invalid_nonce(server: Instance) -> None:
    key = issue_key(server)
    ahead = ccxt_binance(server.url, key["key"], key["secret"])
    ahead.options["timeDifference"] = -5000  # the client's clock runs 5 s fast
    with pytest.raises(ccxt.InvalidNonce, match="ahead"):
        ahead.sapi_get_account_apirestrictions()
    behind = ccxt_binance(server.url, key["key"], key["secret"], recvWindow=5000)
    behind.options["timeDifference"] = 20000
    with pytest.raises(ccxt.InvalidNonce, match="recvWindow"):
        behind.sapi_get_account_apirestrictions()


def test_ip_not_in_allowlist_is_refused_with_a_precise_message(server: Instance) -> None:
    key = issue_key(server, "--ip", "192.0.2.0/24")
    with pytest.raises(ccxt.AuthenticationError, match="Request IP 127.0.0.1 is not in"):
        ccxt_binance(server.url, key["key"], key["secret"]).sapi_get_account_apirestrictions()
    allowed = issue_key(server, "--ip", "127.0.0.0/8", "--ip", "::1")
    assert ccxt_binance(server.url, allowed["key"], allowed["secret"]).sapi_get_account_apirestrictions()[
        "ipRestrict"
    ]


def test_revoked_key_is_refused_by_the_running_server(server: Instance) -> None:
    key = issue_key(server)
    client = python_binance(server.url, key["key"], key["secret"])
    client.get_account_api_permissions()
    server.cli("keys", "revoke", key["key"])
    import time

    deadline = time.monotonic() + 1.0
    while True:
        try:
            client.get_account_api_permissions()
        except BinanceAPIException as refused:
            assert refused.code == -2015 and "revoked" in refused.message
            break
        assert time.monotonic() < deadline, "revocation not seen within one second"
        time.sleep(0.05)
