"""Queries on issued deposit addresses and chain transactions; rows in, wallet records out."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, text, update

from keyplane.exchange.wallet.models import AddressBookEntry, ChainTransaction, DepositAddress
from keyplane.exchange.wallet.states import ChainTxStatus, Direction
from keyplane.store.wallet_book_tables import wallet_address_book as book
from keyplane.store.wallet_tables import wallet_chain_transactions as chain_txs
from keyplane.store.wallet_tables import wallet_deposit_addresses as addresses

# --- deposit addresses ----------------------------------------------------------------------


def insert_deposit_address(conn: Connection, record: DepositAddress) -> None:
    conn.execute(
        insert(addresses).values(
            user_id=record.user_id,
            coin=record.coin,
            network=record.network,
            address=record.address,
            memo=record.memo,
            derivation_path=record.derivation_path,
            key_fingerprint=record.key_fingerprint,
            created_at=record.created_at,
        )
    )


def deposit_address(conn: Connection, user_id: int, coin: str, network: str) -> DepositAddress | None:
    query = select(addresses).where(
        addresses.c.user_id == user_id, addresses.c.coin == coin, addresses.c.network == network
    )
    row = conn.execute(query).mappings().first()
    return _address(row) if row is not None else None


def deposit_addresses_at(conn: Connection, address: str, network: str | None = None) -> list[DepositAddress]:
    """Every issue of ``address`` (one per coin it receives), on ``network`` or on any."""
    query = select(addresses).where(addresses.c.address == address).order_by(addresses.c.id)
    if network is not None:
        query = query.where(addresses.c.network == network)
    return [_address(r) for r in conn.execute(query).mappings()]


def deposit_addresses_of(conn: Connection, user_id: int) -> list[DepositAddress]:
    query = select(addresses).where(addresses.c.user_id == user_id).order_by(addresses.c.id)
    return [_address(r) for r in conn.execute(query).mappings()]


def _address(row: RowMapping) -> DepositAddress:
    return DepositAddress(
        user_id=row["user_id"],
        coin=row["coin"],
        network=row["network"],
        address=row["address"],
        memo=row["memo"],
        derivation_path=row["derivation_path"],
        key_fingerprint=row["key_fingerprint"],
        created_at=row["created_at"],
    )


# --- chain transactions ---------------------------------------------------------------------


# An arbitrary 63-bit constant naming "the wallet chain's writers" among PostgreSQL advisory locks.
CHAIN_LOCK_KEY = 0x6B70_6368_6169_6E31


def lock_chain(conn: Connection) -> None:
    """Serialize writers of the chain table until this transaction ends, so that ``seq`` order is
    commit order and a reader of pending rows sees every earlier write. SQLite's ``BEGIN IMMEDIATE``
    already serializes writers; PostgreSQL takes a transaction-scoped advisory lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})


def next_chain_seq(conn: Connection) -> int:
    """One past the highest ``seq``; call :func:`lock_chain` first in the same transaction."""
    return int(conn.execute(select(func.coalesce(func.max(chain_txs.c.seq), 0))).scalar_one()) + 1


def insert_chain_tx(
    conn: Connection,
    *,
    seq: int,
    txid: str,
    output_index: int,
    network: str,
    coin: str,
    address: str,
    memo: str,
    amount: Decimal,
    direction: Direction,
    required_confirmations: int,
    withdrawal_id: str | None,
    now: int,
) -> ChainTransaction:
    values = {
        "seq": seq,
        "txid": txid,
        "output_index": output_index,
        "network": network,
        "coin": coin,
        "address": address,
        "memo": memo,
        "amount": amount,
        "direction": direction.value,
        "confirmations": 0,
        "required_confirmations": required_confirmations,
        "status": ChainTxStatus.PENDING.value,
        "withdrawal_id": withdrawal_id,
        "failure_reason": "",
        "created_at": now,
        "updated_at": now,
    }
    result = conn.execute(insert(chain_txs).values(**values).returning(chain_txs.c.id))
    return chain_tx_from_row({"id": int(result.scalar_one()), **values})


def update_chain_tx(
    conn: Connection,
    tx_id: int,
    *,
    seq: int,
    confirmations: int,
    status: ChainTxStatus,
    now: int,
    failure_reason: str = "",
) -> ChainTransaction:
    conn.execute(
        update(chain_txs)
        .where(chain_txs.c.id == tx_id)
        .values(
            seq=seq,
            confirmations=confirmations,
            status=status.value,
            failure_reason=failure_reason,
            updated_at=now,
        )
    )
    row = conn.execute(select(chain_txs).where(chain_txs.c.id == tx_id)).mappings().one()
    return chain_tx_from_row(row)


def chain_txs_by_txid(conn: Connection, network: str, txid: str) -> list[ChainTransaction]:
    query = (
        select(chain_txs)
        .where(chain_txs.c.network == network, chain_txs.c.txid == txid)
        .order_by(chain_txs.c.output_index)
    )
    return [chain_tx_from_row(r) for r in conn.execute(query).mappings()]


def chain_tx_of_withdrawal(conn: Connection, withdrawal_id: str) -> ChainTransaction | None:
    query = select(chain_txs).where(chain_txs.c.withdrawal_id == withdrawal_id)
    row = conn.execute(query).mappings().first()
    return chain_tx_from_row(row) if row is not None else None


def pending_chain_txs(conn: Connection) -> list[ChainTransaction]:
    query = (
        select(chain_txs).where(chain_txs.c.status == ChainTxStatus.PENDING.value).order_by(chain_txs.c.id)
    )
    return [chain_tx_from_row(r) for r in conn.execute(query).mappings()]


def chain_changes(conn: Connection, after_seq: int, limit: int) -> list[ChainTransaction]:
    query = select(chain_txs).where(chain_txs.c.seq > after_seq).order_by(chain_txs.c.seq).limit(limit)
    return [chain_tx_from_row(r) for r in conn.execute(query).mappings()]


def incoming_chain_txs(
    conn: Connection, *, network: str | None, address: str | None, after_id: int, limit: int
) -> list[ChainTransaction]:
    query = (
        select(chain_txs)
        .where(chain_txs.c.direction == Direction.IN.value, chain_txs.c.id > after_id)
        .order_by(chain_txs.c.id)
        .limit(limit)
    )
    if network is not None:
        query = query.where(chain_txs.c.network == network)
    if address is not None:
        query = query.where(chain_txs.c.address == address)
    return [chain_tx_from_row(r) for r in conn.execute(query).mappings()]


def chain_tx_from_row(row: Mapping[Any, Any]) -> ChainTransaction:
    return ChainTransaction(
        id=int(row["id"]),
        seq=int(row["seq"]),
        txid=row["txid"],
        output_index=int(row["output_index"]),
        network=row["network"],
        coin=row["coin"],
        address=row["address"],
        memo=row["memo"],
        amount=row["amount"],
        direction=Direction(row["direction"]),
        confirmations=int(row["confirmations"]),
        required_confirmations=int(row["required_confirmations"]),
        status=ChainTxStatus(row["status"]),
        withdrawal_id=row["withdrawal_id"],
        failure_reason=row["failure_reason"],
        created_at=int(row["created_at"]),
        updated_at=int(row["updated_at"]),
    )


# --- withdrawal-address book ----------------------------------------------------------------


def insert_book_entry(
    conn: Connection,
    *,
    user_id: int,
    coin: str,
    network: str,
    address: str,
    memo: str,
    label: str,
    checksummed: bool,
    added_at: int,
) -> AddressBookEntry:
    values = {
        "user_id": user_id,
        "coin": coin,
        "network": network,
        "address": address,
        "memo": memo,
        "label": label,
        "checksummed": checksummed,
        "added_at": added_at,
    }
    result = conn.execute(insert(book).values(**values).returning(book.c.id))
    return _book_entry({"id": int(result.scalar_one()), **values})


def book_entries_of(conn: Connection, user_id: int) -> list[AddressBookEntry]:
    query = select(book).where(book.c.user_id == user_id).order_by(book.c.id)
    return [_book_entry(r) for r in conn.execute(query).mappings()]


def book_entry(conn: Connection, user_id: int, entry_id: int) -> AddressBookEntry | None:
    query = select(book).where(book.c.user_id == user_id, book.c.id == entry_id)
    row = conn.execute(query).mappings().first()
    return _book_entry(row) if row is not None else None


def book_entry_at(
    conn: Connection, user_id: int, coin: str, network: str, address: str, memo: str
) -> AddressBookEntry | None:
    """The entry for exactly this canonical destination, if the user has one."""
    query = select(book).where(
        book.c.user_id == user_id,
        book.c.coin == coin,
        book.c.network == network,
        book.c.address == address,
        book.c.memo == memo,
    )
    row = conn.execute(query).mappings().first()
    return _book_entry(row) if row is not None else None


def count_book_entries(conn: Connection, user_id: int) -> int:
    query = select(func.count()).select_from(book).where(book.c.user_id == user_id)
    return int(conn.execute(query).scalar_one())


def delete_book_entry(conn: Connection, user_id: int, entry_id: int) -> bool:
    """Delete one of the user's entries; false if they have none with that id."""
    result = conn.execute(delete(book).where(book.c.user_id == user_id, book.c.id == entry_id))
    return result.rowcount == 1


def _book_entry(row: Mapping[Any, Any]) -> AddressBookEntry:
    return AddressBookEntry(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        coin=row["coin"],
        network=row["network"],
        address=row["address"],
        memo=row["memo"],
        label=row["label"],
        checksummed=bool(row["checksummed"]),
        added_at=int(row["added_at"]),
    )
