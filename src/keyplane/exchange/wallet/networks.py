"""Which networks carry which asset, with every number Binance's ``capital/config/getall`` lists.

A network (:class:`NetworkSpec`) is a chain: its address format, memo rule and block time. A
:class:`CoinNetwork` is one asset on one network, the row of ``networkList``: fee, minimum and
maximum, withdrawal step, confirmations to credit (``minConfirm``) and to unlock (``unLockConfirm``).

None of the default networks uses a memo: BTC, ETH (ETH and USDT as ERC-20) and SOL address every
account by its own address, so ``memoRegex`` is empty and ``sameAddress`` is false. A memo network
(XRP, XLM, TON, ...) is added by giving its :class:`NetworkSpec` a ``memo_regex`` and
``memo_required=True``; deposit addresses, chain transactions and withdrawals already carry a
``memo`` field (empty where the network has none).

To add a network: an :class:`AddressFamily` (how addresses are derived and decoded), a
:class:`NetworkSpec`, and one :class:`CoinNetwork` per asset it carries; the table checks the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from keyplane.exchange.wallet.errors import UnknownAsset, UnknownNetwork
from keyplane.store.types import decimal_places

D = Decimal


class AddressFamily(str, Enum):
    """How a network's addresses are derived from the operator's key and decoded when sent to."""

    BITCOIN = "BITCOIN"  # BIP-84 P2WPKH deposit addresses; bech32/bech32m and base58check destinations
    ETHEREUM = "ETHEREUM"  # BIP-44 coin 60; EIP-55 checksummed hex
    SOLANA = "SOLANA"  # BIP32-Ed25519 (Khovratovich-Law) public derivation; base58 of the 32-byte key


@dataclass(frozen=True, kw_only=True, slots=True)
class NetworkSpec:
    """One chain. ``code`` is Binance's network id (what ccxt and python-binance send as ``network``)."""

    code: str
    name: str
    family: AddressFamily
    native_asset: str
    address_regex: str
    block_time_ms: int
    address_url: str  # explorer page of an address: ``address_url.format(address=...)``
    memo_regex: str = ""  # empty: the network takes no memo
    memo_required: bool = False

    @property
    def uses_memo(self) -> bool:
        return bool(self.memo_regex)


@dataclass(frozen=True, kw_only=True, slots=True)
class CoinNetwork:
    """One asset on one network: a ``networkList`` entry. Amounts are exact ``Decimal``."""

    coin: str
    network: NetworkSpec
    name: str
    is_default: bool
    withdraw_fee: Decimal
    withdraw_min: Decimal
    withdraw_max: Decimal
    withdraw_integer_multiple: Decimal
    min_confirm: int  # confirmations before the deposit is credited
    unlock_confirm: int  # confirmations before the credited deposit may be withdrawn
    estimated_arrival_minutes: int
    deposit_dust: Decimal
    chain_decimals: int  # decimals the asset has on this chain (USDT as ERC-20: 6)
    deposit_enable: bool = True
    withdraw_enable: bool = True
    contract_address: str = ""
    contract_address_url: str = ""
    deposit_desc: str = ""
    withdraw_desc: str = ""
    special_tips: str = ""
    busy: bool = False

    def __post_init__(self) -> None:
        amounts = (self.withdraw_fee, self.withdraw_min, self.withdraw_max, self.deposit_dust)
        if any(not isinstance(a, Decimal) or not a.is_finite() or a < 0 for a in amounts):
            raise ValueError(f"{self.coin} on {self.code}: amounts must be finite non-negative Decimals")
        if self.withdraw_integer_multiple <= 0 or self.withdraw_max < self.withdraw_min:
            raise ValueError(f"{self.coin} on {self.code}: bad withdrawal step or range")
        if self.withdraw_min <= self.withdraw_fee:
            raise ValueError(f"{self.coin} on {self.code}: the minimum must exceed the fee")
        if decimal_places(self.withdraw_integer_multiple) > self.chain_decimals:
            raise ValueError(f"{self.coin} on {self.code}: step finer than the chain's decimals")
        if not 1 <= self.min_confirm <= self.unlock_confirm:
            raise ValueError(f"{self.coin} on {self.code}: need 1 <= minConfirm <= unLockConfirm")

    @property
    def code(self) -> str:
        return self.network.code

    @property
    def same_address(self) -> bool:
        """Binance's ``sameAddress``: one address for everyone, the memo tells accounts apart."""
        return self.network.memo_required


class NetworkTable:
    """The networks each asset can use; lookups raise the wallet's Binance-coded errors."""

    def __init__(self, entries: Iterable[CoinNetwork]) -> None:
        self._by_coin: dict[str, dict[str, CoinNetwork]] = {}
        self._networks: dict[str, NetworkSpec] = {}
        for entry in entries:
            known = self._networks.setdefault(entry.code, entry.network)
            if known != entry.network:
                raise ValueError(f"network {entry.code} is described twice, differently")
            per_coin = self._by_coin.setdefault(entry.coin, {})
            if entry.code in per_coin:
                raise ValueError(f"{entry.coin} on {entry.code} is listed twice")
            per_coin[entry.code] = entry
        for coin, per_coin in self._by_coin.items():
            if sum(e.is_default for e in per_coin.values()) != 1:
                raise ValueError(f"{coin} needs exactly one default network")
        # The table never changes once built: its sorted views are made once (``account`` reads them).
        self._coins = tuple(sorted(self._by_coin))
        self._lists = {
            coin: tuple(sorted(per_coin.values(), key=lambda e: (not e.is_default, e.code)))
            for coin, per_coin in self._by_coin.items()
        }
        self._entries = tuple(e for coin in self._coins for e in self._lists[coin])

    def coins(self) -> tuple[str, ...]:
        return self._coins

    def entries(self) -> tuple[CoinNetwork, ...]:
        """Every (coin, network) row: coins in order, each coin's default network first."""
        return self._entries

    def networks(self) -> tuple[NetworkSpec, ...]:
        return tuple(self._networks[c] for c in sorted(self._networks))

    def network(self, code: str) -> NetworkSpec:
        try:
            return self._networks[code]
        except KeyError:
            raise UnknownNetwork(
                f"Data sent for parameter 'network' is not valid: no network {code!r}."
            ) from None

    def networks_of(self, coin: str) -> tuple[CoinNetwork, ...]:
        """The ``networkList`` of a coin, its default first."""
        self._coin(coin)
        return self._lists[coin]

    def coins_on(self, network: str) -> tuple[CoinNetwork, ...]:
        self.network(network)
        return tuple(e for coin in self.coins() for e in self._by_coin[coin].values() if e.code == network)

    def get(self, coin: str, network: str | None = None) -> CoinNetwork:
        """The coin on ``network``, or on its default network when none is named (as Binance does)."""
        per_coin = self._coin(coin)
        if network is None or network == "":
            return next(e for e in per_coin.values() if e.is_default)
        try:
            return per_coin[network]
        except KeyError:
            carried = ", ".join(sorted(per_coin))
            raise UnknownNetwork(
                f"Data sent for parameter 'network' is not valid: {coin} is not carried by network "
                f"{network!r}; its networks: {carried}."
            ) from None

    def _coin(self, coin: str) -> dict[str, CoinNetwork]:
        try:
            return self._by_coin[coin]
        except KeyError:
            raise UnknownAsset() from None


BTC = NetworkSpec(
    code="BTC",
    name="Bitcoin",
    family=AddressFamily.BITCOIN,
    native_asset="BTC",
    address_regex="^[13][a-km-zA-HJ-NP-Z1-9]{25,34}$|^(bc1)[0-9A-Za-z]{39,59}$",
    block_time_ms=600_000,
    address_url="https://mempool.space/address/{address}",
)
ETH = NetworkSpec(
    code="ETH",
    name="Ethereum (ERC20)",
    family=AddressFamily.ETHEREUM,
    native_asset="ETH",
    address_regex="^(0x)[0-9A-Fa-f]{40}$",
    block_time_ms=12_000,
    address_url="https://etherscan.io/address/{address}",
)
SOL = NetworkSpec(
    code="SOL",
    name="Solana",
    family=AddressFamily.SOLANA,
    native_asset="SOL",
    address_regex="^[1-9A-HJ-NP-Za-km-z]{32,44}$",
    block_time_ms=400,
    address_url="https://solscan.io/account/{address}",
)

USDT_ERC20_CONTRACT = "0xdAC17F958D2ee523a2206206994597C13D831ec7"

# Fees and minimums match the exchange's asset defaults (exchange/markets.py); the step is the
# asset's precision (8), or the token's own decimals where it has fewer (USDT as ERC-20: 6).
DEFAULT_NETWORKS = NetworkTable(
    [
        CoinNetwork(
            coin="BTC",
            network=BTC,
            name="Bitcoin",
            is_default=True,
            withdraw_fee=D("0.0002"),
            withdraw_min=D("0.001"),
            withdraw_max=D("1000"),
            withdraw_integer_multiple=D("0.00000001"),
            min_confirm=1,
            unlock_confirm=2,
            estimated_arrival_minutes=60,
            deposit_dust=D("0.000001"),
            chain_decimals=8,
        ),
        CoinNetwork(
            coin="ETH",
            network=ETH,
            name="Ethereum (ERC20)",
            is_default=True,
            withdraw_fee=D("0.002"),
            withdraw_min=D("0.01"),
            withdraw_max=D("10000"),
            withdraw_integer_multiple=D("0.00000001"),
            min_confirm=6,
            unlock_confirm=12,
            estimated_arrival_minutes=5,
            deposit_dust=D("0.000001"),
            chain_decimals=18,
        ),
        CoinNetwork(
            coin="USDT",
            network=ETH,
            name="Ethereum (ERC20)",
            is_default=True,
            withdraw_fee=D("1"),
            withdraw_min=D("10"),
            withdraw_max=D("10000000"),
            withdraw_integer_multiple=D("0.000001"),
            min_confirm=6,
            unlock_confirm=12,
            estimated_arrival_minutes=5,
            deposit_dust=D("0.01"),
            chain_decimals=6,
            contract_address=USDT_ERC20_CONTRACT,
            contract_address_url="https://etherscan.io/address/" + USDT_ERC20_CONTRACT,
        ),
        CoinNetwork(
            coin="SOL",
            network=SOL,
            name="Solana",
            is_default=True,
            withdraw_fee=D("0.01"),
            withdraw_min=D("0.1"),
            withdraw_max=D("100000"),
            withdraw_integer_multiple=D("0.00000001"),
            min_confirm=1,
            unlock_confirm=32,
            estimated_arrival_minutes=1,
            deposit_dust=D("0.0001"),
            chain_decimals=9,
        ),
    ]
)
