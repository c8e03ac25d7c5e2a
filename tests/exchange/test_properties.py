"""Property tests over random command sequences, each on a fresh real database.

After every command: no balance is negative, locked funds equal what open orders hold, every
asset's user+fee total equals what was credited (and the sum over all accounts, external
included, is zero), each stored balance is the sum of its entries, every amount is at its
asset's precision, and a restart rebuilds identical books and balances. Credits include huge and
tiny amounts: one is accepted exactly when the ledger can hold it, and never rounded.
"""

from __future__ import annotations

import asyncio
from decimal import Context, localcontext
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from keyplane.exchange.errors import ExchangeError, InexactAmount, NotDurable
from keyplane.exchange.ledger import EXTERNAL_ACCOUNT, FEE_ACCOUNT, Bucket
from keyplane.exchange.markets import StpMode
from keyplane.exchange.matching import lock_asset
from keyplane.exchange.models import OrderType, Side, TimeInForce
from keyplane.exchange.order_lists import OcoRequest, OtoRequest
from keyplane.exchange.orders import OrderRequest
from keyplane.exchange.service import Exchange
from keyplane.store.engine import make_engine, migrate
from keyplane.store.exchange_tables import ex_balances, ex_entries
from keyplane.store.types import decimal_places
from tests.exchange.conftest import Clock, make_users
from tests.support.aio import run
from tests.support.databases import fresh_database

MARKETS = {
    "BTCUSDT": ([D(30000) + D(5) * i for i in range(-3, 4)], [D("0.001") * i for i in (1, 2, 5, 10, 30)]),
    "ETHBTC": ([D("0.05") + D("0.0001") * i for i in range(-3, 4)], [D("0.01") * i for i in (1, 3, 10, 50)]),
}

users_ = st.integers(0, 2)
symbols = st.sampled_from(sorted(MARKETS))
limit_cmd = st.tuples(
    st.just("limit"),
    users_,
    symbols,
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(0, 6),
    st.integers(0, 3),
    st.sampled_from(
        [TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, None]
    ),  # None: maker
    st.sampled_from([StpMode.NONE, StpMode.EXPIRE_TAKER, StpMode.EXPIRE_MAKER, StpMode.EXPIRE_BOTH]),
)
market_cmd = st.tuples(
    st.just("market"),
    users_,
    symbols,
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(0, 3),
    st.booleans(),
)
stop_cmd = st.tuples(
    st.just("stop"),
    users_,
    symbols,
    st.sampled_from([Side.BUY, Side.SELL]),
    st.sampled_from(
        [OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT]
    ),
    st.integers(0, 6),  # stop price
    st.integers(0, 6),  # limit price
    st.integers(0, 3),
    st.sampled_from([None, None, 10, 200]),  # trailingDelta
)
oco_cmd = st.tuples(
    st.just("oco"),
    users_,
    symbols,
    st.sampled_from([Side.BUY, Side.SELL]),
    st.sampled_from([OrderType.LIMIT_MAKER, OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT]),
    st.sampled_from([OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT]),
    st.integers(0, 6),  # the take-profit leg's price
    st.integers(0, 6),  # the stop-loss leg's price
    st.integers(0, 3),
)
oto_cmd = st.tuples(
    st.just("oto"),
    users_,
    symbols,
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(0, 6),  # working price
    st.integers(0, 6),  # pending price
    st.integers(0, 3),
    st.sampled_from([TimeInForce.GTC, TimeInForce.IOC, None]),  # None: a LIMIT_MAKER working order
    st.sampled_from([OrderType.LIMIT, OrderType.STOP_LOSS, OrderType.MARKET]),
)
cancel_cmd = st.tuples(st.just("cancel"), users_, st.integers(0, 20))
# Lower an open order's quantity in place (keepPriority): to 1..4 fifths of it, or to all of it (refused).
amend_cmd = st.tuples(st.just("amend"), users_, st.integers(0, 20), st.integers(1, 5))
cancel_all_cmd = st.tuples(st.just("cancel_all"), users_, symbols)
credit_cmd = st.tuples(st.just("credit"), users_, st.sampled_from(["BTC", "USDT", "ETH"]), st.integers(1, 3))
# Amounts at and beyond the ledger's edges: 8 decimals, below 10**20 (NUMERIC(38, 18) columns).
EDGE_AMOUNTS = [
    D("1e30"),
    D("1E+20"),
    D("99999999999999999999.99999999"),
    D("49999999999999999999.99999999"),
    D("12345678901234567890.12345678"),
    D("1E+3"),
    D("0.00000001"),
    D("0.000000001"),
    D("1.000000000000000000000000000001"),
    D("1e-30"),
    D(0),
    D(-1),
    D("NaN"),
    D("Infinity"),
]
odd_credit_cmd = st.tuples(
    st.just("odd_credit"),
    users_,
    st.sampled_from(["BTC", "USDT", "ETH"]),
    st.one_of(st.sampled_from(EDGE_AMOUNTS), st.decimals(allow_nan=True, allow_infinity=True)),
)
restart_cmd = st.tuples(st.just("restart"))
commands = st.lists(
    st.one_of(
        limit_cmd,
        limit_cmd,
        limit_cmd,
        market_cmd,
        stop_cmd,
        stop_cmd,
        oco_cmd,
        oco_cmd,
        oto_cmd,
        oto_cmd,
        cancel_cmd,
        amend_cmd,
        cancel_all_cmd,
        credit_cmd,
        odd_credit_cmd,
        restart_cmd,
    ),
    min_size=5,
    max_size=35,
)
CREDIT = {"BTC": D("0.5"), "USDT": D(5000), "ETH": D(3)}


async def apply(ex: Exchange, uids: list[int], cmd: tuple[Any, ...]) -> None:
    kind = cmd[0]
    if kind == "limit":
        _, u, sym, side, pi, qi, tif, stp = cmd
        prices, qtys = MARKETS[sym]
        await ex.place_order(
            OrderRequest(
                user_id=uids[u],
                symbol=sym,
                side=side,
                type=OrderType.LIMIT_MAKER if tif is None else OrderType.LIMIT,
                quantity=qtys[qi],
                price=prices[pi],
                time_in_force=tif,
                self_trade_prevention_mode=stp,
            )
        )

    elif kind == "market":
        _, u, sym, side, qi, by_quote = cmd
        prices, qtys = MARKETS[sym]
        if by_quote:
            await ex.place_order(
                OrderRequest(
                    user_id=uids[u],
                    symbol=sym,
                    side=side,
                    type=OrderType.MARKET,
                    quote_order_qty=qtys[qi] * prices[3],
                )
            )

        else:
            await ex.place_order(
                OrderRequest(user_id=uids[u], symbol=sym, side=side, type=OrderType.MARKET, quantity=qtys[qi])
            )
    elif kind == "stop":
        _, u, sym, side, otype, si, pi, qi, trailing = cmd
        prices, qtys = MARKETS[sym]
        limit = otype in (OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT)
        await ex.place_order(
            OrderRequest(
                user_id=uids[u],
                symbol=sym,
                side=side,
                type=otype,
                quantity=qtys[qi],
                price=prices[pi] if limit else None,
                time_in_force=TimeInForce.GTC if limit else None,
                stop_price=None if trailing and si % 2 else prices[si],
                trailing_delta=trailing,
            )
        )
    elif kind == "oco":
        _, u, sym, side, tp_type, sl_type, tpi, sli, qi = cmd
        prices, qtys = MARKETS[sym]

        def leg(otype: OrderType, price: D) -> OrderRequest:
            limit = otype is not OrderType.TAKE_PROFIT and otype is not OrderType.STOP_LOSS
            return OrderRequest(
                user_id=uids[u],
                symbol=sym,
                side=side,
                type=otype,
                quantity=qtys[qi],
                price=price if limit else None,
                time_in_force=TimeInForce.GTC if limit and otype is not OrderType.LIMIT_MAKER else None,
                stop_price=None if otype is OrderType.LIMIT_MAKER else price,
            )

        tp, sl = leg(tp_type, prices[tpi]), leg(sl_type, prices[sli])
        above, below = (tp, sl) if side is Side.SELL else (sl, tp)
        await ex.place_oco(OcoRequest(above=above, below=below))
    elif kind == "oto":
        _, u, sym, side, wpi, ppi, qi, tif, ptype = cmd
        prices, qtys = MARKETS[sym]
        other = Side.SELL if side is Side.BUY else Side.BUY
        working = OrderRequest(
            user_id=uids[u],
            symbol=sym,
            side=side,
            type=OrderType.LIMIT if tif else OrderType.LIMIT_MAKER,
            quantity=qtys[qi],
            price=prices[wpi],
            time_in_force=tif,
        )
        pending = OrderRequest(
            user_id=uids[u],
            symbol=sym,
            side=other,
            type=ptype,
            quantity=qtys[qi],
            price=prices[ppi] if ptype is OrderType.LIMIT else None,
            time_in_force=TimeInForce.GTC if ptype is OrderType.LIMIT else None,
            stop_price=prices[ppi] if ptype is OrderType.STOP_LOSS else None,
        )
        await ex.place_oto(OtoRequest(working=working, pending=pending))
    elif kind == "cancel":
        _, u, n = cmd
        mine = ex.open_orders(uids[u])
        if mine:
            o = mine[n % len(mine)]
            await ex.cancel_order(uids[u], o.symbol, o.order_id)
    elif kind == "amend":
        _, u, n, fifths = cmd
        mine = ex.open_orders(uids[u])
        if mine:
            o = mine[n % len(mine)]
            new_qty = ex.markets[o.symbol].floor_qty(o.orig_qty * fifths / 5)
            await ex.amend_keep_priority(uids[u], o.symbol, o.order_id, None, new_qty, f"amended-{n}")
    elif kind == "cancel_all":
        await ex.cancel_open_orders(uids[cmd[1]], cmd[2])
    elif kind == "credit":
        _, u, asset, times = cmd
        await ex.credit(uids[u], asset, CREDIT[asset] * times, "property-test")
    elif kind == "odd_credit":
        _, u, asset, amount = cmd
        await ex.credit(uids[u], asset, amount, "property-test")


def holdable(ex: Exchange, uid: int, asset: str, amount: D) -> bool:
    """Whether the ledger can take ``amount`` exactly: the asset's decimals, every sum below 10**20."""
    if not amount.is_finite() or amount <= 0 or decimal_places(amount) > ex.assets[asset].precision:
        return False
    acc = ex.ledger.account_of(uid)
    free = ex.ledger.free(acc, asset) if acc is not None else D(0)
    outside = ex.ledger.free(EXTERNAL_ACCOUNT, asset)
    limit = D(10) ** 20
    with localcontext(Context(prec=100)):
        return amount < limit and free + amount < limit and outside - amount > -limit


def check_invariants(ex: Exchange, engine: Engine, uids: list[int], credited: dict[str, D]) -> None:
    for (acc, _asset), held in ex.ledger.balances.items():
        if acc != EXTERNAL_ACCOUNT:
            assert held.free >= 0 and held.locked >= 0
    for book in ex.books.values():  # the index by user holds exactly the open orders
        every = [*book.by_id.values(), *book.stops.values(), *book.waiting.values()]
        for uid in uids:
            assert book.mine(uid) == {o.order_id: o for o in every if o.user_id == uid}
        for side in (book.bids, book.asks):  # each level's kept quantity is what rests there
            assert side.lots == {
                p: sum(o.remaining_qty for o in lv.values()) for p, lv in side.levels.items()
            }
    for uid in uids:
        held: dict[str, D] = {}
        for o in ex.open_orders(uid):
            asset = lock_asset(ex.markets[o.symbol], o.side)
            held[asset] = held.get(asset, D(0)) + o.locked_amount
        for b in ex.balances(uid):
            assert b.locked == held.get(b.asset, D(0)), (uid, b)
    accounts = [ex.ledger.account_of(u) for u in uids] + [FEE_ACCOUNT]
    for asset in ex.assets:
        total = sum(
            (ex.ledger.free(a, asset) + ex.ledger.locked(a, asset) for a in accounts if a is not None), D(0)
        )
        assert total == credited.get(asset, D(0)), asset
    stored: dict[str, D] = {}
    with engine.connect() as conn:
        for r in conn.execute(select(ex_balances)).mappings():
            stored[r["asset"]] = stored.get(r["asset"], D(0)) + r["free"] + r["locked"]
            assert (r["free"], r["locked"]) == ex.ledger.amounts((r["account_id"], r["asset"]))
    assert all(v == 0 for v in stored.values()), stored
    with engine.connect() as conn:
        sums = conn.execute(
            select(ex_entries.c.account_id, ex_entries.c.asset, ex_entries.c.bucket, ex_entries.c.amount)
        ).all()
        assert conn.execute(select(func.count()).select_from(ex_balances)).scalar_one() == len(
            ex.ledger.balances
        )
    from_entries: dict[tuple[int, str], list[D]] = {}
    for acc, asset, bucket, amount in sums:
        assert decimal_places(amount) <= ex.assets[asset].precision, (acc, asset, amount)
        from_entries.setdefault((acc, asset), [D(0), D(0)])[Bucket(bucket) is Bucket.LOCKED] += amount
    assert {k: tuple(v) for k, v in from_entries.items()} == {
        k: ex.ledger.amounts(k) for k in ex.ledger.balances
    }
    for key in ex.ledger.balances:
        asset = key[1]
        for amount in ex.ledger.amounts(key):
            assert decimal_places(amount) <= ex.assets[asset].precision and abs(amount) < D(10) ** 20


def state(ex: Exchange, uids: list[int]) -> Any:
    return (
        {s: b.snapshot() for s, b in ex.books.items()},
        [ex.balances(u) for u in uids],
        [ex.open_orders(u) for u in uids],
    )


def seed_users(ex: Exchange, engine: Engine) -> tuple[list[int], dict[str, D]]:
    """Three users, each credited ``CREDIT`` of every asset; the ids and what was credited in all."""
    uids = make_users(engine, "u0", "u1", "u2")
    credited: dict[str, D] = {}
    for u in uids:
        for asset in ("BTC", "USDT", "ETH"):
            run(ex.credit(u, asset, CREDIT[asset], "seed"))
            credited[asset] = credited.get(asset, D(0)) + CREDIT[asset]
    return uids, credited


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cmds=commands)
def test_random_command_sequences_keep_the_ledger_and_books_consistent(
    tmp_path: Path, cmds: list[Any]
) -> None:
    with fresh_database(tmp_path) as url:
        engine = make_engine(url)
        try:
            migrate(engine)
            clock = Clock()
            ex = Exchange(engine, now=clock)
            uids, credited = seed_users(ex, engine)
            for cmd in cmds:
                clock.advance(1_000)
                if cmd[0] == "restart":
                    before = state(ex, uids)
                    ex = Exchange(engine, now=clock)
                    assert state(ex, uids) == before
                    continue
                odd = cmd[0] == "odd_credit"
                fits = odd and holdable(ex, uids[cmd[1]], cmd[2], cmd[3])
                try:
                    run(apply(ex, uids, cmd))
                except ExchangeError as error:
                    assert not fits, cmd  # an amount the ledger can hold is never refused
                    assert odd or not isinstance(error, InexactAmount), (cmd, error)  # the engine stays exact
                else:
                    assert fits or not odd, cmd  # nor one it cannot hold accepted (and rounded)
                    if cmd[0] == "credit":
                        credited[cmd[2]] += CREDIT[cmd[2]] * cmd[3]
                    elif cmd[0] == "odd_credit":
                        credited[cmd[2]] += cmd[3]
                check_invariants(ex, engine, uids, credited)
            before = state(ex, uids)
            assert state(Exchange(engine, now=clock), uids) == before
        finally:
            engine.dispose()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cmds=commands, sizes=st.lists(st.integers(1, 12), min_size=1, max_size=12))
def test_concurrent_batches_through_the_sequencer_keep_the_ledger_and_books_consistent(
    tmp_path: Path, cmds: list[Any], sizes: list[int]
) -> None:
    """Commands submitted together (one group commit or a few), with restarts between batches."""
    with fresh_database(tmp_path) as url:
        engine = make_engine(url)
        try:
            migrate(engine)
            clock = Clock()
            ex = Exchange(engine, now=clock)
            uids, credited = seed_users(ex, engine)
            batches, rest, turn = [], [c for c in cmds if c[0] != "restart"], 0
            while rest:
                size = sizes[turn % len(sizes)]
                batches.append(rest[:size])
                rest, turn = rest[size:], turn + 1
            for n, batch in enumerate(batches):
                clock.advance(1_000)

                async def together(ex: Exchange = ex, batch: list[Any] = batch) -> list[Any]:
                    return await asyncio.gather(*(apply(ex, uids, c) for c in batch), return_exceptions=True)

                for cmd, outcome in zip(batch, run(together()), strict=True):
                    if isinstance(outcome, BaseException):
                        assert isinstance(outcome, ExchangeError), (cmd, outcome)
                        assert not isinstance(outcome, NotDurable), (cmd, outcome)
                        odd = cmd[0] == "odd_credit"
                        assert odd or not isinstance(outcome, InexactAmount), (cmd, outcome)
                    elif cmd[0] == "credit":
                        credited[cmd[2]] += CREDIT[cmd[2]] * cmd[3]
                    elif cmd[0] == "odd_credit":
                        credited[cmd[2]] += cmd[3]
                check_invariants(ex, engine, uids, credited)
                if cmds[n % len(cmds)][0] == "restart":
                    before = state(ex, uids)
                    ex = Exchange(engine, now=clock)
                    assert state(ex, uids) == before
            before = state(ex, uids)
            assert state(Exchange(engine, now=clock), uids) == before
        finally:
            engine.dispose()
