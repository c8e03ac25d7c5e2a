"""Issuing deposit addresses: derive once per (user, coin, network), record, then always return the record.

The record is what counts, not the current key: if the operator changes an extended key, addresses
already issued stay (their ``key_fingerprint`` says which key derived them) and only new issues
use the new key. Two requests racing for the same address both derive the same string; the
unique index keeps one row and the loser reads it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from keyplane.clock import now_ms
from keyplane.exchange.wallet.addresses import AddressDeriver
from keyplane.exchange.wallet.errors import NetworkClosed
from keyplane.exchange.wallet.models import DepositAddress
from keyplane.exchange.wallet.networks import DEFAULT_NETWORKS, NetworkTable
from keyplane.store import wallet_repo


class DepositAddresses:
    """``capital/deposit/address``: the user's address for a coin on a network (its default if none)."""

    def __init__(
        self,
        engine: Engine,
        deriver: AddressDeriver,
        networks: NetworkTable = DEFAULT_NETWORKS,
        now: Callable[[], int] = now_ms,
    ) -> None:
        self._engine = engine
        self._deriver = deriver
        self._networks = networks
        self._now = now

    def get(self, user_id: int, coin: str, network: str | None = None) -> DepositAddress:
        entry = self._networks.get(coin, network)
        if not entry.deposit_enable:
            raise NetworkClosed(f"Deposits of {coin} on network {entry.code} are suspended.")
        with self._engine.connect() as conn:
            found = wallet_repo.deposit_address(conn, user_id, coin, entry.code)
        if found is not None:
            return found
        derived = self._deriver.for_network(entry.network, index=user_id)
        record = DepositAddress(
            user_id=user_id,
            coin=coin,
            network=entry.code,
            address=derived.address,
            memo="",
            derivation_path=derived.derivation_path,
            key_fingerprint=derived.key_fingerprint,
            created_at=self._now(),
        )
        try:
            with self._engine.begin() as conn:
                wallet_repo.insert_deposit_address(conn, record)
        except IntegrityError:
            with self._engine.connect() as conn:
                raced = wallet_repo.deposit_address(conn, user_id, coin, entry.code)
            if raced is None:
                raise
            return raced
        return record

    def of_user(self, user_id: int) -> list[DepositAddress]:
        with self._engine.connect() as conn:
            return wallet_repo.deposit_addresses_of(conn, user_id)

    def owners(self, address: str, network: str | None = None) -> list[DepositAddress]:
        """Who ``address`` was issued to (one record per coin it receives); empty if not ours."""
        with self._engine.connect() as conn:
            return wallet_repo.deposit_addresses_at(conn, address, network)
