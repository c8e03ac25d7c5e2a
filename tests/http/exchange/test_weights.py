"""Request weights as Binance counts them, read back from ``X-MBX-USED-WEIGHT-1M``."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.http.exchange.conftest import Venue
from tests.http.exchange.raw import fresh_timestamp, signed


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


def used_after(venue: Venue, send: Callable[[], httpx.Response]) -> tuple[int, httpx.Response]:
    """The weight a refused request added to this IP's minute, read from its own answer (Binance
    puts ``X-MBX-USED-WEIGHT-1M`` on every answer that counted the request, refusals included)."""
    for _ in range(3):
        before = int(httpx.get(venue.url + "/api/v3/ping").headers["X-MBX-USED-WEIGHT-1M"])
        response = send()
        assert response.status_code >= 400, response.text
        after = int(response.headers["X-MBX-USED-WEIGHT-1M"])
        if after > before:
            return after - before, response
    raise AssertionError("the rate-limit window kept turning")


def test_refused_requests_report_the_weight_they_cost(venue: Venue) -> None:
    account = venue.url + "/api/v3/account"
    key = {"X-MBX-APIKEY": venue.alice["key"]}

    def forged() -> httpx.Response:
        return httpx.get(f"{account}?timestamp={fresh_timestamp()}&signature={'0' * 64}", headers=key)

    def unreadable() -> httpx.Response:  # a parameter sent twice: refused before it is read
        return httpx.get(f"{account}?timestamp=1&timestamp=2&signature={'0' * 64}", headers=key)

    def broke() -> httpx.Response:  # a real order the account cannot pay for (-2010)
        return signed(
            venue.url, venue.alice, "POST", "/api/v3/order",
            symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC", quantity="50", price="90000",
        )  # fmt: skip

    # A refusal before the signature is proven weighs the route (20) plus refused_weight (10).
    assert used_after(venue, forged)[0] == 30
    assert used_after(venue, unreadable)[0] == 30
    weight, answer = used_after(venue, broke)
    assert (weight, answer.json()["code"]) == (1, -2010)
    weight, answer = used_after(venue, lambda: httpx.get(venue.url + "/api/v3/depth?symbol=NOPE"))
    assert (weight, answer.json()["code"]) == (5, -1121)
