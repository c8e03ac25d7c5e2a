"""ccxt's trade and transaction structures into history records, amounts as exact ``Decimal``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from keyplane.client.history.records import Kind, Record


def dec(value: Any) -> Decimal | None:
    """ccxt gives strings when ``exchange.number = str`` (what the fetcher sets), else floats."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _fee(item: dict[str, Any]) -> tuple[Decimal | None, str | None]:
    fee = item.get("fee") or {}
    if not fee.get("currency") and item.get("fees"):
        fee = next((f for f in item["fees"] if f and f.get("cost")), {}) or {}
    amount = dec(fee.get("cost"))
    return (amount, fee.get("currency")) if amount else (None, None)


def trade_record(account: str, exchange: str, trade: dict[str, Any]) -> Record:
    base, quote = str(trade["symbol"]).split("/")[:2]
    quote = quote.split(":")[0]
    amount, cost = dec(trade.get("amount")), dec(trade.get("cost"))
    if cost is None and amount is not None and trade.get("price") is not None:
        cost = amount * (dec(trade["price"]) or Decimal(0))
    fee_amount, fee_asset = _fee(trade)
    buying = trade.get("side") == "buy"
    return Record(
        account=account,
        exchange=exchange,
        kind=Kind.TRADE,
        time_ms=int(trade["timestamp"]),
        ref=str(trade["id"]),
        sent_amount=cost if buying else amount,
        sent_asset=quote if buying else base,
        received_amount=amount if buying else cost,
        received_asset=base if buying else quote,
        fee_amount=fee_amount,
        fee_asset=fee_asset,
        symbol=str(trade["symbol"]),
        side=str(trade.get("side")),
        order_ref=str(trade["order"]) if trade.get("order") is not None else None,
    )


def transfer_record(account: str, exchange: str, item: dict[str, Any], kind: Kind) -> Record:
    fee_amount, fee_asset = _fee(item)
    amount = dec(item.get("amount"))
    asset = str(item["currency"])
    incoming = kind is Kind.DEPOSIT
    return Record(
        account=account,
        exchange=exchange,
        kind=kind,
        time_ms=int(item["timestamp"]),
        ref=str(item.get("id") or item.get("txid")),
        sent_amount=None if incoming else amount,
        sent_asset=None if incoming else asset,
        received_amount=amount if incoming else None,
        received_asset=asset if incoming else None,
        fee_amount=fee_amount,
        fee_asset=fee_asset,
        txid=item.get("txid") or None,
    )
