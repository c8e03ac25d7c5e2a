"""The key life cycle: defaults, policy rules, limits, rotation and audit."""

from __future__ import annotations

import json

import pytest

from keyplane.keys.errors import InvalidSignature, KeyManagementError
from keyplane.keys.model import KeyKind, KeyStatus, Permission
from keyplane.keys.service import Actor
from keyplane.store import key_repo
from tests.keys.conftest import KeyBench
from tests.keys.test_pipeline import READ, request, verify
from tests.support.signing import ed25519_pair

OP = Actor("operator", "192.0.2.10")


def test_a_new_key_is_read_only_hmac_with_its_secret_returned_once(bench: KeyBench) -> None:
    issued = bench.service.create(bench.user_id, OP, label="tracker")
    assert issued.key.permissions == frozenset({Permission.READ})
    assert issued.key.kind is KeyKind.HMAC and issued.secret and issued.secret.startswith("kps_")
    assert issued.secret not in repr(issued)
    assert not hasattr(bench.service.get(issued.key.key_id), "secret")


def test_read_is_always_granted(bench: KeyBench) -> None:
    key = bench.service.create(bench.user_id, OP, permissions=frozenset({Permission.TRADE})).key
    assert key.permissions == frozenset({Permission.READ, Permission.TRADE})


def test_withdraw_is_refused_without_an_ip_allowlist(bench: KeyBench) -> None:
    with pytest.raises(KeyManagementError, match="IP allowlist"):
        bench.service.create(bench.user_id, OP, permissions=frozenset({Permission.WITHDRAW}))
    key = bench.service.create(
        bench.user_id, OP, permissions=frozenset({Permission.WITHDRAW}), ip_allowlist=("192.0.2.1",)
    ).key
    with pytest.raises(KeyManagementError, match="IP allowlist"):
        bench.service.edit(key.key_id, OP, ip_allowlist=())


@pytest.mark.parametrize(
    "policy",
    [
        {"ip_allowlist": ("300.1.1.1",)},
        {"symbols": ("btc-usdt",)},
        {"label": "x" * 200},
        {"expires_at": 1},
    ],
)
def test_bad_policy_is_refused_and_nothing_is_written(bench: KeyBench, policy: dict[str, object]) -> None:
    with pytest.raises(KeyManagementError):
        bench.service.create(bench.user_id, OP, **policy)  # type: ignore[arg-type]
    assert bench.service.list(bench.user_id) == []


def test_at_most_max_keys_per_user(bench: KeyBench) -> None:
    limit = bench.service.rules.max_keys_per_user
    for _ in range(limit):
        bench.service.create(bench.user_id, OP)
    with pytest.raises(KeyManagementError, match="most allowed"):
        bench.service.create(bench.user_id, OP)
    bench.service.revoke(bench.service.list(bench.user_id)[0].key_id, OP)
    bench.service.create(bench.user_id, OP)


def test_edit_changes_policy_and_records_when_trade_was_granted(bench: KeyBench) -> None:
    key = bench.service.create(bench.user_id, OP).key
    bench.clock.advance(10)
    edited = bench.service.edit(
        key.key_id,
        OP,
        label="bot",
        permissions=frozenset({Permission.TRADE}),
        ip_allowlist=("10.0.0.0/8",),
        symbols=("ethusdt",),
    )
    assert edited.label == "bot" and Permission.TRADE in edited.permissions
    assert edited.ip_allowlist == ("10.0.0.0/8",) and edited.symbols == frozenset({"ETHUSDT"})
    assert edited.trade_since == bench.clock()


def test_revocation_is_final(bench: KeyBench) -> None:
    key = bench.service.create(bench.user_id, OP).key
    assert bench.service.revoke(key.key_id, OP).status is KeyStatus.REVOKED
    for change in (
        lambda: bench.service.enable(key.key_id, OP),
        lambda: bench.service.edit(key.key_id, OP, label="again"),
        lambda: bench.service.rotate(key.key_id, OP),
    ):
        with pytest.raises(KeyManagementError, match="final"):
            change()


def test_rotation_keeps_the_old_secret_only_for_the_grace_period(bench: KeyBench) -> None:
    issued = bench.service.create(bench.user_id, OP)
    key_id, old = issued.key.key_id, issued.secret
    assert old is not None
    rotated = bench.service.rotate(key_id, OP, grace_seconds=60)
    new = rotated.secret
    assert new is not None and new != old
    bench.refresh()
    verify(bench, request(bench, key_id, new))
    verify(bench, request(bench, key_id, old, {"n": "1"}))
    bench.clock.advance(61)
    with pytest.raises(InvalidSignature):
        verify(bench, request(bench, key_id, old, {"n": "2"}), READ)
    verify(bench, request(bench, key_id, new, {"n": "3"}))


def test_rotating_an_ed25519_key_registers_the_new_public_key(bench: KeyBench) -> None:
    _, first = ed25519_pair()
    _, second = ed25519_pair()
    key = bench.service.create(bench.user_id, OP, public_key_pem=first).key
    with pytest.raises(KeyManagementError, match="new public key"):
        bench.service.rotate(key.key_id, OP)
    rotated = bench.service.rotate(key.key_id, OP, public_key_pem=second)
    assert rotated.secret is None and rotated.key.public_key_pem == second


def test_every_change_is_an_audit_event_with_actor_ip_and_time(bench: KeyBench) -> None:
    issued = bench.service.create(bench.user_id, OP)
    key_id = issued.key.key_id
    bench.service.edit(key_id, OP, label="x")
    bench.service.disable(key_id, OP)
    bench.service.enable(key_id, OP)
    bench.service.rotate(key_id, OP)
    bench.service.revoke(key_id, OP)
    with bench.service._engine.connect() as conn:
        events = list(reversed(key_repo.audit_of(conn, key_id=key_id)))
    assert [e["action"] for e in events] == [
        "key.create",
        "key.edit",
        "key.disable",
        "key.enable",
        "key.rotate",
        "key.revoke",
    ]
    assert all(e["actor"] == "operator" and e["source_ip"] == "192.0.2.10" and e["at"] for e in events)
    assert all(issued.secret not in e["detail"] for e in events)
    assert json.loads(events[0]["detail"])["permissions"] == "read"


def test_a_change_made_in_this_process_reaches_its_cache_at_once(bench: KeyBench) -> None:
    bench.service.on_change(bench.cache.invalidate)  # as build_server_parts wires it
    issued = bench.service.create(bench.user_id, OP)
    key_id, old = issued.key.key_id, issued.secret
    assert old is not None
    verify(bench, request(bench, key_id, old))  # now cached
    new = bench.service.rotate(key_id, OP).secret
    assert new is not None
    verify(bench, request(bench, key_id, new, {"n": "1"}))  # no refresh, no poll
    with pytest.raises(InvalidSignature):
        verify(bench, request(bench, key_id, old, {"n": "2"}))
