"""The open batch's effects, closed into a :class:`Closed` snapshot that becomes the one
:class:`~keyplane.store.exchange_repo.Batch` a group commit writes.

Commands add what they changed (:meth:`Journal.add`) as they are applied; the values of orders and
balances are read only when the batch closes (:meth:`Journal.close`), because later commands
keep mutating the same in-memory objects. Closing copies integers only (order fields, balance
units, entry rows): that runs on the event loop, between commands. Turning them into ``Decimal``
records (:meth:`Closed.batch`) is the writer's work, done in its worker thread just before
:func:`keyplane.store.exchange_repo.write`, so the apply path never converts a row it will not answer with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from keyplane.exchange.book import LiveOrder, OrderFields, order_record
from keyplane.exchange.ledger import Account, BalanceRecord, BalanceUnits, Entry, Ledger, Row
from keyplane.exchange.matching import Command
from keyplane.exchange.models import AggTradeRecord, TradeRecord
from keyplane.exchange.units import from_units
from keyplane.exchange.wallet.transfers import DepositCredit, Withdrawal
from keyplane.store.exchange_repo import Batch, OrderVersion, Posting


@dataclass(kw_only=True, slots=True)
class Closed:
    """A closed batch as integers and finished records; :meth:`batch` converts it (any thread)."""

    precision: dict[str, int]
    accounts: list[Account]
    postings: list[tuple[int, int, list[Row]]]  # (txn, at, rows)
    balances: list[BalanceUnits]
    orders: list[tuple[OrderFields, int, bool]]  # (fields, seq, new)
    trades: list[TradeRecord]
    aggs: list[AggTradeRecord]
    withdrawals: list[Withdrawal]
    new_withdrawal_ids: set[int]
    deposit_credits: list[DepositCredit]

    def batch(self) -> Batch:
        """The ``Decimal`` records the repository writes."""
        p = self.precision
        postings = [
            Posting(
                txn=txn,
                at=at,
                entries=[
                    Entry(
                        account_id=acc,
                        asset=asset,
                        bucket=bucket,
                        amount=from_units(units, p[asset]),
                        kind=kind,
                        ref=ref,
                        memo=memo,
                    )
                    for acc, asset, bucket, units, kind, ref, memo in rows
                ],
            )
            for txn, at, rows in self.postings
        ]
        inserts: list[BalanceRecord] = []
        updates: list[BalanceRecord] = []
        for acc, asset, free, locked, at, stored in self.balances:
            record = BalanceRecord(
                account_id=acc,
                asset=asset,
                free=from_units(free, p[asset]),
                locked=from_units(locked, p[asset]),
                updated_at=at,
            )
            (updates if stored else inserts).append(record)
        new_orders: list[OrderVersion] = []
        changed_orders: list[OrderVersion] = []
        for fields, seq, new in self.orders:
            (new_orders if new else changed_orders).append(OrderVersion(order=order_record(fields), seq=seq))
        return Batch(
            accounts=self.accounts,
            postings=postings,
            balance_inserts=inserts,
            balance_updates=updates,
            order_inserts=new_orders,
            order_updates=changed_orders,
            trades=self.trades,
            aggs=self.aggs,
            withdrawals=self.withdrawals,
            new_withdrawal_ids=self.new_withdrawal_ids,
            deposit_credits=self.deposit_credits,
        )


@dataclass
class Journal:
    """Effects of the commands applied since the last :meth:`close`."""

    accounts: list[Account] = field(default_factory=list)
    postings: list[tuple[int, int, list[Row]]] = field(default_factory=list)
    balances: dict[tuple[int, str], int] = field(default_factory=dict)  # key -> time of last change
    orders: dict[int, tuple[LiveOrder, int]] = field(
        default_factory=dict
    )  # id -> (order, seq of last change)
    new_order_ids: set[int] = field(default_factory=set)
    trades: list[TradeRecord] = field(default_factory=list)
    aggs: list[AggTradeRecord] = field(default_factory=list)
    withdrawals: dict[int, Withdrawal] = field(default_factory=dict)
    new_withdrawal_ids: set[int] = field(default_factory=set)
    deposit_credits: list[DepositCredit] = field(default_factory=list)

    def add(self, cx: Command, ledger: Ledger) -> None:
        """Record one applied command: its orders and trades, and what it did to the ledger."""
        rows, touched, accounts = ledger.take_units()
        if accounts:
            self.accounts.extend(accounts)
        now, seq = cx.now, cx.seq
        if rows:
            self.postings.append((seq, now, rows))
        balances = self.balances
        for key in touched:
            balances[key] = now
        orders = self.orders
        for order_id, order in cx.orders.items():
            orders[order_id] = (order, seq)
        if cx.new_order_ids:
            self.new_order_ids |= cx.new_order_ids
        if cx.trades:
            self.trades += cx.trades
            self.aggs += cx.aggs
        if cx.withdrawals or cx.new_withdrawal_ids or cx.deposit_credits:
            self.withdrawals.update(cx.withdrawals)
            self.new_withdrawal_ids |= cx.new_withdrawal_ids
            self.deposit_credits += cx.deposit_credits

    def close(self, ledger: Ledger) -> Closed:
        """Snapshot everything recorded so far (integers) and start afresh."""
        new_ids = self.new_order_ids
        closed = Closed(
            precision=ledger.precision,
            accounts=self.accounts,
            postings=self.postings,
            balances=ledger.snapshot_units(self.balances),
            orders=[(order.fields(), seq, order.order_id in new_ids) for order, seq in self.orders.values()],
            trades=self.trades,
            aggs=self.aggs,
            withdrawals=[w.snapshot() for w in self.withdrawals.values()],
            new_withdrawal_ids=self.new_withdrawal_ids,
            deposit_credits=self.deposit_credits,
        )
        self.accounts, self.postings, self.balances, self.orders = [], [], {}, {}
        self.new_order_ids, self.trades, self.aggs = set(), [], []
        self.withdrawals, self.new_withdrawal_ids, self.deposit_credits = {}, set(), []
        return closed
