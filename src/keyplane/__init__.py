"""Keyplane: a self-hosted API-key platform for crypto trading."""

__version__ = "0.1.0"
