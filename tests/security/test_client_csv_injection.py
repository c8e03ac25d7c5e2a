"""Attack: an exchange (or a compromised one) sends ids and asset codes that are spreadsheet formulas.

History exports and gains CSVs are opened in Excel or Sheets; a cell starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return would run as a formula there (CSV injection). Every text
cell we write is made plain text; amounts stay numbers.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D

import pytest

from keyplane.client.gains.engine import compute
from keyplane.client.gains.lots import Method
from keyplane.client.gains.prices import TablePrices
from keyplane.client.gains.report import write_csv
from keyplane.client.history import formats
from keyplane.client.history.records import Kind, Record

PAYLOADS = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1",
    "\r=1",
]


def hostile(payload: str) -> list[Record]:
    return [
        Record(
            account="a", exchange="keyplane", kind=Kind.TRADE, time_ms=1_700_000_000_000, ref=payload,
            sent_amount=D(100), sent_asset="USDT", received_amount=D(1), received_asset=payload,
            fee_amount=D("0.01"), fee_asset=payload, symbol=f"{payload}/USDT", side="buy", order_ref=payload,
        ),
        Record(
            account="a", exchange="keyplane", kind=Kind.TRADE, time_ms=1_700_000_100_000, ref=payload + "2",
            sent_amount=D("0.5"), sent_asset=payload, received_amount=D(80), received_asset="USDT",
        ),
        Record(
            account="a", exchange="keyplane", kind=Kind.WITHDRAWAL, time_ms=1_700_000_200_000, ref="w",
            sent_amount=D(5), sent_asset="USDT", fee_amount=D(1), fee_asset="USDT", txid=payload,
        ),
    ]  # fmt: skip


def formula_cells(text: str) -> list[str]:
    return [
        cell
        for row in csv.reader(io.StringIO(text))
        for cell in row
        if cell.lstrip()[:1] in ("=", "+", "-", "@") or "\r" in cell or "\t" in cell
    ]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("layout", sorted(formats.FORMATS))
def test_no_exported_cell_starts_like_a_formula(payload: str, layout: str) -> None:
    out = io.StringIO()
    formats.write(hostile(payload), layout, out)
    assert formula_cells(out.getvalue()) == []
    cells = {cell for row in csv.reader(io.StringIO(out.getvalue())) for cell in row}
    assert "'" + payload.replace("\t", " ").replace("\r", " ") in cells  # kept, shown as text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_gains_cell_starts_like_a_formula_except_signed_numbers(payload: str) -> None:
    result = compute(hostile(payload), method=Method.FIFO, report="USDT", prices=TablePrices({}))
    out = io.StringIO()
    write_csv(result, out)
    risky = [cell for cell in formula_cells(out.getvalue()) if not _is_number(cell)]
    assert risky == []


def _is_number(cell: str) -> bool:
    try:
        D(cell)
    except ArithmeticError:
        return False
    return True
