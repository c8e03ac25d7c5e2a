"""The demo's wallet: extended public keys made once and kept in the data directory.

The demo has no operator to export keys, so it makes its own with ``generate_demo_xpubs()`` (the
seed is dropped at once: nobody can spend what is sent to these addresses) and writes the public
keys to ``wallet-xpubs.json``, so deposit addresses stay the same across demo restarts. Keys the
operator set in the environment win. Production reads settings only; nothing here runs there.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from keyplane.exchange.wallet.addresses import OperatorXpubs, generate_demo_xpubs
from keyplane.settings import Settings

XPUBS_FILE = "wallet-xpubs.json"
# New withdrawal addresses mature after a minute in the demo, not a day.
DEMO_COOLING_OFF_SECONDS = 60


def demo_xpubs(data_dir: Path) -> OperatorXpubs:
    """The demo's keys from the data directory, made on first use (0600; public keys only)."""
    path = data_dir / XPUBS_FILE
    if not path.exists():
        made = generate_demo_xpubs()
        payload = json.dumps({"btc": made.bitcoin, "eth": made.ethereum, "sol": made.solana}, indent=2)
        draft = data_dir / f".{XPUBS_FILE}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(payload + "\n")
        try:
            os.link(draft, path)  # atomic, and refused if another process got there first
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    try:
        data: Any = json.loads(path.read_text())
        return OperatorXpubs(bitcoin=data["btc"], ethereum=data["eth"], solana=data["sol"])
    except (ValueError, KeyError, TypeError):
        raise ValueError(
            f"{path} is unreadable: delete it and the demo makes new keys "
            "(deposit addresses already issued stay as they are)"
        ) from None


DEMO_BLOCK_MS = 2000
DEMO_SEND_DELAY_SECONDS = 10.0


def demo_wallet_settings(config: Settings) -> dict[str, object]:
    """What the demo adds to its settings: its own keys unless some are set, a short cooling-off
    unless one is set."""
    extra: dict[str, object] = {}
    if not {"wallet_xpub_btc", "wallet_xpub_eth", "wallet_xpub_sol"} & config.model_fields_set:
        xpubs = demo_xpubs(config.ensure_data_dir())
        extra.update(
            wallet_xpub_btc=xpubs.bitcoin, wallet_xpub_eth=xpubs.ethereum, wallet_xpub_sol=xpubs.solana
        )
    if "withdraw_address_cooling_off_seconds" not in config.model_fields_set:
        extra["withdraw_address_cooling_off_seconds"] = DEMO_COOLING_OFF_SECONDS
    # Blocks every 2 s and withdrawals sent 10 s after they are accepted: a demo deposit is
    # credited within seconds, and a withdrawal can still be cancelled for a moment.
    if "chain_block_ms" not in config.model_fields_set:
        extra["chain_block_ms"] = DEMO_BLOCK_MS
    if "withdraw_send_delay_seconds" not in config.model_fields_set:
        extra["withdraw_send_delay_seconds"] = DEMO_SEND_DELAY_SECONDS
    return extra
