"""Valuation routes, allocation and the HTML report, on hand-made data with known answers."""

from __future__ import annotations

from decimal import Decimal

from keyplane.client.portfolio.model import AccountResult, Holding, Portfolio, share
from keyplane.client.portfolio.report import html_report
from keyplane.client.portfolio.valuation import price_in, route, ticker_price

TICKERS = {
    "BTC/USDT": {"last": 40000.0},
    "USDT/TRY": {"last": 32.0},
    "SOL/BTC": {"last": 0.004},
    "DOGE/USDT": {"last": None, "bid": 0.09, "ask": 0.11},
}


def test_direct_inverse_bridge_and_mid_prices() -> None:
    assert price_in("BTC", "USDT", TICKERS) == Decimal(40000)
    assert price_in("TRY", "USDT", TICKERS) == Decimal(1) / Decimal(32)
    assert price_in("SOL", "USDT", TICKERS) == Decimal("160.000")
    assert price_in("DOGE", "USDT", TICKERS) == Decimal("0.10")
    assert price_in("USDT", "USDT", TICKERS) == 1
    assert price_in("XYZ", "USDT", TICKERS) is None
    assert ticker_price({"last": None}) is None


def test_routes_name_the_symbols_used_for_daily_values() -> None:
    assert route("BTC", "USDT", TICKERS) == [("BTC/USDT", False)]
    assert route("TRY", "USDT", TICKERS) == [("USDT/TRY", True)]
    assert route("SOL", "USDT", TICKERS) == [("SOL/BTC", False), ("BTC/USDT", False)]
    assert route("XYZ", "USDT", TICKERS) == []


def sample() -> Portfolio:
    good = AccountResult(
        name="a<script>",
        exchange="keyplane",
        holdings=(
            Holding(asset="BTC", amount=Decimal("0.5"), price=Decimal(40000), value=Decimal(20000)),
            Holding(asset="<b>X</b>", amount=Decimal(3), price=None, value=None),
        ),
        history=((86_400_000, Decimal(19000)), (2 * 86_400_000, Decimal(20000))),
    )
    other = AccountResult(
        name="b",
        exchange="keyplane",
        holdings=(Holding(asset="USDT", amount=Decimal(5000), price=Decimal(1), value=Decimal(5000)),),
        history=((2 * 86_400_000, Decimal(5000)),),
    )
    failed = AccountResult(name="c", exchange="kraken", error="RequestTimeout: <img src=x>")
    return Portfolio(quote="USDT", accounts=(good, other, failed), taken_at=3 * 86_400_000)


def test_totals_allocation_and_history_add_up() -> None:
    folio = sample()
    assert folio.total == Decimal(25000) and [a.name for a in folio.failed] == ["c"]
    assert [(a, s) for a, _, _, s in folio.allocation()] == [
        ("BTC", Decimal("80.00")),
        ("USDT", Decimal("20.00")),
        ("<b>X</b>", Decimal("0.00")),
    ]
    assert folio.history() == [(86_400_000, Decimal(19000)), (2 * 86_400_000, Decimal(25000))]
    assert share(Decimal(1), Decimal(0)) == Decimal("0.00")


def test_the_report_escapes_every_name_and_loads_nothing_from_outside() -> None:
    page = html_report(sample())
    assert "<script>" not in page and "<img" not in page and "<b>X</b>" not in page
    assert "a&lt;script&gt;" in page and "failed: RequestTimeout: &lt;img src=x&gt;" in page
    assert page.count("<svg") == 2 and "<polyline" in page and "<path" in page
    assert "src=" not in page.replace("&lt;img src=x&gt;", "") and "<link" not in page
