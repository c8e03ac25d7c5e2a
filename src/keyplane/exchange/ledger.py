"""Double-entry ledger: free and locked balances per (account, asset), changed only by entries.

Every change is a set of entries whose amounts sum to zero per asset; credits come from the
``external`` account, fees go to the ``fee`` account, so the sum of each asset over all
accounts is always zero and the user+fee total moves only with credits. Balances live in memory
(this process is the one writer); after each command the sequencer takes the new entries, the
touched balances and the new accounts (:meth:`Ledger.take_units`) into its open batch, and reads the
touched balances' values when it closes the batch (:meth:`Ledger.snapshot_units`). Buckets, entry
kinds and account kinds are enums whose values are what the tables store.

The ledger never rounds: an entry with more decimals than its asset's precision, or a balance that
would reach 10**20 (beyond the ``NUMERIC(38, 18)`` columns), is refused before anything changes
(see :mod:`keyplane.exchange.amounts`). Balances are held as integer ledger units of 10**-18
(:mod:`keyplane.exchange.units`), so summing them is exact; ``Decimal`` is converted at the edge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from keyplane.exchange.amounts import check_balance, check_entry
from keyplane.exchange.errors import InsufficientBalance, InvalidParameter
from keyplane.exchange.units import SCALE, from_units, to_units
from keyplane.store.types import MONEY_INTEGER_DIGITS

ZERO = Decimal(0)
EXTERNAL_ACCOUNT = 1
FEE_ACCOUNT = 2


class Bucket(str, Enum):
    """Which half of a balance an entry moves; the value is what ``ex_entries.bucket`` stores."""

    FREE = "free"
    LOCKED = "locked"


FREE, LOCKED = Bucket.FREE, Bucket.LOCKED  # module constants: see keyplane.exchange.models.BUY


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


LOCK, UNLOCK = EntryKind.LOCK, EntryKind.UNLOCK  # module constants, as FREE and LOCKED


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


# One entry in integer units: (account, asset, bucket, units, kind, ref, memo).
Row = tuple[int, str, Bucket, int, EntryKind, int | None, str]
# One balance in integer units: (account, asset, free, locked, time of last change, already stored).
BalanceUnits = tuple[int, str, int, int, int, bool]


class Holding:
    """The free and locked amounts of one (account, asset) in ledger units (``amount * 10**18``,
    :mod:`keyplane.exchange.units`); mutated in place by postings."""

    __slots__ = ("free", "locked")

    def __init__(self, free: int = 0, locked: int = 0) -> None:
        self.free, self.locked = free, locked

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Holding) and (self.free, self.locked) == (other.free, other.locked)

    def __repr__(self) -> str:
        return f"Holding(free={self.free}, locked={self.locked})"


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
    """Balances in memory (integer units), entries pending until :meth:`take`.

    ``precision`` is decimals per asset. The ``Decimal`` methods (:meth:`post`, :meth:`credit`,
    :meth:`free`, ...) are the edge; the engine's hot path uses the ``*_units`` ones."""

    def __init__(
        self,
        precision: Mapping[str, int],
        accounts: Iterable[Account] = (),
        balances: Mapping[tuple[int, str], tuple[Decimal, Decimal]] | None = None,
    ) -> None:
        """A ledger holding the stored ``accounts`` and ``balances`` ((free, locked) per key); the
        system accounts missing from ``accounts`` are opened (and handed over by the first :meth:`take`)."""
        self.precision = dict(precision)
        # Units at which a balance reaches 10**20, beyond the NUMERIC(38, 18) columns.
        self.limit = {a: 10 ** (MONEY_INTEGER_DIGITS + SCALE) for a in self.precision}
        self.balances: dict[tuple[int, str], Holding] = {
            k: Holding(to_units(free, SCALE), to_units(locked, SCALE))
            for k, (free, locked) in (balances or {}).items()
        }
        self.accounts: dict[int, int] = {}  # user_id -> account_id
        self._stored: set[tuple[int, str]] = set(self.balances)
        self._touched: set[tuple[int, str]] = set()
        self._new_accounts: list[Account] = []
        self.pending: list[Row] = []
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
        return from_units(held.free) if held is not None else ZERO

    def locked(self, account_id: int, asset: str) -> Decimal:
        held = self.balances.get((account_id, asset))
        return from_units(held.locked) if held is not None else ZERO

    def free_units(self, account_id: int, asset: str) -> int:
        held = self.balances.get((account_id, asset))
        return held.free if held is not None else 0

    def units_of(self, account_id: int | None, assets: Iterable[str]) -> list[tuple[str, int, int]]:
        """(asset, free, locked) in units for each of ``assets``: zeros where the account (None:
        none yet) holds nothing. One pass, no ``Decimal``: what an answer listing them all needs."""
        if account_id is None:
            return [(asset, 0, 0) for asset in assets]
        get = self.balances.get
        out: list[tuple[str, int, int]] = []
        for asset in assets:
            held = get((account_id, asset))
            out.append((asset, 0, 0) if held is None else (asset, held.free, held.locked))
        return out

    def amounts(self, key: tuple[int, str]) -> tuple[Decimal, Decimal]:
        """(free, locked) of ``key`` as ``Decimal``."""
        held = self.balances[key]
        return from_units(held.free), from_units(held.locked)

    # -- posting -------------------------------------------------------------------------
    def post(self, entries: list[Entry]) -> None:
        """Apply a balanced set of entries; refuse (changing nothing) if a balance would go negative,
        an amount has more decimals than its asset allows, or a balance would outgrow the columns."""
        rows: list[Row] = []
        for e in entries:
            precision = self.precision.get(e.asset)
            if precision is None:
                raise InvalidParameter.invalid("asset")
            check_entry(e.asset, e.amount, precision)
            rows.append((e.account_id, e.asset, e.bucket, to_units(e.amount, SCALE), e.kind, e.ref, e.memo))
        self.post_units(rows)

    def post_units(self, rows: list[Row]) -> None:
        """:meth:`post` for rows whose amounts are already integer units of their asset."""
        sums: dict[str, int] = {}
        deltas: dict[tuple[int, str, Bucket], int] = {}
        for acc, asset, bucket, units, _, _, _ in rows:
            sums[asset] = sums.get(asset, 0) + units
            k = (acc, asset, bucket)
            deltas[k] = deltas.get(k, 0) + units
        if any(sums.values()):
            raise AssertionError(f"unbalanced entries: {sums}")
        balances = self.balances
        for (acc, asset, bucket), delta in deltas.items():
            held = balances.get((acc, asset))
            after = delta if held is None else (held.free if bucket is FREE else held.locked) + delta
            if after < 0 and acc != EXTERNAL_ACCOUNT:
                raise InsufficientBalance()
            self._check_limit(asset, after)
        touched = self._touched
        for (acc, asset, bucket), delta in deltas.items():
            key = (acc, asset)
            held = balances.get(key)
            if held is None:
                held = balances[key] = Holding()
            if bucket is FREE:
                held.free += delta
            else:
                held.locked += delta
            touched.add(key)
        self.pending.extend(rows)

    def post_fill(self, rows: list[Row], buyer: int, seller: int) -> None:
        """:meth:`post_units` for the rows of one fill (:func:`keyplane.exchange.matching.settle`),
        applied straight to the holdings: between two different accounts, with the only decreases
        on the buyer's locked quote and the seller's locked base, no two rows meet in one bucket
        and each check is one comparison. Anything else (an account
        trading with itself, a negative fee, a sum near the columns' limit) takes the general path."""
        if buyer == seller:
            self.post_units(rows)
            return
        balances, limit = self.balances, self.limit
        changes: list[tuple[tuple[int, str], Bucket, int]] = []
        for acc, asset, bucket, units, _, _, _ in rows:
            key = (acc, asset)
            held = balances.get(key)
            if bucket is LOCKED and units <= 0:
                if held is None or held.locked + units < 0:
                    raise InsufficientBalance()
            elif units < 0 or (held.free if held is not None else 0) + units >= limit[asset]:
                self.post_units(rows)
                return
            changes.append((key, bucket, units))
        touched = self._touched
        for key, bucket, units in changes:
            held = balances.get(key)
            if held is None:
                held = balances[key] = Holding()
            if bucket is FREE:
                held.free += units
            else:
                held.locked += units
            touched.add(key)
        self.pending.extend(rows)

    def _check_limit(self, asset: str, units: int) -> None:
        limit = self.limit[asset]
        if not -limit < units < limit:
            check_balance(asset, from_units(units))

    def _shift(self, account_id: int, asset: str, units: int, to_locked: bool, ref: int) -> None:
        """Move ``units`` (> 0) between the free and locked halves of one balance."""
        key = (account_id, asset)
        held = self.balances.get(key)
        have = 0 if held is None else held.free if to_locked else held.locked
        if held is None or have < units:
            raise InsufficientBalance()
        if to_locked:
            self._check_limit(asset, held.locked + units)
            held.free -= units
            held.locked += units
            kind, src, dst = LOCK, FREE, LOCKED
        else:
            self._check_limit(asset, held.free + units)
            held.locked -= units
            held.free += units
            kind, src, dst = UNLOCK, LOCKED, FREE
        self._touched.add(key)
        self.pending += (
            (account_id, asset, src, -units, kind, ref, ""),
            (account_id, asset, dst, units, kind, ref, ""),
        )

    def lock_units(self, account_id: int, asset: str, units: int, ref: int) -> None:
        if units > 0:
            self._shift(account_id, asset, units, True, ref)
        elif units:
            self.unlock_units(account_id, asset, -units, ref)

    def unlock_units(self, account_id: int, asset: str, units: int, ref: int) -> None:
        if units > 0:
            self._shift(account_id, asset, units, False, ref)
        elif units:
            self.lock_units(account_id, asset, -units, ref)

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
        entries = [
            Entry(
                account_id=acc,
                asset=asset,
                bucket=bucket,
                amount=from_units(units),
                kind=kind,
                ref=ref,
                memo=memo,
            )
            for acc, asset, bucket, units, kind, ref, memo in self.pending
        ]
        taken = (entries, self._touched, self._new_accounts)
        self.pending, self._touched, self._new_accounts = [], set(), []
        return taken

    def take_units(self) -> tuple[list[Row], set[tuple[int, str]], list[Account]]:
        """:meth:`take` with the entries left as integer rows (the journal converts them later)."""
        rows, touched, accounts = self.pending, self._touched, self._new_accounts
        if rows:  # an empty container is handed over as it is: the caller only reads it
            self.pending = []
        if touched:
            self._touched = set()
        if accounts:
            self._new_accounts = []
        return rows, touched, accounts

    def snapshot_units(self, keys: dict[tuple[int, str], int]) -> list[BalanceUnits]:
        """The current units of ``keys`` (key -> time it changed), each flagged if already stored.

        They are then counted as stored: if their batch fails, the ledger is rebuilt anyway."""
        stored, balances = self._stored, self.balances
        out: list[BalanceUnits] = []
        for key, at in keys.items():
            held = balances[key]
            out.append((key[0], key[1], held.free, held.locked, at, key in stored))
        stored.update(keys)
        return out
