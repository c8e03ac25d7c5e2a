"""The exchange core: markets, double-entry ledger, order books, matching and market data.

Plain Python over SQLAlchemy; the HTTP layer calls :class:`keyplane.exchange.service.Exchange`.
"""
