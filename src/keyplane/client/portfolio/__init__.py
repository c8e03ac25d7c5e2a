"""``keyplane portfolio``: balances of every vault account, valued in one quote currency.

``fetch`` reads the exchanges (concurrently, refusing over-privileged keys), ``valuation`` prices
assets from each exchange's own tickers, ``model`` holds the result, ``render`` prints it as a
table, JSON or CSV and ``report`` writes the one-page HTML report with inline SVG charts.
"""
