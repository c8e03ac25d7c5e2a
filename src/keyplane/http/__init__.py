"""The ASGI app: Binance-compatible routes, native routes, the web console and middleware.

This package translates HTTP to domain calls and domain errors to HTTP; nothing else.
"""
