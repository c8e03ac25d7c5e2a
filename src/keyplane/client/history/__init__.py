"""Account history: every trade, deposit, withdrawal and fee of every vault account.

``records`` holds the one record type the exporter and the gains calculator share; ``fetch`` pages
through an exchange's limits with ccxt; ``formats`` writes Koinly, CoinTracking and our own CSV
(and reads our CSV back, so ``keyplane gains`` can work from an export).
"""
