"""Per-year sums and the CSV of a gains result."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TextIO

from keyplane.client.gains.engine import Result
from keyplane.client.gains.lots import ZERO
from keyplane.client.history.formats import text

CSV_COLUMNS = [
    "date",
    "account",
    "reference",
    "type",
    "asset",
    "quantity",
    "acquired_from",
    "acquired_to",
    "proceeds",
    "cost_basis",
    "gain",
    "currency",
    "method",
    "unknown_basis_quantity",
]


@dataclass
class YearSummary:
    year: int
    disposals: int = 0
    proceeds: Decimal = ZERO
    basis: Decimal = ZERO
    gains: Decimal = ZERO
    fees_separate: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.gains - self.fees_separate


def _year(ms: int) -> int:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).year


def _date(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def plain(amount: Decimal) -> str:
    """A decimal without exponent or trailing zeros: what a spreadsheet reads back exactly."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "") else text


def by_year(result: Result) -> list[YearSummary]:
    years: dict[int, YearSummary] = {}
    for d in result.disposals:
        s = years.setdefault(_year(d.time_ms), YearSummary(_year(d.time_ms)))
        s.disposals += 1
        s.proceeds += d.proceeds
        s.basis += d.basis
        s.gains += d.gain
    for e in result.expenses:
        s = years.setdefault(_year(e.time_ms), YearSummary(_year(e.time_ms)))
        s.fees_separate += e.value
    return [years[y] for y in sorted(years)]


def write_csv(result: Result, out: TextIO) -> None:
    """One row per disposal, then one row per fee booked apart (type ``expense``, gain negative)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    method = result.method.value
    for d in result.disposals:
        writer.writerow(
            [
                _date(d.time_ms),
                text(d.account),
                text(d.ref),
                d.kind,
                text(d.asset),
                plain(d.quantity),
                _date(d.acquired_from_ms),
                _date(d.acquired_to_ms),
                plain(d.proceeds),
                plain(d.basis),
                plain(d.gain),
                result.report,
                method,
                plain(d.unknown_quantity),
            ]
        )
    for e in result.expenses:
        writer.writerow(
            [
                _date(e.time_ms),
                text(e.account),
                text(e.ref),
                "expense",
                text(e.asset),
                plain(e.amount),
                "",
                "",
                "0",
                plain(e.value),
                plain(-e.value),
                result.report,
                method,
                "0",
            ]
        )
