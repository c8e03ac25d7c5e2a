"""The wallet's running parts, as one process holds them (built by ``runtime.build_wallet``).

``addresses`` is None when the operator configured no extended public keys: the server then
issues no deposit address and says so (``capital/config/getall`` shows deposits closed). What
``getall`` and the account claim comes from :meth:`WalletParts.deposits_open` and
:meth:`WalletParts.withdrawals_open`, so the flags cannot drift from what the server does.
"""

from __future__ import annotations

from dataclasses import dataclass

from keyplane.exchange.wallet.address_book import AddressBook
from keyplane.exchange.wallet.chain import Chain
from keyplane.exchange.wallet.errors import DepositsUnavailable
from keyplane.exchange.wallet.issuing import DepositAddresses
from keyplane.exchange.wallet.models import DepositAddress
from keyplane.exchange.wallet.networks import CoinNetwork, NetworkTable


@dataclass(kw_only=True)
class WalletParts:
    """Networks, deposit addresses, the address book and the chain.

    ``credits_deposits`` and ``sends_withdrawals`` say whether the exchange's sequencer runs the
    deposit-crediting and withdrawal commands: until it does, getall must not claim them.
    """

    networks: NetworkTable
    addresses: DepositAddresses | None
    book: AddressBook
    chain: Chain
    credits_deposits: bool = False
    sends_withdrawals: bool = False

    def deposits_open(self, entry: CoinNetwork) -> bool:
        return self.addresses is not None and self.credits_deposits and entry.deposit_enable

    def withdrawals_open(self, entry: CoinNetwork) -> bool:
        return self.sends_withdrawals and entry.withdraw_enable

    def deposit_address(self, user_id: int, coin: str, network: str | None = None) -> DepositAddress:
        """The user's deposit address (issued on first request); refused when no keys are configured."""
        if self.addresses is None:
            self._networks_check(coin, network)
            raise DepositsUnavailable(
                "This operation is not supported: this server has no deposit addresses "
                "(the operator has not configured the wallet's extended public keys)."
            )
        return self.addresses.get(user_id, coin, network)

    def _networks_check(self, coin: str, network: str | None) -> None:
        """An unknown coin or network is refused as such, whether or not deposits run."""
        self.networks.get(coin, network)
