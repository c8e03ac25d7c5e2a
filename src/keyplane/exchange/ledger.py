"""Double-entry ledger: free and locked balances per (account, asset), changed only by entries.

Every change is a set of entries whose amounts sum to zero per asset; credits come from the
``external`` account, fees go to the ``fee`` account, so the sum of each asset over all
accounts is always zero and the user+fee total moves only with credits. Balances live in memory
(this process is the one writer); after each command the sequencer takes the new entries, the
touched balances and the new accounts (:meth:`Ledger.take`) into its open batch, and reads the
touched balances' values when it closes the batch (:meth:`Ledger.snapshot`). Buckets, entry
kinds and account kinds are enums whose values are what the tables store.

The ledger never rounds: an entry with more decimals than its asset's precision, or a balance that
would reach 10**20 (beyond the ``NUMERIC(38, 18)`` columns), is refused before anything changes
(see :mod:`keyplane.exchange.amounts`), and balances are summed under the exact context.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from enum import Enum

from keyplane.exchange.amounts import EXACT, check_balance, check_entry
from keyplane.exchange.errors import InsufficientBalance, InvalidParameter

ZERO = Decimal(0)
EXTERNAL_ACCOUNT = 1
FEE_ACCOUNT = 2


class Bucket(str, Enum):
    """Which half of a balance an entry moves; the value is what ``ex_entries.bucket`` stores."""

    FREE = "free"
    LOCKED = "locked"


class EntryKind(str, Enum):
    """Why an entry was posted; the value is what ``ex_entries.kind`` stores."""

    CREDIT = "credit"
    LOCK = "lock"
    UNLOCK = "unlock"
    TRADE = "trade"
    FEE = "fee"
    REFUND = "refund"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


class AccountKind(str, Enum):
    USER = "user"
    FEE = "fee"
    EXTERNAL = "external"


@dataclass(kw_only=True, slots=True)
class Entry:
    """One side of a posting: ``amount`` (signed) into ``bucket`` of (account, asset)."""

    account_id: int
    asset: str
    bucket: Bucket
    amount: Decimal
    kind: EntryKind
    ref: int | None = None
    memo: str = ""


@dataclass(slots=True)
class Holding:
    """The free and locked amounts of one (account, asset); mutated in place by postings."""

    free: Decimal = ZERO
    locked: Decimal = ZERO

    def get(self, bucket: Bucket) -> Decimal:
        return self.free if bucket is Bucket.FREE else self.locked

    def add(self, bucket: Bucket, delta: Decimal) -> None:
        if bucket is Bucket.FREE:
            self.free += delta
        else:
            self.locked += delta


@dataclass(kw_only=True, frozen=True, slots=True)
class Account:
    """A ledger account: one per user, and the two system accounts (no user)."""

    id: int
    kind: AccountKind
    user_id: int | None


@dataclass(kw_only=True, frozen=True, slots=True)
class BalanceRecord:
    """The value of one balance at the close of a batch, as the journal writes it."""

    account_id: int
    asset: str
    free: Decimal
    locked: Decimal
    updated_at: int


class Ledger:
    """Balances in memory, entries pending until :meth:`take`; ``precision`` is decimals per asset."""

    def __init__(
        self,
        precision: Mapping[str, int],
        accounts: Iterable[Account] = (),
        balances: Mapping[tuple[int, str], Holding] | None = None,
    ) -> None:
        """A ledger holding the stored ``accounts`` and ``balances``; the system accounts missing
        from ``accounts`` are opened (and handed over by the first :meth:`take`)."""
        self.precision = dict(precision)
        self.balances: dict[tuple[int, str], Holding] = dict(balances or {})
        self.accounts: dict[int, int] = {}  # user_id -> account_id
        self._stored: set[tuple[int, str]] = set(self.balances)
        self._touched: set[tuple[int, str]] = set()
        self._new_accounts: list[Account] = []
        self.pending: list[Entry] = []
        have: set[int] = set()
        for account in accounts:
            have.add(account.id)
            if account.user_id is not None:
                self.accounts[account.user_id] = account.id
        for acc_id, kind in ((EXTERNAL_ACCOUNT, AccountKind.EXTERNAL), (FEE_ACCOUNT, AccountKind.FEE)):
            if acc_id not in have:
                self._new_accounts.append(Account(id=acc_id, kind=kind, user_id=None))

    def account_of(self, user_id: int) -> int | None:
        return self.accounts.get(user_id)

    def open_account(self, user_id: int) -> int:
        acc = self.accounts.get(user_id)
        if acc is None:
            acc = max([FEE_ACCOUNT, *self.accounts.values()]) + 1
            self.accounts[user_id] = acc
            self._new_accounts.append(Account(id=acc, kind=AccountKind.USER, user_id=user_id))
        return acc

    # -- reading -------------------------------------------------------------------------
    def free(self, account_id: int, asset: str) -> Decimal:
        held = self.balances.get((account_id, asset))
        return held.free if held is not None else ZERO

    def locked(self, account_id: int, asset: str) -> Decimal:
        held = self.balances.get((account_id, asset))
        return held.locked if held is not None else ZERO

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
        deltas: dict[tuple[int, str, Bucket], Decimal] = {}
        for e in entries:
            k = (e.account_id, e.asset, e.bucket)
            deltas[k] = deltas.get(k, ZERO) + e.amount
        for (acc, asset, bucket), delta in deltas.items():
            held = self.balances.get((acc, asset))
            after = (held.get(bucket) if held is not None else ZERO) + delta
            if after < 0 and acc != EXTERNAL_ACCOUNT:
                raise InsufficientBalance()
            check_balance(asset, after)
        for (acc, asset, bucket), delta in deltas.items():
            held = self.balances.get((acc, asset))
            if held is None:
                held = self.balances[(acc, asset)] = Holding()
            held.add(bucket, delta)
            self._touched.add((acc, asset))
        self.pending.extend(entries)

    def move(
        self,
        asset: str,
        amount: Decimal,
        src: tuple[int, Bucket],
        dst: tuple[int, Bucket],
        kind: EntryKind,
        ref: int | None = None,
        memo: str = "",
    ) -> list[Entry]:
        """Two entries moving ``amount`` from (account, bucket) ``src`` to ``dst``; not yet posted."""
        return [
            Entry(
                account_id=src[0], asset=asset, bucket=src[1], amount=-amount, kind=kind, ref=ref, memo=memo
            ),
            Entry(
                account_id=dst[0], asset=asset, bucket=dst[1], amount=amount, kind=kind, ref=ref, memo=memo
            ),
        ]

    def credit(self, account_id: int, asset: str, amount: Decimal, memo: str) -> None:
        src, dst = (EXTERNAL_ACCOUNT, Bucket.FREE), (account_id, Bucket.FREE)
        self.post(self.move(asset, amount, src, dst, EntryKind.CREDIT, None, memo))

    def lock(self, account_id: int, asset: str, amount: Decimal, ref: int) -> None:
        if amount:
            src, dst = (account_id, Bucket.FREE), (account_id, Bucket.LOCKED)
            self.post(self.move(asset, amount, src, dst, EntryKind.LOCK, ref))

    def unlock(self, account_id: int, asset: str, amount: Decimal, ref: int) -> None:
        if amount:
            src, dst = (account_id, Bucket.LOCKED), (account_id, Bucket.FREE)
            self.post(self.move(asset, amount, src, dst, EntryKind.UNLOCK, ref))

    # -- persisting ----------------------------------------------------------------------
    def take(self) -> tuple[list[Entry], set[tuple[int, str]], list[Account]]:
        """Hand over (and forget) the entries, touched balance keys and new accounts since the last call."""
        taken = (self.pending, self._touched, self._new_accounts)
        self.pending, self._touched, self._new_accounts = [], set(), []
        return taken

    def snapshot(self, keys: dict[tuple[int, str], int]) -> tuple[list[BalanceRecord], list[BalanceRecord]]:
        """The current values of ``keys`` (key -> time it changed), split into (new, already stored).

        They are then counted as stored: if their batch fails, the ledger is rebuilt anyway."""
        inserts: list[BalanceRecord] = []
        updates: list[BalanceRecord] = []
        for key, at in keys.items():
            held = self.balances[key]
            record = BalanceRecord(
                account_id=key[0], asset=key[1], free=held.free, locked=held.locked, updated_at=at
            )
            (updates if key in self._stored else inserts).append(record)
        self._stored |= keys.keys()
        return inserts, updates
