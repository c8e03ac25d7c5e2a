"""The rolling ticker's ``windowSize`` and the trading-day ticker's ``timeZone``, as Binance reads
them: the window's start floored to the minute, units not combined, zones from -12:00 to +14:00."""

from __future__ import annotations

import pytest

from keyplane.exchange.errors import InvalidParameter
from keyplane.http.ticker_windows import DAY_MS, HOUR_MS, MINUTE_MS, rolling, trading_day

NOW = 1_641_287_867_099  # 2022-01-04 09:17:47.099 UTC, Binance's own example


def test_a_day_back_starts_on_the_minute_as_binances_example() -> None:
    assert rolling(None, NOW) == (1_641_201_420_000, NOW)  # January 3, 09:17:00
    assert rolling("1d", NOW) == rolling(None, NOW)


@pytest.mark.parametrize(
    ("size", "span"), [("1m", MINUTE_MS), ("59m", 59 * MINUTE_MS), ("23h", 23 * HOUR_MS), ("7d", 7 * DAY_MS)]
)
def test_each_unit_up_to_its_largest_value(size: str, span: int) -> None:
    start, end = rolling(size, NOW)
    assert end == NOW and start % MINUTE_MS == 0 and 0 <= (NOW - span) - start < MINUTE_MS


@pytest.mark.parametrize("size", ["0m", "60m", "24h", "8d", "1d2h", "1w", "01h", "h", "1H", "٣m", ""])
def test_sizes_binance_refuses(size: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        rolling(size or "x", NOW)
    assert refused.value.code == -1130


@pytest.mark.parametrize(
    ("zone", "offset_minutes"),
    [("0", 0), ("8", 480), ("-1:00", -60), ("05:45", 345), ("+14:00", 840), ("-12:00", -720)],
)
def test_the_trading_day_starts_at_midnight_in_its_time_zone(zone: str, offset_minutes: int) -> None:
    start, end = trading_day(zone, NOW)
    local_start = start + offset_minutes * MINUTE_MS
    assert end == NOW and local_start % DAY_MS == 0 and 0 <= NOW - start < DAY_MS


@pytest.mark.parametrize("zone", ["14:01", "-12:30", "15", "1:60", "UTC", "+-1", "1:5"])
def test_zones_out_of_range_or_misspelt_are_refused(zone: str) -> None:
    with pytest.raises(InvalidParameter):
        trading_day(zone, NOW)
