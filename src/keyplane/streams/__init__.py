"""Real-time fan-out: exchange events become Binance stream messages (no web framework here)."""
