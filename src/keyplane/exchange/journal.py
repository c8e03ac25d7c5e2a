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

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from keyplane.exchange.amendments import Amendment
from keyplane.exchange.book import LiveOrder, OrderFields, order_record
from keyplane.exchange.ledger import Account, BalanceRecord, BalanceUnits, Entry, Ledger, Row
from keyplane.exchange.matching import Command
from keyplane.exchange.models import AggTradeRecord, OrderList, TradeRecord
from keyplane.exchange.prevented import PreventedMatch
from keyplane.exchange.units import from_units
from keyplane.exchange.wallet.transfers import DepositCredit, Withdrawal
from keyplane.store.exchange_repo import Batch, OrderVersion, Posting


@dataclass(kw_only=True, slots=True)
class Closed:
    """A closed batch as integers and finished records; :meth:`batch` converts it (any thread)."""

    accounts: Sequence[Account]
    postings: Sequence[tuple[int, int, list[Row]]]  # (txn, at, rows)
    balances: Sequence[BalanceUnits]
    orders: Sequence[tuple[OrderFields, int, bool]]  # (fields, seq, new)
    trades: Sequence[TradeRecord]
    aggs: Sequence[AggTradeRecord]
    withdrawals: Sequence[Withdrawal]
    new_withdrawal_ids: AbstractSet[int]
    deposit_credits: Sequence[DepositCredit]
    amends: Sequence[Amendment] = ()  # amend keepPriority (keyplane.exchange.amend), in order
    triggered: AbstractSet[int] = frozenset()  # conditional orders the batch triggered
    lists: Sequence[tuple[OrderList, int, bool]] = ()  # (list as it stood, seq, new)
    prevented: Sequence[PreventedMatch] = ()  # self-trades STP prevented, in order

    def batch(self) -> Batch:
        """The ``Decimal`` records the repository writes."""
        postings = [
            Posting(
                txn=txn,
                at=at,
                entries=[
                    Entry(
                        account_id=acc,
                        asset=asset,
                        bucket=bucket,
                        amount=from_units(units),
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
                free=from_units(free),
                locked=from_units(locked),
                updated_at=at,
            )
            (updates if stored else inserts).append(record)
        new_orders: list[OrderVersion] = []
        changed_orders: list[OrderVersion] = []
        for fields, seq, new in self.orders:
            (new_orders if new else changed_orders).append(OrderVersion(order=order_record(fields), seq=seq))
        return Batch(
            accounts=list(self.accounts),
            postings=postings,
            balance_inserts=inserts,
            balance_updates=updates,
            order_inserts=new_orders,
            order_updates=changed_orders,
            trades=list(self.trades),
            aggs=list(self.aggs),
            withdrawals=list(self.withdrawals),
            new_withdrawal_ids=set(self.new_withdrawal_ids),
            deposit_credits=list(self.deposit_credits),
            amends=list(self.amends),
            prevented=list(self.prevented),
            list_inserts=[(lst, seq) for lst, seq, new in self.lists if new],
            list_updates=[(lst, seq) for lst, seq, new in self.lists if not new],
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
    amends: list[Amendment] = field(default_factory=list)  # appended by the amend command itself
    triggered: set[int] = field(default_factory=set)
    lists: dict[int, tuple[OrderList, int, bool]] = field(default_factory=dict)
    prevented: list[PreventedMatch] = field(default_factory=list)

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
            if cx.triggered:
                self.triggered.update(cx.triggered)
        if cx.prevented:
            self.prevented += cx.prevented
        if cx.lists:
            for list_id, (lst, new) in cx.lists.items():
                before = self.lists.get(list_id)
                self.lists[list_id] = (lst, seq, new or (before is not None and before[2]))
        if cx.withdrawals or cx.new_withdrawal_ids or cx.deposit_credits:
            self.withdrawals.update(cx.withdrawals)
            self.new_withdrawal_ids |= cx.new_withdrawal_ids
            self.deposit_credits += cx.deposit_credits

    def close(self, ledger: Ledger) -> Closed:
        """Snapshot everything recorded so far (integers) and start afresh (only the containers
        that were used are replaced: a closed batch keeps the ones it was given)."""
        new_ids, orders = self.new_order_ids, self.orders
        closed = Closed(
            accounts=self.accounts or (),  # an empty container stays here, () goes: never shared
            postings=self.postings or (),
            balances=ledger.snapshot_units(self.balances) if self.balances else (),
            orders=[(order.fields(), seq, order.order_id in new_ids) for order, seq in orders.values()],
            trades=self.trades or (),
            aggs=self.aggs or (),
            withdrawals=[w.snapshot() for w in self.withdrawals.values()] if self.withdrawals else (),
            new_withdrawal_ids=self.new_withdrawal_ids or frozenset(),
            deposit_credits=self.deposit_credits or (),
            amends=self.amends or (),
            prevented=self.prevented or (),
            triggered=self.triggered or frozenset(),
            lists=[(lst.snapshot(), seq, new) for lst, seq, new in self.lists.values()] if self.lists else (),
        )
        if self.accounts:
            self.accounts = []
        if self.postings:
            self.postings = []
        if self.balances:
            self.balances = {}
        if orders:
            self.orders = {}
        if new_ids:
            self.new_order_ids = set()
        if self.trades:
            self.trades, self.aggs = [], []
        if self.triggered:
            self.triggered = set()
        if self.lists:
            self.lists = {}
        if self.withdrawals or self.new_withdrawal_ids or self.deposit_credits:
            self.withdrawals, self.new_withdrawal_ids, self.deposit_credits = {}, set(), []
        if self.amends:
            self.amends = []
        if self.prevented:
            self.prevented = []
        return closed
