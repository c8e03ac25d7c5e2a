"""Every vault account's history, fetched concurrently after every key passed the privilege check.

An exporter needs only to read: a key that can also trade or withdraw is refused before any
history is fetched (``keyplane.client.privileges``), unless the user overrides it, loudly.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from keyplane.client import ccxt_factory
from keyplane.client.history.errors import FetchFailed
from keyplane.client.history.fetch import AccountHistory, Progress, Span, fetch_account
from keyplane.client.privileges import EXPORTER, AppNeeds, check_account
from keyplane.client.vault import Credentials


@dataclass
class Collected:
    histories: list[AccountHistory]
    exchanges: list[Any]  # the ccxt exchanges used, markets loaded (for candle prices)

    @property
    def failed(self) -> list[AccountHistory]:
        return [h for h in self.histories if h.error is not None]


def collect(
    accounts: list[Credentials],
    span: Span,
    *,
    page: int,
    progress: Progress,
    allow_over_privileged: bool = False,
    warn: Callable[[str], None] | None = None,
    needs: AppNeeds = EXPORTER,
) -> Collected:
    exchanges = [ccxt_factory.rest(c) for c in accounts]
    import ccxt

    for credentials, exchange in zip(accounts, exchanges, strict=True):
        try:
            check_account(
                exchange, needs, credentials.name, allow_over_privileged=allow_over_privileged, warn=warn
            )
        except ccxt.BaseError as failed:
            raise FetchFailed(
                f"{credentials.name}: could not ask the exchange what the key may do "
                f"({type(failed).__name__}: {str(failed)[:200]})"
            ) from None
    with ThreadPoolExecutor(max_workers=min(8, len(accounts)) or 1) as pool:
        futures = [
            pool.submit(fetch_account, ex, c.name, c.exchange, span, page, progress)
            for c, ex in zip(accounts, exchanges, strict=True)
        ]
        histories = [f.result() for f in futures]
    return Collected(histories, exchanges)
