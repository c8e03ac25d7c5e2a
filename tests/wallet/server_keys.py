"""The wallet settings a test server runs with: the BIP-39 test mnemonic's account keys."""

from __future__ import annotations

from tests.wallet.conftest import mnemonic_xpubs


def wallet_env(**extra: str) -> dict[str, str]:
    """Settings of a server whose deposits derive from the test mnemonic; ``extra`` on top."""
    xpubs = mnemonic_xpubs()
    return {
        "KEYPLANE_WALLET_XPUB_BTC": xpubs.bitcoin,
        "KEYPLANE_WALLET_XPUB_ETH": xpubs.ethereum,
        "KEYPLANE_WALLET_XPUB_SOL": xpubs.solana,
        **extra,
    }
