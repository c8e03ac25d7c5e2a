"""Gains against worked examples with known answers (client-anchors.md §5: rotki's docs, freqtrade)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from keyplane.client.gains.engine import compute
from keyplane.client.gains.errors import NoPrice
from keyplane.client.gains.lots import Method
from keyplane.client.gains.prices import HistoryPrices, TablePrices
from keyplane.client.gains.report import by_year, write_csv
from keyplane.client.history.records import Kind, Record

DAY = 86_400_000
T0 = int(datetime(2025, 3, 1, tzinfo=UTC).timestamp() * 1000)
NO_PRICES = TablePrices({})


def trade(
    day: int, sent: tuple[str, str], got: tuple[str, str], fee: tuple[str, str] | None = None
) -> Record:
    return Record(
        account="a",
        exchange="keyplane",
        kind=Kind.TRADE,
        time_ms=T0 + day * DAY,
        ref=f"t{day}",
        sent_amount=D(sent[0]),
        sent_asset=sent[1],
        received_amount=D(got[0]),
        received_asset=got[1],
        fee_amount=D(fee[0]) if fee else None,
        fee_asset=fee[1] if fee else None,
    )


def buy(day: int, qty: str, asset: str, pay: str, fee: tuple[str, str] | None = None) -> Record:
    return trade(day, (pay, "USD"), (qty, asset), fee)


def sell(day: int, qty: str, asset: str, get: str, fee: tuple[str, str] | None = None) -> Record:
    return trade(day, (qty, asset), (get, "USD"), fee)


def gain(records: list[Record], method: Method = Method.FIFO, fees_in_basis: bool = True, prices=NO_PRICES):  # type: ignore[no-untyped-def]
    return compute(records, method=method, report="USD", prices=prices, fees_in_basis=fees_in_basis)


TWO_BUYS_ONE_SALE = [buy(0, "1", "ETH", "1000"), buy(1, "1", "ETH", "2000"), sell(2, "1", "ETH", "3000")]


@pytest.mark.parametrize(
    ("method", "expected"),
    [(Method.FIFO, D(2000)), (Method.HIFO, D(1000)), (Method.LIFO, D(1000)), (Method.ACB, D(1500))],
)
def test_fifo_and_hifo_on_the_same_sale_give_rotkis_documented_gains(method: Method, expected: D) -> None:
    # rotki accounting-rules.md: FIFO "taxable gain is $2,000", HIFO "only $1,000".
    result = gain(TWO_BUYS_ONE_SALE, method)
    assert [d.gain for d in result.disposals] == [expected]
    assert result.holdings["ETH"].quantity == D(1)


def test_hifo_picks_the_dearest_lot_even_when_it_is_neither_oldest_nor_newest() -> None:
    records = [
        buy(0, "1", "ETH", "1000"),
        buy(1, "1", "ETH", "2500"),
        buy(2, "1", "ETH", "2000"),
        sell(3, "1", "ETH", "3000"),
        sell(4, "1", "ETH", "3000"),
    ]
    assert [d.basis for d in gain(records, Method.HIFO).disposals] == [D(2500), D(2000)]
    assert [d.basis for d in gain(records, Method.LIFO).disposals] == [D(2000), D(2500)]


def test_a_quote_fee_in_basis_makes_the_basis_1010_and_separate_books_a_10_expense() -> None:
    # rotki accounting.md: buy 1 ETH for 1,000 with a 10 fee -> basis 1,010, or 1,000 plus a 10 spend.
    records = [buy(0, "1", "ETH", "1000", ("10", "USD")), sell(1, "1", "ETH", "1500")]
    inside = gain(records, fees_in_basis=True)
    assert inside.disposals[0].basis == D(1010) and inside.disposals[0].gain == D(490)
    assert inside.expenses == []
    apart = gain(records, fees_in_basis=False)
    assert apart.disposals[0].basis == D(1000) and apart.disposals[0].gain == D(500)
    assert [e.value for e in apart.expenses] == [D(10)]
    assert by_year(inside)[0].net == by_year(apart)[0].net == D(490)


def test_freqtrade_round_trip_with_quarter_percent_quote_fees_gains_5_685() -> None:
    # freqtrade test_update_limit_order: open 60.15, close 65.835, profit 5.685.
    records = [buy(0, "30", "X", "60", ("0.15", "USD")), sell(1, "30", "X", "66", ("0.165", "USD"))]
    d = gain(records).disposals[0]
    assert (d.basis, d.proceeds, d.gain) == (D("60.15"), D("65.835"), D("5.685"))


def test_a_fee_in_the_base_asset_shrinks_the_lot_and_nets_the_same_either_way() -> None:
    records = [buy(0, "1", "ETH", "1000", ("0.01", "ETH")), sell(1, "0.99", "ETH", "1188")]
    inside = gain(records)
    assert inside.disposals[0].basis == D(1000) and inside.disposals[0].gain == D(188)
    apart = gain(records, fees_in_basis=False)
    assert apart.disposals[0].basis == D(990) and apart.disposals[0].gain == D(198)
    assert [e.value for e in apart.expenses] == [D(10)]
    assert by_year(apart)[0].net == D(188)


def test_a_base_fee_on_a_sale_disposes_of_the_fee_units_too() -> None:
    records = [buy(0, "2", "ETH", "2000"), sell(1, "1", "ETH", "1500", ("0.1", "ETH"))]
    inside = gain(records)
    sale, fee = inside.disposals
    assert (sale.kind, sale.proceeds, sale.basis) == ("sale", D(1350), D(1000))
    assert (fee.kind, fee.quantity, fee.proceeds, fee.basis) == ("fee", D("0.1"), D(150), D(100))
    assert inside.holdings["ETH"].quantity == D("0.9")
    assert by_year(inside)[0].net == by_year(gain(records, fees_in_basis=False))[0].net == D(400)


def test_a_fee_in_a_third_asset_is_its_own_disposal_and_capitalised_in_basis() -> None:
    prices = TablePrices({"BNB": D(400)})
    records = [
        buy(0, "1", "BNB", "300"),
        buy(1, "1", "ETH", "1000", ("0.01", "BNB")),
        sell(2, "1", "ETH", "1100"),
    ]
    inside = gain(records, prices=prices)
    fee, sale = inside.disposals
    assert (fee.kind, fee.asset, fee.proceeds, fee.basis, fee.gain) == ("fee", "BNB", D(4), D(3), D(1))
    assert (sale.basis, sale.gain) == (D(1004), D(96))
    apart = gain(records, fees_in_basis=False, prices=prices)
    assert [d.gain for d in apart.disposals] == [D(1), D(100)] and [e.value for e in apart.expenses] == [D(4)]
    assert by_year(inside)[0].net == by_year(apart)[0].net == D(97)


def test_a_crypto_to_crypto_trade_disposes_of_the_quote_at_market_value() -> None:
    prices = TablePrices({"BTC": D(60000)})
    records = [buy(0, "1", "BTC", "50000"), trade(1, ("0.5", "BTC"), ("10", "ETH"))]
    result = gain(records, prices=prices)
    (btc,) = result.disposals
    assert (btc.asset, btc.proceeds, btc.basis, btc.gain) == ("BTC", D(30000), D(25000), D(5000))
    assert result.holdings["ETH"].lots[0].cost == D(30000)


def test_prices_come_from_the_historys_own_trades_against_the_report_currency() -> None:
    records = [
        buy(0, "1", "BTC", "50000"),
        buy(1, "1", "BTC", "60000"),
        trade(1, ("0.5", "BTC"), ("10", "ETH")),
    ]
    result = gain(records, prices=HistoryPrices(records, "USD"))
    assert result.disposals[0].proceeds == D(30000)
    with pytest.raises(NoPrice, match="BTC"):
        gain(records[2:], prices=HistoryPrices(records[2:], "USD"))


def test_selling_more_than_was_acquired_counts_zero_basis_and_warns() -> None:
    result = gain([buy(0, "1", "ETH", "1000"), sell(1, "1.5", "ETH", "3000")])
    d = result.disposals[0]
    assert d.basis == D(1000) and d.unknown_quantity == D("0.5")
    assert result.warnings and "no known acquisition" in result.warnings[0]


def test_withdrawals_keep_lots_spend_only_the_fee_and_the_matching_deposit_adds_nothing() -> None:
    out = Record(
        account="a", exchange="keyplane", kind=Kind.WITHDRAWAL, time_ms=T0 + DAY, ref="w1",
        sent_amount=D(1), sent_asset="ETH", fee_amount=D("0.01"), fee_asset="ETH", txid="0xabc",
    )  # fmt: skip
    back = Record(
        account="b", exchange="keyplane", kind=Kind.DEPOSIT, time_ms=T0 + 2 * DAY, ref="d1",
        received_amount=D(1), received_asset="ETH", txid="0xabc",
    )  # fmt: skip
    result = gain([buy(0, "2", "ETH", "2000"), out, back], prices=TablePrices({"ETH": D(1500)}))
    assert result.holdings["ETH"].quantity == D("1.99")
    assert [(d.kind, d.proceeds, d.basis) for d in result.disposals] == [("fee", D(15), D(10))]
    assert [e.value for e in result.expenses] == [D(15)]


def test_per_year_summary_and_csv_split_sales_by_calendar_year() -> None:
    late = int(datetime(2026, 1, 10, tzinfo=UTC).timestamp() * 1000)
    records = [*TWO_BUYS_ONE_SALE, Record(**{**_fields(sell(0, "1", "ETH", "500")), "time_ms": late})]
    result = gain(records)
    years = by_year(result)
    assert [(y.year, y.disposals, y.gains) for y in years] == [(2025, 1, D(2000)), (2026, 1, D(-1500))]
    out = io.StringIO()
    write_csv(result, out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("date,account,reference,type,asset,quantity")
    assert lines[1].split(",")[8:11] == ["3000", "1000", "2000"]
    assert lines[2].split(",")[8:11] == ["500", "2000", "-1500"]


def _fields(record: Record) -> dict[str, object]:
    return {name: getattr(record, name) for name in Record.__dataclass_fields__}
