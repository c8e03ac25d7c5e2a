"""What the history, gains and bot commands share: choosing vault accounts and reading dates."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime

from keyplane.client.errors import ClientError, UnknownAccount
from keyplane.client.vault import Credentials, open_vault


class BadOption(ClientError):
    code = "options"


def _prompt() -> str:
    """Ask at the terminal; headless (no terminal) ask nothing: KEYPLANE_VAULT_PASSPHRASE is the way."""
    if not sys.stdin.isatty():
        return ""
    return getpass.getpass("Vault passphrase: ")


def vault_accounts(names: list[str] | None) -> list[Credentials]:
    """The named vault accounts, or every account; the passphrase from the env or a prompt."""
    vault = open_vault(prompt=_prompt)
    wanted = names or vault.names()
    if not wanted:
        raise UnknownAccount("the vault holds no account: add one with `keyplane vault add`")
    return [vault.credentials(name) for name in wanted]


def parse_time(text: str | None, option: str, *, end_of_day: bool = False) -> int | None:
    """``2025-01-31``, ``2025-01-31T12:00`` (UTC unless an offset is given) or epoch ms."""
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadOption(f"{option} {text!r} is not a date (YYYY-MM-DD or an ISO date and time)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ms = int(moment.timestamp() * 1000)
    if end_of_day and len(text) == 10:
        ms += 86_400_000 - 1
    return ms
