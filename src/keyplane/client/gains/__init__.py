"""Realized gains from an account history: FIFO, LIFO, HIFO or average cost (ACB).

``lots`` keeps what is held and picks which units a disposal consumes; ``engine`` turns history
records into disposals and fee expenses, valuing everything in one report currency; ``report``
sums them per year and writes CSV. Pure computation: no exchange, no vault.
"""
