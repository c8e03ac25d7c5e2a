from __future__ import annotations

from sqlalchemy import func, select

from keyplane.demo.seed import DEMO_KEY_LABEL, DEMO_USER, FUNDS, KEEP_DEMO_KEYS, issue_demo_key, seed
from keyplane.exchange.markets import default_markets
from keyplane.keys.model import KeyKind, KeyStatus, Permission
from keyplane.runtime import Platform
from keyplane.store.tables import users
from tests.support.aio import run


def holdings(p: Platform, name: str) -> dict[str, object]:
    return {b.asset: b.free + b.locked for b in p.exchange.balances(p.keys.user_id(name))}


def test_seeding_twice_creates_no_second_user_and_no_extra_funds(platform: Platform) -> None:
    first = run(seed(platform))
    before = {name: holdings(platform, name) for name in FUNDS}
    second = run(seed(platform))

    assert second == first
    assert {name: holdings(platform, name) for name in FUNDS} == before
    for name, targets in FUNDS.items():
        assert all(before[name][asset] == amount for asset, amount in targets.items())
    with platform.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(users)).scalar_one() == len(FUNDS)
    assert {m.symbol for m in default_markets()} <= set(platform.exchange.markets)


def test_seeding_again_tops_spent_funds_back_up_to_the_target(platform: Platform) -> None:
    run(seed(platform))
    demo = platform.keys.user_id(DEMO_USER)
    run(platform.exchange.credit(demo, "BTC", FUNDS[DEMO_USER]["BTC"], "test"))
    run(seed(platform))
    assert holdings(platform, DEMO_USER)["BTC"] == 2 * FUNDS[DEMO_USER]["BTC"]


def test_each_run_issues_a_new_read_trade_hmac_key_and_retires_the_oldest(platform: Platform) -> None:
    run(seed(platform))
    issued = [issue_demo_key(platform) for _ in range(KEEP_DEMO_KEYS + 2)]

    assert len({i.key.key_id for i in issued}) == len(issued)
    assert all(i.secret and i.key.kind is KeyKind.HMAC for i in issued)
    assert issued[-1].key.permissions == frozenset({Permission.READ, Permission.TRADE})
    keys = platform.keys.list(platform.keys.user_id(DEMO_USER))
    live = [k.key_id for k in keys if k.label == DEMO_KEY_LABEL and k.status is not KeyStatus.REVOKED]
    assert live == [i.key.key_id for i in issued[-KEEP_DEMO_KEYS:]]
