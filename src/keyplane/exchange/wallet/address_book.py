"""The withdrawal-address book: where a user's withdrawals may go, and from when.

A withdrawal may only go to a destination its account added here (in the console, with a fresh
TOTP code) longer ago than the cooling-off period, 24 h by default. Whoever takes over a session
or a key cannot add an address and withdraw to it at once; the owner sees it pending (and its
audit event) and has the cooling-off to react.

- One entry is one coin on one network. The destination is decoded by the network's address
  format, checksum included (:func:`parse_destination`), before anything is stored, and stored
  canonical, so another spelling of a booked address finds it and cannot be booked twice.
- Whether an entry is usable is not stored: it is ``added_at + cooling-off <= now`` with the
  *current* cooling-off, so an operator who lengthens it (after an incident, say) holds back every
  pending address at once.
- Removing deletes the entry; adding it again starts a new cooling-off.
- Every addition and removal writes an audit event in the transaction that changes the book.

:meth:`AddressBook.matured_entry` is the check a withdrawal runs; it raises rather than returns
a flag, so a forgotten ``if`` cannot let a withdrawal through.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from keyplane.clock import now_ms
from keyplane.exchange.wallet.destinations import parse_destination
from keyplane.exchange.wallet.errors import (
    AddressBookChangeRefused,
    AddressCoolingOff,
    NotInAddressBook,
    UnknownBookEntry,
)
from keyplane.exchange.wallet.models import AddressBookEntry
from keyplane.exchange.wallet.networks import DEFAULT_NETWORKS, NetworkTable
from keyplane.store import key_repo, wallet_repo

DEFAULT_COOLING_OFF_MS = 86_400_000
MAX_LABEL_LENGTH = 64
MAX_ENTRIES_PER_USER = 100


class EntryStatus(str, Enum):
    PENDING = "pending"  # added less than the cooling-off ago: no withdrawal may go there yet
    MATURED = "matured"


class BookAction(str, Enum):
    """The audit events of the book."""

    ADDED = "wallet.address.add"
    REMOVED = "wallet.address.remove"


@dataclass(frozen=True, kw_only=True, slots=True)
class BookedAddress:
    """An entry with its status at one moment, as the console lists it."""

    entry: AddressBookEntry
    status: EntryStatus
    matures_at: int


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckedAddition:
    """An addition that passed every check but is not stored yet (see :meth:`AddressBook.check`)."""

    user_id: int
    coin: str
    network: str
    address: str
    memo: str
    label: str
    checksummed: bool


class AddressBook:
    """Every user's withdrawal-address book, in the database."""

    def __init__(
        self,
        engine: Engine,
        networks: NetworkTable = DEFAULT_NETWORKS,
        *,
        cooling_off_ms: int = DEFAULT_COOLING_OFF_MS,
        now: Callable[[], int] = now_ms,
    ) -> None:
        if cooling_off_ms < 0:
            raise ValueError("the cooling-off period cannot be negative")
        self._engine = engine
        self._networks = networks
        self._cooling_off_ms = cooling_off_ms
        self._now = now

    @property
    def cooling_off_ms(self) -> int:
        return self._cooling_off_ms

    def matures_at(self, entry: AddressBookEntry) -> int:
        return entry.added_at + self._cooling_off_ms

    def status(self, entry: AddressBookEntry, now: int) -> EntryStatus:
        return EntryStatus.MATURED if now >= self.matures_at(entry) else EntryStatus.PENDING

    # --- changes ----------------------------------------------------------------------------

    def check(
        self, user_id: int, coin: str, network: str | None, address: str, memo: str = "", label: str = ""
    ) -> CheckedAddition:
        """Everything :meth:`add` checks, storing nothing: the console runs it before it spends
        the user's TOTP code, so a typo costs no code."""
        with self._engine.connect() as conn:
            return self._checked(conn, user_id, coin, network, address, memo, label)

    def add(
        self,
        user_id: int,
        coin: str,
        network: str | None,
        address: str,
        memo: str = "",
        label: str = "",
        *,
        actor: str,
        source_ip: str | None = None,
    ) -> AddressBookEntry:
        """Book a destination (pending from now); refused with nothing stored if any check fails."""
        try:
            with self._engine.begin() as conn:
                addition = self._checked(conn, user_id, coin, network, address, memo, label)
                entry = wallet_repo.insert_book_entry(
                    conn,
                    user_id=user_id,
                    coin=addition.coin,
                    network=addition.network,
                    address=addition.address,
                    memo=addition.memo,
                    label=addition.label,
                    checksummed=addition.checksummed,
                    added_at=self._now(),
                )
                self._audit(conn, BookAction.ADDED, entry, actor, source_ip)
        except IntegrityError:  # the same destination, added at the same moment elsewhere
            raise _duplicate(coin, network or "", address) from None
        return entry

    def remove(
        self, user_id: int, entry_id: int, *, actor: str, source_ip: str | None = None
    ) -> AddressBookEntry:
        """Delete one of the user's entries; another user's entry is reported as missing."""
        with self._engine.begin() as conn:
            entry = wallet_repo.book_entry(conn, user_id, entry_id)
            if entry is None or not wallet_repo.delete_book_entry(conn, user_id, entry_id):
                raise UnknownBookEntry()
            self._audit(conn, BookAction.REMOVED, entry, actor, source_ip)
        return entry

    # --- reads ------------------------------------------------------------------------------

    def entries(self, user_id: int, now: int | None = None) -> list[BookedAddress]:
        """The user's book, oldest first, each entry with its status at ``now``."""
        at = self._now() if now is None else now
        with self._engine.connect() as conn:
            found = wallet_repo.book_entries_of(conn, user_id)
        return [
            BookedAddress(entry=e, status=self.status(e, at), matures_at=self.matures_at(e)) for e in found
        ]

    def entry(self, user_id: int, entry_id: int) -> AddressBookEntry | None:
        """One of the user's entries by id (None for another user's, which looks the same)."""
        with self._engine.connect() as conn:
            return wallet_repo.book_entry(conn, user_id, entry_id)

    def matured_entry(
        self, user_id: int, coin: str, network: str | None, address: str, memo: str, now: int
    ) -> AddressBookEntry:
        """The entry a withdrawal to this destination may use at ``now``, or a refusal that says why.

        The destination is decoded first (InvalidAddress, InvalidMemo), then looked up in its
        canonical form: NotInAddressBook, or AddressCoolingOff naming the moment it matures.
        """
        spec = self._networks.get(coin, network)
        destination = parse_destination(spec.network, address, memo)
        with self._engine.connect() as conn:
            entry = wallet_repo.book_entry_at(
                conn, user_id, spec.coin, spec.code, destination.address, destination.memo
            )
        if entry is None:
            raise NotInAddressBook(
                f"Address validation is not passed: {destination.address} is not in your withdrawal "
                f"address book for {spec.coin} on network {spec.code}. Add it in the console; it can be "
                f"used {_duration(self._cooling_off_ms)} after it is added."
            )
        if self.status(entry, now) is EntryStatus.PENDING:
            raise AddressCoolingOff(
                f"Address validation is not passed: {destination.address} was added to your withdrawal "
                f"address book at {utc(entry.added_at)} and is pending until {utc(self.matures_at(entry))} "
                f"(a cooling-off of {_duration(self._cooling_off_ms)})."
            )
        return entry

    # --- helpers ----------------------------------------------------------------------------

    def _checked(
        self,
        conn: Connection,
        user_id: int,
        coin: str,
        network: str | None,
        address: str,
        memo: str,
        label: str,
    ) -> CheckedAddition:
        spec = self._networks.get(coin, network)
        destination = parse_destination(spec.network, address, memo)
        addition = CheckedAddition(
            user_id=user_id,
            coin=spec.coin,
            network=spec.code,
            address=destination.address,
            memo=destination.memo,
            label=_clean_label(label),
            checksummed=destination.checksummed,
        )
        booked = wallet_repo.book_entry_at(
            conn, user_id, addition.coin, addition.network, addition.address, addition.memo
        )
        if booked is not None:
            raise _duplicate(addition.coin, addition.network, addition.address)
        if wallet_repo.count_book_entries(conn, user_id) >= MAX_ENTRIES_PER_USER:
            raise AddressBookChangeRefused(
                f"Your withdrawal address book is full ({MAX_ENTRIES_PER_USER} addresses): remove one first."
            )
        return addition

    def _audit(
        self,
        conn: Connection,
        action: BookAction,
        entry: AddressBookEntry,
        actor: str,
        source_ip: str | None,
    ) -> None:
        detail = {
            "entry_id": entry.id,
            "coin": entry.coin,
            "network": entry.network,
            "address": entry.address,
            "memo": entry.memo,
            "label": entry.label,
        }
        if action is BookAction.ADDED:
            detail["matures_at"] = utc(self.matures_at(entry))
        key_repo.insert_audit(
            conn,
            [
                {
                    "at": self._now(),
                    "actor": actor,
                    "action": action.value,
                    "user_id": entry.user_id,
                    "key_id": None,
                    "source_ip": source_ip,
                    "detail": json.dumps(detail),
                }
            ],
        )


def utc(ms: int) -> str:
    """A moment to the second, in UTC, as messages and the console show it."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(ms: int) -> str:
    seconds = ms // 1000
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _clean_label(label: str) -> str:
    """A label is shown in the console and the audit log: printable text, not too long."""
    label = label.strip()
    if len(label) > MAX_LABEL_LENGTH:
        raise AddressBookChangeRefused(f"A label has at most {MAX_LABEL_LENGTH} characters.")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in label):
        raise AddressBookChangeRefused("A label cannot contain control or invisible characters.")
    return label


def _duplicate(coin: str, network: str, address: str) -> AddressBookChangeRefused:
    where = f" on network {network}" if network else ""
    return AddressBookChangeRefused(
        f"{address} is already in your withdrawal address book for {coin}{where}."
    )
