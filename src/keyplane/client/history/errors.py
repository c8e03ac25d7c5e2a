"""Errors of the history exporter (codes ``history.*``), under the client's one tree."""

from __future__ import annotations

from keyplane.client.errors import ClientError


class HistoryError(ClientError):
    code = "history"


class FetchFailed(HistoryError):
    """The exchange refused or failed a history request; the message says which and why."""

    code = "history.fetch"


class BadHistoryFile(HistoryError):
    """A CSV given to ``gains --input`` is not one of our exports."""

    code = "history.bad-file"
