"""The client side: what a trader runs on their own machine to use exchange keys safely.

A signing SDK for Keyplane's Binance-compatible API, an encrypted vault of exchange credentials,
a check of what a key may do, and apps (portfolio, history export, gains, bots) built on ccxt so
they work with Keyplane and with every exchange ccxt supports.

This package never imports the server packages (keys, identity, exchange, store, http, runtime,
cluster, demo, settings): a trader installs it without the server's dependencies
(``tests/client/test_layering.py`` holds the line).
"""
