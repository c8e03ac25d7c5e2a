"""Errors of the gains calculator (codes ``gains.*``), under the client's one tree."""

from __future__ import annotations

from keyplane.client.errors import ClientError


class GainsError(ClientError):
    code = "gains"


class NoPrice(GainsError):
    """An asset could not be valued in the report currency at a moment the calculation needs."""

    code = "gains.no-price"
