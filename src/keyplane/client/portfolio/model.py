"""The portfolio as data: holdings per account, totals and allocation, all in Decimal."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Holding:
    asset: str
    amount: Decimal
    price: Decimal | None  # in the quote currency; None when the exchange lists no route to it
    value: Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountResult:
    """One account: its holdings, or why it could not be read (shown, never hidden)."""

    name: str
    exchange: str
    holdings: tuple[Holding, ...] = ()
    error: str | None = None
    refused: bool = False  # the key can do more than a tracker needs
    history: tuple[tuple[int, Decimal], ...] = ()  # (day start ms, value) from daily candles

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def total(self) -> Decimal:
        return sum((h.value for h in self.holdings if h.value is not None), Decimal(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class Portfolio:
    quote: str
    accounts: tuple[AccountResult, ...]
    taken_at: int
    warnings: tuple[str, ...] = field(default=())

    @property
    def total(self) -> Decimal:
        return sum((a.total for a in self.accounts), Decimal(0))

    @property
    def failed(self) -> list[AccountResult]:
        return [a for a in self.accounts if not a.ok]

    def allocation(self) -> list[tuple[str, Decimal, Decimal, Decimal]]:
        """(asset, amount, value, share of total) over all accounts, largest value first."""
        amounts: dict[str, Decimal] = {}
        values: dict[str, Decimal] = {}
        for account in self.accounts:
            for h in account.holdings:
                amounts[h.asset] = amounts.get(h.asset, Decimal(0)) + h.amount
                if h.value is not None:
                    values[h.asset] = values.get(h.asset, Decimal(0)) + h.value
        total = self.total
        rows = [
            (
                asset,
                amounts[asset],
                values.get(asset, Decimal(0)),
                share(values.get(asset, Decimal(0)), total),
            )
            for asset in amounts
        ]
        return sorted(rows, key=lambda r: (-r[2], r[0]))

    def history(self) -> list[tuple[int, Decimal]]:
        """Summed value per day over accounts that have candles."""
        days: dict[int, Decimal] = {}
        for account in self.accounts:
            for day, value in account.history:
                days[day] = days.get(day, Decimal(0)) + value
        return sorted(days.items())

    def as_dict(self) -> dict[str, Any]:
        total = self.total
        return {
            "quote": self.quote,
            "takenAt": self.taken_at,
            "total": str(total),
            "accounts": [
                {
                    "account": a.name,
                    "exchange": a.exchange,
                    "ok": a.ok,
                    "refused": a.refused,
                    "error": a.error,
                    "total": str(a.total) if a.ok else None,
                    "holdings": [
                        {
                            "asset": h.asset,
                            "amount": str(h.amount),
                            "price": None if h.price is None else str(h.price),
                            "value": None if h.value is None else str(h.value),
                            "allocation": None if h.value is None else str(share(h.value, total)),
                        }
                        for h in a.holdings
                    ],
                }
                for a in self.accounts
            ],
            "allocation": [
                {"asset": asset, "amount": str(amount), "value": str(value), "share": str(part)}
                for asset, amount, value, part in self.allocation()
            ],
            "history": [{"day": day, "value": str(value)} for day, value in self.history()],
            "warnings": list(self.warnings),
        }


def share(part: Decimal, total: Decimal) -> Decimal:
    """``part`` as a percentage of ``total``, to two places."""
    if total == 0:
        return Decimal("0.00")
    return (part * 100 / total).quantize(Decimal("0.01"))
