"""What must hold in the stored ledger once orders and withdrawals have run, read straight from the
database: it is what a restarted server rebuilds from, so a half-applied command shows here."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal as D

from sqlalchemy import Engine, select

from keyplane.exchange.ledger import Bucket, EntryKind
from keyplane.exchange.wallet.states import WithdrawStatus
from keyplane.store.exchange_tables import (
    ex_accounts,
    ex_balances,
    ex_entries,
    ex_markets,
    ex_orders,
    ex_trades,
)
from keyplane.store.wallet_transfer_tables import wallet_withdrawals

OPEN_WITHDRAWALS = {
    int(WithdrawStatus.EMAIL_SENT),
    int(WithdrawStatus.AWAITING_APPROVAL),
    int(WithdrawStatus.PROCESSING),
}


def check_wallet_ledger(engine: Engine) -> None:
    """Balances equal their entries; every asset sums to zero; locked funds equal the open orders'
    locked amounts plus the open withdrawals' amount + fee; each order's executed quantity equals
    its trades; each withdrawal has its lock and nothing else while it is open, and no withdrawal
    entry names a withdrawal that is not stored."""
    with engine.connect() as conn:
        accounts = {r.user_id: r.id for r in conn.execute(select(ex_accounts)) if r.user_id is not None}
        balances = {(r.account_id, r.asset): (r.free, r.locked) for r in conn.execute(select(ex_balances))}
        entries = list(conn.execute(select(ex_entries).order_by(ex_entries.c.txn, ex_entries.c.id)))
        markets = {r.symbol: (r.base, r.quote) for r in conn.execute(select(ex_markets))}
        orders = list(conn.execute(select(ex_orders)))
        trades = list(conn.execute(select(ex_trades)))
        withdrawals = {r.id: r for r in conn.execute(select(wallet_withdrawals))}
    sums: dict[tuple[int, str], list[D]] = {}
    for e in entries:
        sums.setdefault((e.account_id, e.asset), [D(0), D(0)])[0 if e.bucket == Bucket.FREE else 1] += (
            e.amount
        )
    assert {k: tuple(v) for k, v in sums.items()} == balances
    for asset in {a for _, a in balances}:
        assert sum(f + lk for (_, a), (f, lk) in balances.items() if a == asset) == 0, asset

    locked: dict[tuple[int, str], D] = defaultdict(D)
    for o in orders:
        if not o.is_open:
            assert o.locked_amount == 0, o
            continue
        base, quote = markets[o.symbol]
        locked[(accounts[o.user_id], quote if o.side == "BUY" else base)] += o.locked_amount
    for w in withdrawals.values():
        if w.status in OPEN_WITHDRAWALS:
            locked[(accounts[w.user_id], w.coin)] += w.amount + w.fee
    for key, (_free, held) in balances.items():
        assert held == locked.get(key, D(0)), key

    executed: dict[int, D] = defaultdict(D)
    for t in trades:
        for oid in (t.buyer_order_id, t.seller_order_id):
            executed[oid] += t.qty
    assert {o.id: o.executed_qty for o in orders if o.executed_qty} == executed

    by_withdrawal: dict[int, list[tuple[int, str, str, D, str]]] = defaultdict(list)
    for e in entries:
        if e.kind == EntryKind.WITHDRAWAL:
            by_withdrawal[e.ref].append((e.account_id, e.asset, e.bucket, e.amount, e.memo))
    assert set(by_withdrawal) <= set(withdrawals), "a withdrawal's entries without the withdrawal"
    for wid, w in withdrawals.items():
        acc, held = accounts[w.user_id], w.amount + w.fee
        lock = [(acc, w.coin, Bucket.FREE, -held, "lock"), (acc, w.coin, Bucket.LOCKED, held, "lock")]
        assert by_withdrawal[wid][:2] == lock, (wid, by_withdrawal[wid])
        if w.status in OPEN_WITHDRAWALS:
            assert len(by_withdrawal[wid]) == 2, (wid, by_withdrawal[wid])


def never_negative(engine: Engine, user_id: int, asset: str) -> None:
    """The user's free and locked ``asset`` stayed at or above zero after every stored entry."""
    with engine.connect() as conn:
        account = conn.execute(select(ex_accounts.c.id).where(ex_accounts.c.user_id == user_id)).scalar_one()
        rows = conn.execute(
            select(ex_entries.c.bucket, ex_entries.c.amount)
            .where(ex_entries.c.account_id == account, ex_entries.c.asset == asset)
            .order_by(ex_entries.c.txn, ex_entries.c.id)
        )
        running = {Bucket.FREE.value: D(0), Bucket.LOCKED.value: D(0)}
        for bucket, amount in rows:
            running[bucket] += amount
            assert running[bucket] >= 0, (bucket, running)
