"""The wallet settings a test server runs with: the BIP-39 test mnemonic's account keys."""

from __future__ import annotations

from tests.wallet.conftest import mnemonic_xpubs


def wallet_env() -> dict[str, str]:
    xpubs = mnemonic_xpubs()
    return {
        "KEYPLANE_WALLET_XPUB_BTC": xpubs.bitcoin,
        "KEYPLANE_WALLET_XPUB_ETH": xpubs.ethereum,
        "KEYPLANE_WALLET_XPUB_SOL": xpubs.solana,
    }
