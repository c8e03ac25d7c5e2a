"""Daily account snapshots: each day's closing balances rebuilt from the ledger's entries, and
their BTC value at that day's last prices."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from keyplane.exchange.service import Exchange
from keyplane.exchange.snapshots import DAY_MS, btc_pricer, closing_balances, day_ends
from tests.exchange.conftest import Clock, make_users
from tests.exchange.test_matching import limit
from tests.support.aio import run

MIDNIGHT = 1_700_006_400_000  # 2023-11-15 00:00 UTC


def test_day_ends_are_the_last_milliseconds_of_whole_days() -> None:
    now = MIDNIGHT + 5 * 3_600_000  # five hours into a day: it has not ended yet
    assert day_ends(None, now, 7) == [MIDNIGHT - 1 - k * DAY_MS for k in range(6, -1, -1)]
    assert day_ends(None, MIDNIGHT - 1, 1) == [MIDNIGHT - 1]  # a day that ends exactly at ``end``
    assert day_ends(MIDNIGHT - 3 * DAY_MS, now, 7) == [MIDNIGHT - 1 - k * DAY_MS for k in (2, 1, 0)]
    assert day_ends(MIDNIGHT, now, 7) == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["BTC", "USDT"]),
            st.sampled_from(["free", "locked"]),
            st.integers(0, 9),
            st.decimals(-1000, 1000, places=8, allow_nan=False, allow_infinity=False),
        ),
        max_size=40,
    )
)
def test_closing_balances_equal_the_entries_summed_up_to_each_day(
    entries: list[tuple[str, str, int, D]],
) -> None:
    ends = [(day + 1) * DAY_MS - 1 for day in range(10)]
    closing = closing_balances(entries, ends)
    for end, held in zip(ends, closing, strict=True):
        for asset in ("BTC", "USDT"):
            expect = [
                sum((a for s, b, d, a in entries if s == asset and b == bucket and d <= end // DAY_MS), D(0))
                for bucket in ("free", "locked")
            ]
            assert held.get(asset, (D(0), D(0))) == tuple(expect)
            assert asset in held or expect == [0, 0]  # only assets held are listed


def test_btc_prices_directly_inversely_or_through_usdt() -> None:
    last = {"ETHBTC": D("0.05"), "BTCUSDT": D(40000), "SOLUSDT": D(100)}.get
    price = btc_pricer(last)
    assert (price("BTC"), price("ETH"), price("SOL"), price("DOGE")) == (D(1), D("0.05"), D("0.0025"), D(0))
    assert price("USDT") == 1 / D(40000)


def test_snapshots_follow_credits_and_trades_day_by_day(engine: Engine) -> None:
    clock = Clock(MIDNIGHT - 3 * DAY_MS + 3_600_000)  # one in the morning, three days ago
    ex = Exchange(engine, now=clock)
    alice, bob = make_users(engine, "alice", "bob")
    run(ex.credit(alice, "USDT", D(10000), "test"))
    run(ex.credit(bob, "BTC", D(1), "test"))
    clock.advance(DAY_MS)  # two days ago: alice buys 0.1 BTC at 30,000 from bob, fee 0.1 % in BTC
    run(ex.place_order(limit(bob, "SELL", "0.1", "30000")))
    run(ex.place_order(limit(alice, "BUY", "0.1", "30000")))
    clock.advance(DAY_MS)  # yesterday: a bid that rests, locking 2,000 USDT
    run(ex.place_order(limit(alice, "BUY", "0.1", "20000")))
    clock.advance(DAY_MS)  # today: nothing of it is in a snapshot yet
    run(ex.credit(alice, "USDT", D(5), "test"))

    found = run(ex.account_snapshots(alice, MIDNIGHT - 4 * DAY_MS, None, None))
    assert [s.update_time for s in found] == [MIDNIGHT - 1 - k * DAY_MS for k in (3, 2, 1, 0)]
    assert [s.balances for s in found] == [
        {},
        {"USDT": (D(10000), D(0))},
        {"BTC": (D("0.0999"), D(0)), "USDT": (D(7000), D(0))},
        {"BTC": (D("0.0999"), D(0)), "USDT": (D(5000), D(2000))},
    ]
    # Valued at BTCUSDT's last trade by each day's end: none on the first two days.
    assert [s.total_btc for s in found] == [D(0), D(0), D("0.33323333"), D("0.33323333")]
    assert run(ex.account_snapshots(alice, None, None, 7))[-1].balances == found[-1].balances
    assert run(ex.account_snapshots(bob, None, None, 2))[-1].balances == {
        "BTC": (D("0.9"), D(0)),
        "USDT": (D(2997), D(0)),
    }
