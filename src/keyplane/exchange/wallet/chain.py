"""The chain behind an adapter: what the exchange needs from a blockchain, and a simulated one.

:class:`Chain` is what a node adapter (bitcoind, an Ethereum or Solana RPC) will implement: report
transactions to our addresses with their confirmations, and send withdrawals. The chain knows
nothing of balances; it says "this deposit has N confirmations" and "this send completed or
failed". Crediting, locking and returning funds are the exchange's, which reads the chain's facts
level-triggered (``states.deposit_status``): reading them twice must never credit twice, so it
keys what it credited by ``(network, txid, output_index)`` and keeps the last :attr:`seq` it handled.

:class:`SimulatedChain` keeps its chain in the database (``wallet_chain_transactions``), so every
instance and the CLI see one chain. Blocks come every ``block_interval_ms`` of a network, at whole
multiples of it: a transaction made at ``t`` has ``floor(now / I) - floor(t / I)`` confirmations,
whenever :meth:`SimulatedChain.advance` runs, so the caller's timer may be late or irregular.
Run ``advance`` from one place (the exchange writer); concurrent writers are safe but redundant.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Protocol, TypeVar, runtime_checkable

from bip_utils import Base58Encoder
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from keyplane.clock import now_ms
from keyplane.exchange.wallet.destinations import parse_destination
from keyplane.exchange.wallet.errors import (
    AmbiguousDeposit,
    ChainAmountInvalid,
    ForeignAddress,
    InvalidMemo,
    SendConflict,
    UnknownTransaction,
    WalletError,
)
from keyplane.exchange.wallet.models import ChainTransaction, DepositAddress, SendRequest
from keyplane.exchange.wallet.networks import DEFAULT_NETWORKS, AddressFamily, CoinNetwork, NetworkTable
from keyplane.exchange.wallet.states import ChainTxStatus, Direction
from keyplane.store import wallet_repo
from keyplane.store.types import decimal_places, fits_column

T = TypeVar("T")
WRITE_ATTEMPTS = 3


@runtime_checkable
class Chain(Protocol):
    """A chain as the exchange sees it. A :class:`~keyplane.exchange.wallet.errors.WalletError` from
    :meth:`send` means nothing was broadcast; any other exception leaves the outcome unknown, so
    the caller asks :meth:`sent` before it sends again (``send`` is idempotent on the id anyway)."""

    def send(self, request: SendRequest) -> str:
        """Broadcast a withdrawal; returns its txid."""
        ...

    def sent(self, withdrawal_id: str) -> ChainTransaction | None:
        """The transaction that carries a withdrawal, if it was sent."""
        ...

    def advance(self, now: int) -> list[ChainTransaction]:
        """Bring this view of the chain up to ``now``; returns the transactions that changed."""
        ...

    def changes(self, after_seq: int, limit: int = 1000) -> list[ChainTransaction]:
        """Every transaction whose last change has a ``seq`` above ``after_seq``, in ``seq`` order."""
        ...

    def incoming(
        self, *, network: str | None = None, address: str | None = None, after_id: int = 0, limit: int = 1000
    ) -> list[ChainTransaction]:
        """Transactions to our addresses, with their confirmations, oldest first."""
        ...


class SimulatedChain:
    """A chain in the database, for the demo and tests; deposits are made by hand (CLI, console)."""

    def __init__(
        self,
        engine: Engine,
        networks: NetworkTable = DEFAULT_NETWORKS,
        *,
        block_interval_ms: Mapping[str, int] | None = None,
        now: Callable[[], int] = now_ms,
        rng: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self._engine = engine
        self._networks = networks
        self._intervals = {n.code: n.block_time_ms for n in networks.networks()}
        self._intervals.update(block_interval_ms or {})
        if any(ms <= 0 for ms in self._intervals.values()):
            raise ValueError("block intervals must be positive")
        self._now = now
        self._rng = rng

    # --- incoming ---------------------------------------------------------------------------

    def deposit(
        self,
        address: str,
        amount: Decimal,
        network: str | None = None,
        *,
        coin: str | None = None,
        memo: str = "",
    ) -> ChainTransaction:
        """Someone pays ``amount`` to one of our deposit addresses; refused if it is not ours."""
        issues = self._issues_at(address, network)
        if not issues:
            where = f" on network {network}" if network else ""
            raise ForeignAddress(f"{_shown(address)} is not a deposit address of this exchange{where}.")
        networks = sorted({i.network for i in issues})
        if len(networks) > 1:
            raise AmbiguousDeposit(f"{_shown(address)} is ours on networks {', '.join(networks)}: name one.")
        entry = self._coin_entry(networks[0], coin, sorted({i.coin for i in issues}), address)
        if memo and not entry.network.uses_memo:
            raise InvalidMemo.because(entry.code, "this network takes no memo (addressTag)")
        if not any(i.memo == memo for i in issues):
            raise ForeignAddress(f"No deposit address of this exchange on {entry.code} has that memo.")
        self._check_amount(entry, amount)

        def record(conn: Connection) -> ChainTransaction:
            return wallet_repo.insert_chain_tx(
                conn,
                seq=wallet_repo.next_chain_seq(conn),
                txid=self._txid(entry.network.family),
                output_index=0,
                network=entry.code,
                coin=entry.coin,
                address=issues[0].address,
                memo=memo,
                amount=amount,
                direction=Direction.IN,
                required_confirmations=entry.unlock_confirm,
                withdrawal_id=None,
                now=self._now(),
            )

        return self._write(record)

    def incoming(
        self, *, network: str | None = None, address: str | None = None, after_id: int = 0, limit: int = 1000
    ) -> list[ChainTransaction]:
        with self._engine.connect() as conn:
            return wallet_repo.incoming_chain_txs(
                conn, network=network, address=address, after_id=after_id, limit=limit
            )

    # --- blocks -----------------------------------------------------------------------------

    def advance(self, now: int) -> list[ChainTransaction]:
        """Mine the blocks due by ``now`` on every network: one confirmation per block interval."""

        def mine(conn: Connection) -> list[ChainTransaction]:
            changed = []
            seq = wallet_repo.next_chain_seq(conn)
            for tx in wallet_repo.pending_chain_txs(conn):
                interval = self._intervals[tx.network]
                confirmations = max(tx.confirmations, now // interval - tx.created_at // interval)
                if confirmations == tx.confirmations:
                    continue
                done = confirmations >= tx.required_confirmations
                status = ChainTxStatus.CONFIRMED if done else ChainTxStatus.PENDING
                changed.append(
                    wallet_repo.update_chain_tx(
                        conn, tx.id, seq=seq, confirmations=confirmations, status=status, now=now
                    )
                )
                seq += 1
            return changed

        return self._write(mine)

    def changes(self, after_seq: int, limit: int = 1000) -> list[ChainTransaction]:
        with self._engine.connect() as conn:
            return wallet_repo.chain_changes(conn, after_seq, limit)

    def transactions(self, network: str, txid: str) -> list[ChainTransaction]:
        with self._engine.connect() as conn:
            return wallet_repo.chain_txs_by_txid(conn, network, txid)

    # --- outgoing ---------------------------------------------------------------------------

    def send(self, request: SendRequest) -> str:
        """Broadcast a withdrawal; the same ``withdrawal_id`` again returns the first txid."""
        entry = self._networks.get(request.coin, request.network)
        destination = parse_destination(entry.network, request.address, request.memo)
        self._check_amount(entry, request.amount)

        def broadcast(conn: Connection) -> str:
            earlier = wallet_repo.chain_tx_of_withdrawal(conn, request.withdrawal_id)
            if earlier is not None:
                same = (earlier.coin, earlier.network, earlier.address, earlier.memo, earlier.amount) == (
                    entry.coin,
                    entry.code,
                    destination.address,
                    destination.memo,
                    request.amount,
                )
                if not same:
                    raise SendConflict(
                        f"Withdrawal {_shown(request.withdrawal_id)} was already sent with other details."
                    )
                return earlier.txid
            return wallet_repo.insert_chain_tx(
                conn,
                seq=wallet_repo.next_chain_seq(conn),
                txid=self._txid(entry.network.family),
                output_index=0,
                network=entry.code,
                coin=entry.coin,
                address=destination.address,
                memo=destination.memo,
                amount=request.amount,
                direction=Direction.OUT,
                required_confirmations=entry.min_confirm,
                withdrawal_id=request.withdrawal_id,
                now=self._now(),
            ).txid

        return self._write(broadcast)

    def sent(self, withdrawal_id: str) -> ChainTransaction | None:
        with self._engine.connect() as conn:
            return wallet_repo.chain_tx_of_withdrawal(conn, withdrawal_id)

    def fail(self, network: str, txid: str, reason: str) -> ChainTransaction:
        """A pending send is dropped (e.g. evicted from the mempool): nothing left the wallet."""

        def drop(conn: Connection) -> ChainTransaction:
            pending = [
                tx
                for tx in wallet_repo.chain_txs_by_txid(conn, network, txid)
                if tx.direction is Direction.OUT and tx.status is ChainTxStatus.PENDING
            ]
            if not pending:
                raise UnknownTransaction(f"No pending withdrawal transaction {_shown(txid)} on {network}.")
            return wallet_repo.update_chain_tx(
                conn,
                pending[0].id,
                seq=wallet_repo.next_chain_seq(conn),
                confirmations=pending[0].confirmations,
                status=ChainTxStatus.FAILED,
                now=self._now(),
                failure_reason=reason[:200],
            )

        return self._write(drop)

    # --- helpers ----------------------------------------------------------------------------

    def _issues_at(self, address: str, network: str | None) -> list[DepositAddress]:
        """Our issues of ``address`` in any spelling its network accepts (EIP-55 or lower case...)."""
        candidates = [self._networks.network(network)] if network else list(self._networks.networks())
        found: list[DepositAddress] = []
        with self._engine.connect() as conn:
            for spec in candidates:
                try:
                    canonical = parse_destination(spec, address).address
                except WalletError:
                    continue
                found += wallet_repo.deposit_addresses_at(conn, canonical, spec.code)
        return found

    def _coin_entry(self, network: str, coin: str | None, issued: list[str], address: str) -> CoinNetwork:
        """The coin a deposit carries: named, or the one coin the address was issued for.

        Any coin the network carries can arrive at an issued address (USDT at a user's ETH
        address), as on a real chain; without a name, an address issued for several is ambiguous.
        """
        if coin is not None:
            return self._networks.get(coin, network)
        if len(issued) > 1:
            raise AmbiguousDeposit(
                f"{_shown(address)} receives {' and '.join(issued)} on network {network}: name the coin."
            )
        return self._networks.get(issued[0], network)

    @staticmethod
    def _check_amount(entry: CoinNetwork, amount: Decimal) -> None:
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
            raise ChainAmountInvalid(f"The amount must be a positive number of {entry.coin}.")
        if decimal_places(amount) > entry.chain_decimals or not fits_column(amount):
            raise ChainAmountInvalid(
                f"{entry.coin} on network {entry.code} has {entry.chain_decimals} decimals; "
                f"{amount} cannot be sent."
            )

    def _txid(self, family: AddressFamily) -> str:
        """A transaction id in the network's own spelling."""
        if family is AddressFamily.SOLANA:
            return str(Base58Encoder.Encode(self._rng(64)))  # a transaction signature
        if family is AddressFamily.ETHEREUM:
            return "0x" + self._rng(32).hex()
        return self._rng(32).hex()

    def _write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one transaction, alone among chain writers; the unique indexes on ``seq``
        and ``withdrawal_id`` stay as a net, and a write they refuse is run again."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._engine.begin() as conn:
                    wallet_repo.lock_chain(conn)
                    return work(conn)
            except IntegrityError:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")


def _shown(text: str) -> str:
    """User input quoted for a message, and cut short."""
    return repr(text if len(text) <= 100 else text[:100] + "...")
