"""``keyplane review``: findings, and enforcement of the platform rules."""

from __future__ import annotations

from keyplane.keys.model import KeyStatus, Permission
from keyplane.keys.review import DAY_MS, apply_rules, review
from keyplane.keys.service import Actor
from tests.keys.conftest import KeyBench

OP = Actor("test")


def issues_of(bench: KeyBench, key_id: str) -> set[str]:
    return {f.issue for f in review(bench.service, bench.clock()) if f.key_id == key_id}


def test_trade_key_without_ip_allowlist_loses_trade_after_30_days(bench: KeyBench) -> None:
    open_trade = bench.service.create(bench.user_id, OP, permissions=frozenset({Permission.TRADE})).key
    fenced = bench.service.create(
        bench.user_id, OP, permissions=frozenset({Permission.TRADE}), ip_allowlist=("10.0.0.1",)
    ).key
    bench.clock.ms += 29 * DAY_MS
    assert "trade_without_ip" not in issues_of(bench, open_trade.key_id)
    bench.clock.ms += 1 * DAY_MS
    assert "trade_without_ip" in issues_of(bench, open_trade.key_id)
    done = apply_rules(bench.service, bench.clock())
    assert [(d.key_id, d.issue) for d in done] == [(open_trade.key_id, "trade_removed")]
    assert Permission.TRADE not in bench.service.get(open_trade.key_id).permissions
    assert Permission.TRADE in bench.service.get(fenced.key_id).permissions


def test_key_unused_for_90_days_is_disabled_and_a_used_one_is_not(bench: KeyBench) -> None:
    idle = bench.service.create(bench.user_id, OP).key
    used = bench.service.create(bench.user_id, OP).key
    bench.clock.ms += 60 * DAY_MS
    bench.usage.mark_used(used.key_id, bench.clock())
    bench.usage.flush()
    bench.clock.ms += 30 * DAY_MS
    done = apply_rules(bench.service, bench.clock())
    assert [(d.key_id, d.issue) for d in done] == [(idle.key_id, "disabled")]
    assert bench.service.get(idle.key_id).status is KeyStatus.DISABLED
    assert bench.service.get(used.key_id).status is KeyStatus.ACTIVE


def test_review_flags_withdraw_and_missing_allowlist_and_ignores_revoked_keys(bench: KeyBench) -> None:
    withdraw = bench.service.create(
        bench.user_id, OP, permissions=frozenset({Permission.WITHDRAW}), ip_allowlist=("10.0.0.1",)
    ).key
    plain = bench.service.create(bench.user_id, OP).key
    gone = bench.service.create(bench.user_id, OP).key
    bench.service.revoke(gone.key_id, OP)
    assert issues_of(bench, withdraw.key_id) == {"can_withdraw"}
    assert issues_of(bench, plain.key_id) == {"no_ip_allowlist"}
    assert issues_of(bench, gone.key_id) == set()
