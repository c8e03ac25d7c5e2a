"""Two simple trading bots, grid and DCA, that run unattended with a trade-only key.

They keep no state of their own: every order they place carries a client order id that starts
with the bot's prefix (``ids``), and after a restart they find their orders again on the exchange
by that prefix. ``venue`` wraps an asyncio ccxt exchange with rate-limit handling, dry runs and one
log line per action; ``grid`` and ``dca`` decide what to place; ``runner`` loops, listens to the
exchange's order stream where there is one (else polls), and on Ctrl-C or SIGTERM cancels what the
bot placed unless told to keep it.
"""
