"""The open batch's effects, and the one transaction that writes a closed batch.

Commands add what they changed (:meth:`Journal.add`) as they are applied; the rows of orders and
balances are read only when the batch closes (:meth:`Journal.close`), because later commands
keep mutating the same in-memory objects: a closed batch is a snapshot of plain row values that a
worker thread can write (:func:`write`) while the event loop goes on applying commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, update

from keyplane.exchange.ledger import Account, BalanceRecord, Entry, Ledger
from keyplane.exchange.matching import Command
from keyplane.exchange.models import AggTradeRecord, Order, TradeRecord
from keyplane.exchange.orders import order_row
from keyplane.store.exchange_tables import (
    ex_accounts,
    ex_agg_trades,
    ex_balances,
    ex_entries,
    ex_orders,
    ex_trades,
)

ORDER_UPDATE_COLUMNS = (
    "executed_qty",
    "cummulative_quote_qty",
    "locked_amount",
    "status",
    "is_open",
    "update_time",
    "update_seq",
)


@dataclass(kw_only=True, frozen=True, slots=True)
class Posting:
    """The ledger entries of one command: transaction ``txn`` (the command's seq), posted at ``at``."""

    txn: int
    at: int
    entries: list[Entry]


@dataclass(kw_only=True, frozen=True, slots=True)
class BatchRows:
    """Everything one group commit writes, as row values."""

    accounts: list[Account]
    postings: list[Posting]
    balance_inserts: list[BalanceRecord]
    balance_updates: list[BalanceRecord]
    order_inserts: list[dict[str, Any]]
    order_updates: list[dict[str, Any]]
    trades: list[TradeRecord]
    aggs: list[AggTradeRecord]


@dataclass
class Journal:
    """Effects of the commands applied since the last :meth:`close`."""

    accounts: list[Account] = field(default_factory=list)
    postings: list[Posting] = field(default_factory=list)
    balances: dict[tuple[int, str], int] = field(default_factory=dict)  # key -> time of last change
    orders: dict[int, tuple[Order, int]] = field(default_factory=dict)  # id -> (order, seq of last change)
    new_order_ids: set[int] = field(default_factory=set)
    trades: list[TradeRecord] = field(default_factory=list)
    aggs: list[AggTradeRecord] = field(default_factory=list)

    def add(self, cx: Command, ledger: Ledger) -> None:
        """Record one applied command: its orders and trades, and what it did to the ledger."""
        entries, touched, accounts = ledger.take()
        self.accounts.extend(accounts)
        if entries:
            self.postings.append(Posting(txn=cx.seq, at=cx.now, entries=entries))
        for key in touched:
            self.balances[key] = cx.now
        for order_id, order in cx.orders.items():
            self.orders[order_id] = (order, cx.seq)
        self.new_order_ids |= cx.new_order_ids
        self.trades.extend(cx.trades)
        self.aggs.extend(cx.aggs)

    def close(self, ledger: Ledger) -> BatchRows:
        """Snapshot the rows of everything recorded so far and start afresh."""
        inserts, updates = ledger.snapshot(self.balances)
        rows = [(order_row(o, seq), o.order_id in self.new_order_ids) for o, seq in self.orders.values()]
        batch = BatchRows(
            accounts=self.accounts,
            postings=self.postings,
            balance_inserts=inserts,
            balance_updates=updates,
            order_inserts=[r for r, new in rows if new],
            order_updates=[
                {"o_id": r["id"], **{"o_" + c: r[c] for c in ORDER_UPDATE_COLUMNS}}
                for r, new in rows
                if not new
            ],
            trades=self.trades,
            aggs=self.aggs,
        )
        self.accounts, self.postings, self.balances, self.orders = [], [], {}, {}
        self.new_order_ids, self.trades, self.aggs = set(), [], []
        return batch


def write(conn: Connection, batch: BatchRows) -> None:
    """Write one closed batch inside the caller's transaction (parents before children)."""
    if batch.accounts:
        conn.execute(
            ex_accounts.insert(),
            [{"id": a.id, "kind": a.kind.value, "user_id": a.user_id} for a in batch.accounts],
        )
    if batch.order_inserts:
        conn.execute(ex_orders.insert(), batch.order_inserts)
    if batch.order_updates:
        conn.execute(
            update(ex_orders)
            .where(ex_orders.c.id == bindparam("o_id"))
            .values({c: bindparam("o_" + c) for c in ORDER_UPDATE_COLUMNS}),
            batch.order_updates,
        )
    if batch.trades:
        conn.execute(
            ex_trades.insert(),
            [
                {
                    "id": t.id,
                    "symbol": t.symbol,
                    "price": t.price,
                    "qty": t.qty,
                    "quote_qty": t.quote_qty,
                    "time": t.time,
                    "is_buyer_maker": t.is_buyer_maker,
                    "buyer_order_id": t.buyer_order_id,
                    "seller_order_id": t.seller_order_id,
                    "buyer_user_id": t.buyer_user_id,
                    "seller_user_id": t.seller_user_id,
                    "buyer_fee": t.buyer_fee,
                    "seller_fee": t.seller_fee,
                }
                for t in batch.trades
            ],
        )
    if batch.aggs:
        conn.execute(
            ex_agg_trades.insert(),
            [
                {
                    "id": a.id,
                    "symbol": a.symbol,
                    "price": a.price,
                    "qty": a.qty,
                    "first_trade_id": a.first_trade_id,
                    "last_trade_id": a.last_trade_id,
                    "time": a.time,
                    "is_buyer_maker": a.is_buyer_maker,
                }
                for a in batch.aggs
            ],
        )
    if batch.postings:
        conn.execute(
            ex_entries.insert(),
            [
                {
                    "txn": p.txn,
                    "account_id": e.account_id,
                    "asset": e.asset,
                    "bucket": e.bucket.value,
                    "amount": e.amount,
                    "kind": e.kind.value,
                    "ref": e.ref,
                    "memo": e.memo,
                    "at": p.at,
                }
                for p in batch.postings
                for e in p.entries
            ],
        )
    if batch.balance_inserts:
        conn.execute(
            ex_balances.insert(),
            [
                {
                    "account_id": b.account_id,
                    "asset": b.asset,
                    "free": b.free,
                    "locked": b.locked,
                    "updated_at": b.updated_at,
                }
                for b in batch.balance_inserts
            ],
        )
    if batch.balance_updates:
        conn.execute(
            update(ex_balances)
            .where(ex_balances.c.account_id == bindparam("b_account"))
            .where(ex_balances.c.asset == bindparam("b_asset"))
            .values(free=bindparam("b_free"), locked=bindparam("b_locked"), updated_at=bindparam("b_at")),
            [
                {
                    "b_account": b.account_id,
                    "b_asset": b.asset,
                    "b_free": b.free,
                    "b_locked": b.locked,
                    "b_at": b.updated_at,
                }
                for b in batch.balance_updates
            ],
        )
