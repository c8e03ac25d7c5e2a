"""Errors of the bots (codes ``bot.*``), under the client's one tree."""

from __future__ import annotations

from keyplane.client.errors import ClientError


class BotError(ClientError):
    code = "bot"


class BadBotConfig(BotError):
    code = "bot.config"
