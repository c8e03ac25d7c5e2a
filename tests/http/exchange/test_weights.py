"""Request weights as Binance counts them, read back from ``X-MBX-USED-WEIGHT-1M``."""

from __future__ import annotations

import httpx
import pytest

from tests.http.exchange.conftest import Venue


def weight_of(venue: Venue, path: str) -> int:
    """The weight ``path`` added to this IP's minute (retried if the minute turns in between)."""
    for _ in range(3):
        before = int(httpx.get(venue.url + "/api/v3/ping").headers["X-MBX-USED-WEIGHT-1M"])
        after = int(httpx.get(venue.url + path).headers["X-MBX-USED-WEIGHT-1M"])
        if after > before:
            return after - before
    raise AssertionError("the rate-limit window kept turning")


@pytest.mark.parametrize(
    ("path", "weight"),
    [
        ("/api/v3/depth?symbol=BTCUSDT", 5),
        ("/api/v3/depth?symbol=BTCUSDT&limit=500", 25),
        ("/api/v3/depth?symbol=BTCUSDT&limit=1000", 50),
        ("/api/v3/depth?symbol=BTCUSDT&limit=5000", 250),
        ("/api/v3/ticker/24hr?symbol=BTCUSDT", 2),
        ('/api/v3/ticker/24hr?symbols=["BTCUSDT","ETHUSDT"]', 2),
        ("/api/v3/ticker/24hr", 80),
        ("/api/v3/ticker/price", 4),
        ("/api/v3/exchangeInfo", 20),
        ("/api/v3/trades?symbol=BTCUSDT", 25),
    ],
)
def test_public_routes_cost_binance_weights(venue: Venue, path: str, weight: int) -> None:
    assert weight_of(venue, path) == weight
