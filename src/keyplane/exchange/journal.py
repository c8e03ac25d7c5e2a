"""The open batch's effects, closed into the one :class:`~keyplane.store.exchange_repo.Batch` that
a group commit writes.

Commands add what they changed (:meth:`Journal.add`) as they are applied; the values of orders and
balances are read only when the batch closes (:meth:`Journal.close`), because later commands
keep mutating the same in-memory objects: a closed batch is a snapshot that a worker thread can
write (:func:`keyplane.store.exchange_repo.write`) while the event loop goes on applying commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from keyplane.exchange.book import LiveOrder
from keyplane.exchange.ledger import Account, Ledger
from keyplane.exchange.matching import Command
from keyplane.exchange.models import AggTradeRecord, TradeRecord
from keyplane.exchange.wallet.transfers import DepositCredit, Withdrawal
from keyplane.store.exchange_repo import Batch, OrderVersion, Posting


@dataclass
class Journal:
    """Effects of the commands applied since the last :meth:`close`."""

    accounts: list[Account] = field(default_factory=list)
    postings: list[Posting] = field(default_factory=list)
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
        self.withdrawals.update(cx.withdrawals)
        self.new_withdrawal_ids |= cx.new_withdrawal_ids
        self.deposit_credits.extend(cx.deposit_credits)

    def close(self, ledger: Ledger) -> Batch:
        """Snapshot everything recorded so far and start afresh."""
        inserts, updates = ledger.snapshot(self.balances)
        new_orders: list[OrderVersion] = []
        changed_orders: list[OrderVersion] = []
        for order, seq in self.orders.values():
            version = OrderVersion(order=order.record(), seq=seq)
            (new_orders if order.order_id in self.new_order_ids else changed_orders).append(version)
        batch = Batch(
            accounts=self.accounts,
            postings=self.postings,
            balance_inserts=inserts,
            balance_updates=updates,
            order_inserts=new_orders,
            order_updates=changed_orders,
            trades=self.trades,
            aggs=self.aggs,
            withdrawals=[w.snapshot() for w in self.withdrawals.values()],
            new_withdrawal_ids=self.new_withdrawal_ids,
            deposit_credits=self.deposit_credits,
        )
        self.accounts, self.postings, self.balances, self.orders = [], [], {}, {}
        self.new_order_ids, self.trades, self.aggs = set(), [], []
        self.withdrawals, self.new_withdrawal_ids, self.deposit_credits = {}, set(), []
        return batch
