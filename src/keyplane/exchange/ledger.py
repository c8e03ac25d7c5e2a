"""Double-entry ledger: free and locked balances per (account, asset), changed only by entries.

Every change is a set of entries whose amounts sum to zero per asset; credits come from the
``external`` account, fees go to the ``fee`` account, so the sum of each asset over all
accounts is always zero and the user+fee total moves only with credits. Balances live in memory
(this process is the one writer); after each command the sequencer takes the new entries, the
touched balances and the new accounts (:meth:`Ledger.take`) into its open batch, and reads the
touched rows' values when it closes the batch (:meth:`Ledger.balance_rows`).

The ledger never rounds: an entry with more decimals than its asset's precision, or a balance that
would reach 10**20 (beyond the ``NUMERIC(38, 18)`` columns), is refused before anything changes
(see :mod:`keyplane.exchange.amounts`), and balances are summed under the exact context.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext

from sqlalchemy import Connection, select

from keyplane.exchange.amounts import EXACT, check_balance, check_entry
from keyplane.exchange.errors import InsufficientBalance, InvalidParameter
from keyplane.store.exchange_tables import ex_accounts, ex_balances

ZERO = Decimal(0)
EXTERNAL_ACCOUNT = 1
FEE_ACCOUNT = 2
FREE = "free"
LOCKED = "locked"


@dataclass
class Entry:
    account_id: int
    asset: str
    bucket: str
    amount: Decimal
    kind: str
    ref: int | None
    memo: str


class Ledger:
    """Balances in memory, entries pending until :meth:`take`; ``precision`` is decimals per asset."""

    def __init__(self, precision: Mapping[str, int]) -> None:
        self.precision = dict(precision)
        self.balances: dict[tuple[int, str], list[Decimal]] = {}
        self.accounts: dict[int, int] = {}  # user_id -> account_id
        self._stored: set[tuple[int, str]] = set()
        self._touched: set[tuple[int, str]] = set()
        self._new_accounts: list[dict[str, object]] = []
        self.pending: list[Entry] = []

    # -- loading -------------------------------------------------------------------------
    def load(self, conn: Connection) -> None:
        for acc in conn.execute(select(ex_accounts)).mappings():
            if acc["user_id"] is not None:
                self.accounts[acc["user_id"]] = acc["id"]
        have = {r[0] for r in conn.execute(select(ex_accounts.c.id))}
        for acc_id, kind in ((EXTERNAL_ACCOUNT, "external"), (FEE_ACCOUNT, "fee")):
            if acc_id not in have:
                self._new_accounts.append({"id": acc_id, "kind": kind, "user_id": None})
        for b in conn.execute(select(ex_balances)).mappings():
            key = (b["account_id"], b["asset"])
            self.balances[key] = [b["free"], b["locked"]]
            self._stored.add(key)

    def account_of(self, user_id: int) -> int | None:
        return self.accounts.get(user_id)

    def open_account(self, user_id: int) -> int:
        acc = self.accounts.get(user_id)
        if acc is None:
            acc = max([FEE_ACCOUNT, *self.accounts.values()]) + 1
            self.accounts[user_id] = acc
            self._new_accounts.append({"id": acc, "kind": "user", "user_id": user_id})
        return acc

    # -- reading -------------------------------------------------------------------------
    def free(self, account_id: int, asset: str) -> Decimal:
        return self.balances.get((account_id, asset), [ZERO, ZERO])[0]

    def locked(self, account_id: int, asset: str) -> Decimal:
        return self.balances.get((account_id, asset), [ZERO, ZERO])[1]

    # -- posting -------------------------------------------------------------------------
    def post(self, entries: list[Entry]) -> None:
        """Apply a balanced set of entries; refuse (changing nothing) if a balance would go negative,
        an amount has more decimals than its asset allows, or a balance would outgrow the columns."""
        with localcontext(EXACT):
            self._post(entries)

    def _post(self, entries: list[Entry]) -> None:
        sums: dict[str, Decimal] = {}
        for e in entries:
            if e.asset not in self.precision:
                raise InvalidParameter.invalid("asset")
            check_entry(e.asset, e.amount, self.precision[e.asset])
            sums[e.asset] = sums.get(e.asset, ZERO) + e.amount
        if any(v != 0 for v in sums.values()):
            raise AssertionError(f"unbalanced entries: {sums}")
        deltas: dict[tuple[int, str, str], Decimal] = {}
        for e in entries:
            k = (e.account_id, e.asset, e.bucket)
            deltas[k] = deltas.get(k, ZERO) + e.amount
        for (acc, asset, bucket), delta in deltas.items():
            after = self.balances.get((acc, asset), [ZERO, ZERO])[0 if bucket == FREE else 1] + delta
            if after < 0 and acc != EXTERNAL_ACCOUNT:
                raise InsufficientBalance()
            check_balance(asset, after)
        for (acc, asset, bucket), delta in deltas.items():
            bal = self.balances.setdefault((acc, asset), [ZERO, ZERO])
            bal[0 if bucket == FREE else 1] += delta
            self._touched.add((acc, asset))
        self.pending.extend(entries)

    def move(
        self,
        asset: str,
        amount: Decimal,
        src: tuple[int, str],
        dst: tuple[int, str],
        kind: str,
        ref: int | None = None,
        memo: str = "",
    ) -> list[Entry]:
        """Two entries moving ``amount`` from (account, bucket) ``src`` to ``dst``; not yet posted."""
        return [
            Entry(src[0], asset, src[1], -amount, kind, ref, memo),
            Entry(dst[0], asset, dst[1], amount, kind, ref, memo),
        ]

    def credit(self, account_id: int, asset: str, amount: Decimal, memo: str) -> None:
        self.post(
            self.move(asset, amount, (EXTERNAL_ACCOUNT, FREE), (account_id, FREE), "credit", None, memo)
        )

    def lock(self, account_id: int, asset: str, amount: Decimal, ref: int) -> None:
        if amount:
            self.post(self.move(asset, amount, (account_id, FREE), (account_id, LOCKED), "lock", ref))

    def unlock(self, account_id: int, asset: str, amount: Decimal, ref: int) -> None:
        if amount:
            self.post(self.move(asset, amount, (account_id, LOCKED), (account_id, FREE), "unlock", ref))

    # -- persisting ----------------------------------------------------------------------
    def take(self) -> tuple[list[Entry], set[tuple[int, str]], list[dict[str, object]]]:
        """Hand over (and forget) the entries, touched balance keys and new accounts since the last call."""
        taken = (self.pending, self._touched, self._new_accounts)
        self.pending, self._touched, self._new_accounts = [], set(), []
        return taken

    def balance_rows(
        self, keys: dict[tuple[int, str], int]
    ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        """Rows (inserts, updates) with the current values of ``keys`` (key -> time it changed).

        The rows are then counted as stored: if their batch fails, the ledger is rebuilt anyway."""
        inserts: list[dict[str, object]] = []
        updates: list[dict[str, object]] = []
        for key, at in keys.items():
            free, locked = self.balances[key]
            row = {"b_account": key[0], "b_asset": key[1], "b_free": free, "b_locked": locked, "b_at": at}
            (updates if key in self._stored else inserts).append(row)
        self._stored |= keys.keys()
        return inserts, updates
