"""Page through one exchange account's whole history with ccxt, within the exchange's limits.

Trades are asked per market (Binance has no "all markets" trade list): from ``since`` upwards,
then by ``fromId`` after the last trade seen (Binance and Keyplane), or by the last timestamp for
other exchanges. Deposits and withdrawals are asked in windows of at most 90 days (Binance's
limit), each window paged by ``offset``. Every record is keyed by (account, kind, id), so a record
seen on two pages or two windows is kept once. Only completed transfers are exported; the others
are counted so the user knows they exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from keyplane.client.history.convert import trade_record, transfer_record
from keyplane.client.history.errors import FetchFailed
from keyplane.client.history.records import Kind, Record, sort_key

DEFAULT_SINCE_MS = int(datetime(2017, 7, 1, tzinfo=UTC).timestamp() * 1000)
TRANSFER_WINDOW_MS = 90 * 86_400_000
MAX_MARKETS_WITHOUT_FILTER = 60
RETRIES = 4

Progress = Callable[[str, str, int], None]  # (account, what, records found on this page)


@dataclass(frozen=True)
class Span:
    since_ms: int
    until_ms: int


@dataclass
class AccountHistory:
    account: str
    exchange: str
    records: list[Record] = field(default_factory=list)
    skipped_pending: int = 0
    error: str | None = None


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    """One ccxt call, retried with back-off on rate limits and network trouble only."""
    import ccxt

    for attempt in range(RETRIES):
        try:
            return fn(*args)
        except (ccxt.RateLimitExceeded, ccxt.DDoSProtection, ccxt.RequestTimeout, ccxt.ExchangeNotAvailable):
            if attempt == RETRIES - 1:
                raise
            time.sleep(min(2**attempt, 8))
    raise AssertionError("unreachable")


def _uses_from_id(exchange: Any) -> bool:
    return str(exchange.id).startswith("binance")


def symbols_to_scan(exchange: Any) -> list[str]:
    """Every spot market, or on a big exchange those between assets the account holds."""
    spot = sorted(
        s for s, m in exchange.markets.items() if m.get("spot") and m.get("active", True) is not False
    )
    if len(spot) <= MAX_MARKETS_WITHOUT_FILTER:
        return spot
    balance = _call(exchange.fetch_balance)
    held = {asset for asset, amount in (balance.get("total") or {}).items() if amount}
    return [s for s in spot if exchange.markets[s]["base"] in held or exchange.markets[s]["quote"] in held]


def trades_of(exchange: Any, symbol: str, span: Span, page: int) -> Iterable[dict[str, Any]]:
    seen: set[str] = set()
    since: int | None = span.since_ms
    params: dict[str, Any] = {}
    while True:
        items = _call(exchange.fetch_my_trades, symbol, since, page, params)
        fresh = [t for t in items if str(t["id"]) not in seen and t["timestamp"] >= span.since_ms]
        past_end = any(t["timestamp"] > span.until_ms for t in items)
        for t in fresh:
            seen.add(str(t["id"]))
            if t["timestamp"] <= span.until_ms:
                yield t
        if len(items) < page or past_end or not fresh:
            return
        if _uses_from_id(exchange):
            since, params = None, {"fromId": max(int(t["id"]) for t in items) + 1}
        else:
            since = max(int(t["timestamp"]) for t in items)


def transfers_of(fetch: Callable[..., Any], span: Span, page: int) -> Iterable[dict[str, Any]]:
    start = span.since_ms
    while start <= span.until_ms:
        end = min(start + TRANSFER_WINDOW_MS, span.until_ms)
        offset = 0
        while True:
            items = _call(fetch, None, start, page, {"until": end, "offset": offset})
            yield from items
            if len(items) < page:
                break
            offset += page
        start = end + 1


def fetch_account(
    exchange: Any, account: str, exchange_id: str, span: Span, page: int, progress: Progress
) -> AccountHistory:
    """All of one account's records in ``span``, oldest first; a failure is reported, not raised."""
    import ccxt

    found = AccountHistory(account, exchange_id)
    records: dict[tuple[str, str, str], Record] = {}
    try:
        exchange.number = str  # exact amounts: ccxt hands over the exchange's own decimal strings
        _call(exchange.load_markets)
        for symbol in symbols_to_scan(exchange):
            for t in trades_of(exchange, symbol, span, page):
                r = trade_record(account, exchange_id, t)
                records[r.key] = r
            progress(account, f"trades {symbol}", len(records))
        for kind, fetch in (
            (Kind.DEPOSIT, exchange.fetch_deposits),
            (Kind.WITHDRAWAL, exchange.fetch_withdrawals),
        ):
            for item in transfers_of(fetch, span, page):
                if item.get("status") != "ok":
                    found.skipped_pending += 1
                    continue
                r = transfer_record(account, exchange_id, item, kind)
                records[r.key] = r
            progress(account, f"{kind.value}s", len(records))
    except ccxt.BaseError as failed:
        found.error = f"{type(failed).__name__}: {str(failed)[:300]}"
    except FetchFailed as failed:
        found.error = failed.message
    found.records = sorted(records.values(), key=sort_key)
    return found
