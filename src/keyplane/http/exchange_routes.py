"""Binance spot routes of the exchange: market data, account, orders, wallet configuration."""

from __future__ import annotations

from keyplane.http.routing import Route

EXCHANGE_ROUTES: list[Route] = []
