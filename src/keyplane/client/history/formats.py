"""CSV layouts of the export: Koinly Universal, CoinTracking, and our own (which also reads back).

Headers are the exact ones of client-anchors.md §2. In every layout a trade's sent and received
amounts are the gross amounts the exchange reports and the fee is a separate outflow of its asset,
so each row's balance change is ``received - sent - fee``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import TextIO

from keyplane.client.history.errors import BadHistoryFile
from keyplane.client.history.records import Kind, Record

KOINLY = [
    "Date",
    "Sent Amount",
    "Sent Currency",
    "Received Amount",
    "Received Currency",
    "Fee Amount",
    "Fee Currency",
    "Net Worth Amount",
    "Net Worth Currency",
    "Label",
    "Description",
    "TxHash",
]
COINTRACKING = [
    "Type",
    "Buy",
    "Cur.",
    "Sell",
    "Cur.",
    "Fee",
    "Cur.",
    "Exchange",
    "Trade-Group",
    "Comment",
    "Date",
    "Tx-ID",
    "Buy Value in your Account Currency",
    "Sell Value in your Account Currency",
]
OURS = [
    "time_ms",
    "date_utc",
    "account",
    "exchange",
    "kind",
    "ref",
    "symbol",
    "side",
    "sent_amount",
    "sent_asset",
    "received_amount",
    "received_asset",
    "fee_amount",
    "fee_asset",
    "order_ref",
    "txid",
]
FORMULA_START = ("=", "+", "-", "@")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CT_TYPES = {
    Kind.TRADE: "Trade",
    Kind.DEPOSIT: "Deposit",
    Kind.WITHDRAWAL: "Withdrawal",
    Kind.FEE: "Other Fee",
}


def text(value: str | None) -> str:
    """A text cell a spreadsheet shows as text: an exchange could send an id or an asset code such
    as ``=HYPERLINK(...)``, which Excel or Sheets would run as a formula (CSV injection)."""
    if not value:
        return ""
    value = CONTROL.sub(" ", value)  # a bare CR or LF would also split the row
    return "'" + value if value.lstrip().startswith(FORMULA_START) else value


def amount(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def _describe(r: Record) -> str:
    parts = [r.exchange, r.account, r.kind.value]
    if r.symbol:
        parts.append(f"{r.side} {r.symbol}")
    parts.append(f"id {r.ref}")
    if r.order_ref:
        parts.append(f"order {r.order_ref}")
    return " ".join(parts)


def koinly_row(r: Record) -> list[str]:
    return [
        r.when.strftime("%Y-%m-%d %H:%M:%S UTC"),
        amount(r.sent_amount),
        text(r.sent_asset),
        amount(r.received_amount),
        text(r.received_asset),
        amount(r.fee_amount),
        text(r.fee_asset),
        "",
        "",
        "",
        text(_describe(r)),
        text(r.txid),
    ]


def cointracking_row(r: Record) -> list[str]:
    return [
        CT_TYPES[r.kind],
        amount(r.received_amount),
        text(r.received_asset),
        amount(r.sent_amount),
        text(r.sent_asset),
        amount(r.fee_amount),
        text(r.fee_asset),
        text(r.exchange),
        text(r.account),
        text(_describe(r)),
        r.when.strftime("%d.%m.%Y %H:%M:%S"),
        text(r.txid or f"{r.account}-{r.kind.value}-{r.ref}"),
        "",
        "",
    ]


def ours_row(r: Record) -> list[str]:
    return [
        str(r.time_ms),
        r.when.strftime("%Y-%m-%d %H:%M:%S"),
        text(r.account),
        text(r.exchange),
        r.kind.value,
        text(r.ref),
        text(r.symbol),
        text(r.side),
        amount(r.sent_amount),
        text(r.sent_asset),
        amount(r.received_amount),
        text(r.received_asset),
        amount(r.fee_amount),
        text(r.fee_asset),
        text(r.order_ref),
        text(r.txid),
    ]


FORMATS: dict[str, tuple[list[str], Callable[[Record], list[str]]]] = {
    "koinly": (KOINLY, koinly_row),
    "cointracking": (COINTRACKING, cointracking_row),
    "csv": (OURS, ours_row),
}


def write(records: Iterable[Record], layout: str, out: TextIO) -> int:
    header, row = FORMATS[layout]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    count = 0
    for r in records:
        writer.writerow(row(r))
        count += 1
    return count


def _dec(text: str, line: int) -> Decimal | None:
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise BadHistoryFile(f"line {line}: {text[:40]!r} is not a number") from None


def read_ours(source: TextIO) -> list[Record]:
    """Records from a ``--format csv`` export; anything else is refused with the line at fault."""
    reader = csv.reader(source)
    if next(reader, None) != OURS:
        raise BadHistoryFile("not a `keyplane history export --format csv` file (its header differs)")
    found: list[Record] = []
    for line, row in enumerate(reader, start=2):
        if len(row) != len(OURS):
            raise BadHistoryFile(f"line {line}: expected {len(OURS)} columns, found {len(row)}")
        f = dict(zip(OURS, row, strict=True))
        try:
            found.append(
                Record(
                    account=f["account"],
                    exchange=f["exchange"],
                    kind=Kind(f["kind"]),
                    time_ms=int(f["time_ms"]),
                    ref=f["ref"],
                    symbol=f["symbol"] or None,
                    side=f["side"] or None,
                    sent_amount=_dec(f["sent_amount"], line),
                    sent_asset=f["sent_asset"] or None,
                    received_amount=_dec(f["received_amount"], line),
                    received_asset=f["received_asset"] or None,
                    fee_amount=_dec(f["fee_amount"], line),
                    fee_asset=f["fee_asset"] or None,
                    order_ref=f["order_ref"] or None,
                    txid=f["txid"] or None,
                )
            )
        except ValueError as bad:
            raise BadHistoryFile(f"line {line}: {bad}") from None
    return found
