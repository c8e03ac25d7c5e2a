"""The wallet's records: issued deposit addresses, chain transactions, and a request to send.

Plain frozen dataclasses with every field the Binance capital endpoints will serialize, and the
entries of a user's withdrawal-address book; the repository (``store/wallet_repo.py``) reads and
writes them. ``memo`` is empty on networks
without one (Binance's ``addressTag``/``tag`` ``""``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from keyplane.exchange.wallet.states import ChainTxStatus, Direction


@dataclass(frozen=True, kw_only=True, slots=True)
class DepositAddress:
    """The address one user deposits one coin to on one network; issued once, then stable.

    ``derivation_path`` is where the operator's account key leads to it (the account part is what
    the operator said it exported; a public key cannot prove it), ``key_fingerprint`` which
    operator key it came from, so that rotating the key never silently moves an issued address.
    """

    user_id: int
    coin: str
    network: str
    address: str
    memo: str
    derivation_path: str
    key_fingerprint: str
    created_at: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ChainTransaction:
    """A transfer on a chain to one of our addresses (``IN``) or from the wallet (``OUT``).

    ``(network, txid, output_index)`` identifies it: one real transaction can pay several of our
    addresses. ``seq`` grows with every change to any row, so a consumer that stores the last
    ``seq`` it handled (in the same transaction as its own effects) sees every change exactly once.
    ``withdrawal_id`` is the exchange's id of the withdrawal an ``OUT`` transaction carries.
    """

    id: int
    seq: int
    txid: str
    output_index: int
    network: str
    coin: str
    address: str
    memo: str
    amount: Decimal
    direction: Direction
    confirmations: int
    required_confirmations: int
    status: ChainTxStatus
    withdrawal_id: str | None
    failure_reason: str
    created_at: int
    updated_at: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SendRequest:
    """A withdrawal handed to the chain. ``amount`` is what arrives: the fee is already taken off.

    ``withdrawal_id`` makes sending idempotent: a second send with the same id returns the first
    transaction's txid and broadcasts nothing.
    """

    withdrawal_id: str
    coin: str
    network: str
    address: str
    amount: Decimal
    memo: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class AddressBookEntry:
    """A withdrawal destination a user added to their book for one coin on one network.

    ``address`` is canonical (as :func:`~keyplane.exchange.wallet.destinations.parse_destination`
    returns it), so a withdrawal that spells it otherwise still finds it. ``checksummed`` is false
    where the format let a typo through (Solana; all-lower-case Ethereum): the console says so.
    Whether it is usable is not stored: it follows from ``added_at`` and the current cooling-off.
    """

    id: int
    user_id: int
    coin: str
    network: str
    address: str
    memo: str
    label: str
    checksummed: bool
    added_at: int
