"""The verification pipeline, step by step, on a real database with a controlled clock."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import pytest

from keyplane.keys.errors import (
    BadParameter,
    InvalidSignature,
    IpNotAllowed,
    KeyInactive,
    MalformedKey,
    PermissionMissing,
    RateLimited,
    RequestRefused,
    SymbolNotAllowed,
    TimestampRejected,
)
from keyplane.keys.formats import new_key_id
from keyplane.keys.model import Permission
from keyplane.keys.payload import SignedRequest
from keyplane.keys.pipeline import RouteNeeds, Verified
from keyplane.keys.service import Actor
from tests.keys.conftest import KeyBench
from tests.support.signing import asym_signature, ed25519_pair, hmac_hex, rsa_pair

READ = RouteNeeds(Permission.READ)
TRADE = RouteNeeds(Permission.TRADE)
OP = Actor("test")


def request(
    bench: KeyBench,
    key_id: str,
    secret: str,
    params: dict[str, str] | None = None,
    *,
    method: str = "GET",
    ip: str = "127.0.0.1",
    offset_ms: int = 0,
) -> SignedRequest:
    query = urlencode({**(params or {}), "timestamp": str(bench.clock() + offset_ms)})
    signed = f"{query}&signature={hmac_hex(secret, query)}".encode()
    if method == "GET":
        return SignedRequest.from_raw(method, signed, b"", key_id, ip)
    return SignedRequest.from_raw(method, b"", signed, key_id, ip)


def verify(bench: KeyBench, req: SignedRequest, needs: RouteNeeds = READ) -> Verified:
    return asyncio.run(bench.verifier.verify(req, needs))


def hmac_key(bench: KeyBench, **policy: object) -> tuple[str, str]:
    issued = bench.service.create(bench.user_id, OP, **policy)  # type: ignore[arg-type]
    assert issued.secret is not None
    return issued.key.key_id, issued.secret


def test_a_good_hmac_request_passes_and_returns_the_key_and_params(bench: KeyBench) -> None:
    key_id, secret = hmac_key(bench)
    verified = verify(bench, request(bench, key_id, secret, {"symbol": "BTCUSDT"}))
    assert verified.key.key_id == key_id
    assert verified.params["symbol"] == "BTCUSDT"


def test_missing_or_malformed_key_is_2014_before_any_lookup(bench: KeyBench) -> None:
    key_id, secret = hmac_key(bench)
    for bad in (None, "", "abc", key_id[:-1] + ("A" if key_id[-1] != "A" else "B")):
        with pytest.raises(MalformedKey):
            verify(bench, request(bench, bad, secret))  # type: ignore[arg-type]


def test_unknown_key_is_refused_generically(bench: KeyBench) -> None:
    _, secret = hmac_key(bench)
    with pytest.raises(RequestRefused) as caught:
        verify(bench, request(bench, new_key_id(), secret))
    assert type(caught.value) is RequestRefused
    assert caught.value.msg == "Invalid API-key, IP, or permissions for action."


@pytest.mark.parametrize("offset_ms", [999, -5000])
def test_timestamps_at_the_edges_of_the_window_pass(bench: KeyBench, offset_ms: int) -> None:
    key_id, secret = hmac_key(bench)
    verify(bench, request(bench, key_id, secret, offset_ms=offset_ms))


def test_clock_ahead_by_1000ms_or_more_is_1021(bench: KeyBench) -> None:
    key_id, secret = hmac_key(bench)
    with pytest.raises(TimestampRejected, match="ahead"):
        verify(bench, request(bench, key_id, secret, offset_ms=1000))


def test_clock_behind_more_than_recv_window_is_1021(bench: KeyBench) -> None:
    key_id, secret = hmac_key(bench)
    with pytest.raises(TimestampRejected, match="recvWindow"):
        verify(bench, request(bench, key_id, secret, offset_ms=-5001))
    verify(bench, request(bench, key_id, secret, {"recvWindow": "10000"}, offset_ms=-9000))


def test_recv_window_above_60000_is_1131_and_timestamp_is_mandatory(bench: KeyBench) -> None:
    key_id, secret = hmac_key(bench)
    with pytest.raises(BadParameter) as caught:
        verify(bench, request(bench, key_id, secret, {"recvWindow": "60001"}))
    assert caught.value.code == -1131
    query = "symbol=BTCUSDT"
    req = SignedRequest.from_raw(
        "GET", f"{query}&signature={hmac_hex(secret, query)}".encode(), b"", key_id, "1.2.3.4"
    )
    with pytest.raises(BadParameter) as missing:
        verify(bench, req)
    assert missing.value.code == -1102


def test_microsecond_timestamps_are_accepted(bench: KeyBench) -> None:
    key_id, secret = hmac_key(bench)
    query = f"timestamp={bench.clock() * 1000 + 123}"
    verify(
        bench,
        SignedRequest.from_raw(
            "GET", f"{query}&signature={hmac_hex(secret, query)}".encode(), b"", key_id, "1.1.1.1"
        ),
    )


def test_wrong_secret_or_tampered_parameter_is_1022(bench: KeyBench) -> None:
    key_id, secret = hmac_key(bench)
    _, other_secret = hmac_key(bench)
    with pytest.raises(InvalidSignature):
        verify(bench, request(bench, key_id, other_secret))
    query = f"quantity=1&timestamp={bench.clock()}"
    signed = f"{query}&signature={hmac_hex(secret, query)}"
    verify(bench, SignedRequest.from_raw("GET", signed.encode(), b"", key_id, "127.0.0.1"))
    tampered = signed.replace("quantity=1", "quantity=9").encode()
    with pytest.raises(InvalidSignature):
        verify(bench, SignedRequest.from_raw("GET", tampered, b"", key_id, "127.0.0.1"))


@pytest.mark.parametrize("make_pair", [ed25519_pair, rsa_pair], ids=["ed25519", "rsa"])
def test_asymmetric_keys_sign_and_verify_through_the_pipeline(bench: KeyBench, make_pair) -> None:  # type: ignore[no-untyped-def]
    private, pem = make_pair()
    key = bench.service.create(bench.user_id, OP, public_key_pem=pem).key
    query = f"symbol=BTCUSDT&timestamp={bench.clock()}"
    good = SignedRequest.from_raw(
        "GET", f"{query}&signature={asym_signature(private, query)}".encode(), b"", key.key_id, "::1"
    )
    assert verify(bench, good).key.kind.value in ("ed25519", "rsa")
    other, _ = make_pair()
    bad = SignedRequest.from_raw(
        "GET", f"{query}&signature={asym_signature(other, query)}".encode(), b"", key.key_id, "::1"
    )
    with pytest.raises(InvalidSignature):
        verify(bench, bad)


def test_a_replayed_state_changing_request_is_refused_but_a_get_is_not(bench: KeyBench) -> None:
    key_id, secret = hmac_key(bench, permissions=frozenset({Permission.TRADE}))
    post = request(bench, key_id, secret, {"symbol": "BTCUSDT"}, method="POST")
    verify(bench, post, TRADE)
    with pytest.raises(TimestampRejected, match="replay"):
        verify(bench, post, TRADE)
    get = request(bench, key_id, secret)
    verify(bench, get)
    verify(bench, get)


@pytest.mark.parametrize(
    ("allowlist", "client", "allowed"),
    [
        (("10.0.0.0/8",), "10.1.2.3", True),
        (("10.0.0.0/8",), "11.0.0.1", False),
        (("203.0.113.7",), "203.0.113.7", True),
        (("2001:db8::/32",), "2001:db8::1", True),
        (("2001:db8::/32",), "2001:db9::1", False),
        (("192.0.2.0/24",), "::ffff:192.0.2.5", True),
        (("192.0.2.0/24", "2001:db8::/32"), "2001:db8:1::9", True),
    ],
)
def test_ip_allowlist_matches_cidrs_in_ipv4_and_ipv6(
    bench: KeyBench, allowlist: tuple[str, ...], client: str, allowed: bool
) -> None:
    key_id, secret = hmac_key(bench, ip_allowlist=allowlist)
    req = request(bench, key_id, secret, ip=client)
    if allowed:
        verify(bench, req)
    else:
        with pytest.raises(IpNotAllowed, match=f"Request IP {client} is not in"):
            verify(bench, req)


def test_a_read_only_key_is_told_precisely_that_it_cannot_trade(bench: KeyBench) -> None:
    key_id, secret = hmac_key(bench)
    with pytest.raises(PermissionMissing, match="'trade' permission") as caught:
        verify(bench, request(bench, key_id, secret, method="POST"), TRADE)
    assert caught.value.code == -2015


def test_symbol_allowlist_refuses_other_symbols(bench: KeyBench) -> None:
    key_id, secret = hmac_key(bench, symbols=("BTCUSDT",))
    verify(bench, request(bench, key_id, secret, {"symbol": "BTCUSDT"}))
    with pytest.raises(SymbolNotAllowed, match="ETHUSDT"):
        verify(bench, request(bench, key_id, secret, {"symbol": "ETHUSDT"}))


def test_expired_key_is_generic_to_strangers_and_precise_to_the_holder(bench: KeyBench) -> None:
    key_id, secret = hmac_key(bench, expires_at=bench.clock() + 60_000)
    verify(bench, request(bench, key_id, secret))
    bench.clock.advance(61)
    with pytest.raises(KeyInactive, match="expired"):
        verify(bench, request(bench, key_id, secret))
    with pytest.raises(RequestRefused) as stranger:
        verify(bench, request(bench, key_id, "kps_not_the_secret"))
    assert type(stranger.value) is RequestRefused


def test_disabled_and_revoked_keys_are_refused(bench: KeyBench) -> None:
    key_id, secret = hmac_key(bench)
    bench.service.disable(key_id, OP, "paused")
    bench.refresh()
    with pytest.raises(KeyInactive, match="disabled: paused"):
        verify(bench, request(bench, key_id, secret))
    bench.service.enable(key_id, OP)
    bench.refresh()
    verify(bench, request(bench, key_id, secret))
    bench.service.revoke(key_id, OP)
    bench.refresh()
    with pytest.raises(KeyInactive, match="revoked"):
        verify(bench, request(bench, key_id, secret))


def test_request_weight_over_the_key_limit_is_429_with_retry_after(bench: KeyBench) -> None:
    key_id, secret = hmac_key(bench)
    heavy = RouteNeeds(Permission.READ, weight=20)
    verify(bench, request(bench, key_id, secret, {"n": "1"}), heavy)
    verify(bench, request(bench, key_id, secret, {"n": "2"}), heavy)
    with pytest.raises(RateLimited) as caught:
        verify(bench, request(bench, key_id, secret, {"n": "3"}), heavy)
    assert caught.value.status == 429 and 1 <= caught.value.retry_after <= 60
    bench.clock.advance(60)
    verify(bench, request(bench, key_id, secret, {"n": "4"}), heavy)


def test_request_weight_is_also_limited_per_ip_across_keys(bench: KeyBench) -> None:
    heavy = RouteNeeds(Permission.READ, weight=30)
    first, second, third = hmac_key(bench), hmac_key(bench), hmac_key(bench)
    verify(bench, request(bench, *first, ip="198.51.100.1"), heavy)
    verify(bench, request(bench, *second, ip="198.51.100.1"), heavy)
    with pytest.raises(RateLimited, match="per IP"):
        verify(bench, request(bench, *third, ip="198.51.100.1"), heavy)
    verify(bench, request(bench, *hmac_key(bench), ip="198.51.100.2"), heavy)


def test_last_used_is_recorded_in_a_batch_not_per_request(bench: KeyBench) -> None:
    key_id, secret = hmac_key(bench)
    for n in range(5):
        verify(bench, request(bench, key_id, secret, {"n": str(n)}))
    assert bench.service.get(key_id).last_used_at is None
    bench.usage.flush()
    assert bench.service.get(key_id).last_used_at == bench.clock()


def test_refusals_are_audited_but_sampled(bench: KeyBench) -> None:
    from keyplane.store import key_repo

    key_id, _ = hmac_key(bench)
    for _ in range(20):
        with pytest.raises(InvalidSignature):
            verify(bench, request(bench, key_id, "kps_wrong"))
    bench.usage.flush()
    with bench.service._engine.connect() as conn:
        refused = [e for e in key_repo.audit_of(conn, key_id=key_id) if e["action"] == "request.refused"]
    assert len(refused) == 1
    assert "InvalidSignature" in refused[0]["detail"]
