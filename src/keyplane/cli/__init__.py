"""The ``keyplane`` command."""

from keyplane.cli.main import app

__all__ = ["app"]
