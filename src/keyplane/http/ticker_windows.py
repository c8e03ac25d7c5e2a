"""The windows of Binance's rolling ticker (``GET /api/v3/ticker``, ``windowSize``) and trading-day
ticker (``GET /api/v3/ticker/tradingDay``, ``timeZone``): parameters to a (start, end) in ms.

Why apart from the routes: the rules (units not combined, 1-59 minutes, 1-23 hours, 1-7 days; a
time zone from -12:00 to +14:00) are what a client gets wrong, and are tested on their own.
"""

from __future__ import annotations

import re

from keyplane.exchange.errors import InvalidParameter

MINUTE_MS, HOUR_MS, DAY_MS = 60_000, 3_600_000, 86_400_000
WINDOW = re.compile(r"([1-9][0-9]?)([mhd])", re.ASCII)
UNIT_MS = {"m": (MINUTE_MS, 59), "h": (HOUR_MS, 23), "d": (DAY_MS, 7)}
ZONE = re.compile(r"([+-]?)([0-9]{1,2})(?::([0-9]{2}))?", re.ASCII)


def rolling(window_size: str | None, now: int) -> tuple[int, int]:
    """``windowSize`` (default ``1d``) back from ``now``, its start floored to the minute, as
    Binance's: the effective window is up to 59,999 ms wider than asked."""
    found = WINDOW.fullmatch(window_size or "1d")
    unit_ms, most = UNIT_MS[found.group(2)] if found else (0, 0)
    if found is None or not 1 <= int(found.group(1)) <= most:
        raise InvalidParameter.invalid("windowSize")
    start = now - int(found.group(1)) * unit_ms
    return start - start % MINUTE_MS, now


def trading_day(time_zone: str | None, now: int) -> tuple[int, int]:
    """The current day in ``timeZone`` (hours, or hours:minutes; default UTC): from its midnight
    to ``now``."""
    offset = _offset_ms(time_zone or "0")
    local = now + offset
    return local - local % DAY_MS - offset, now


def _offset_ms(text: str) -> int:
    found = ZONE.fullmatch(text)
    if found is None:
        raise InvalidParameter.invalid("timeZone")
    sign = -1 if found.group(1) == "-" else 1
    hours, minutes = int(found.group(2)), int(found.group(3) or 0)
    offset = sign * (hours * 60 + minutes)
    if minutes >= 60 or not -12 * 60 <= offset <= 14 * 60:
        raise InvalidParameter.invalid("timeZone")
    return offset * MINUTE_MS
