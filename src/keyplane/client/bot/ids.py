"""Client order ids: how a bot recognises its own orders after a restart.

Binance (and Keyplane) accept 1-36 characters of ``A-Z a-z 0-9 . : / _ -``. A bot's prefix is
``kp`` + strategy letter + a tag: ``--name`` when given, else six hex digits of a hash of the
account, market and settings, so the same command line finds the same orders again and two bots
with different settings never adopt each other's orders.
"""

from __future__ import annotations

import hashlib
import re
import time

from keyplane.client.bot.errors import BadBotConfig

TAG = re.compile(r"^[A-Za-z0-9]{1,12}$")


def prefix(strategy: str, name: str | None, *identity: object) -> str:
    if name is not None:
        if not TAG.match(name):
            raise BadBotConfig("--name is 1-12 letters or digits")
        tag = name
    else:
        tag = hashlib.sha256("|".join(map(str, identity)).encode()).hexdigest()[:6]
    return f"kp{strategy}{tag}-"


def grid_id(bot_prefix: str, level: int, side: str, now_ms: int | None = None) -> str:
    """``<prefix><level><b|s><time in base 36>``: the level is readable back, the time makes it unique."""
    stamp = _base36(now_ms if now_ms is not None else time.time_ns() // 1_000_000)
    return f"{bot_prefix}{level:03d}{side[0]}{stamp}"


def grid_level(bot_prefix: str, client_id: str) -> int | None:
    if not client_id.startswith(bot_prefix):
        return None
    rest = client_id[len(bot_prefix) :]
    return int(rest[:3]) if len(rest) > 4 and rest[:3].isdigit() else None


def dca_id(bot_prefix: str, slot: int) -> str:
    """One id per time slot: asking the exchange for it says whether that slot's buy happened."""
    return f"{bot_prefix}{slot}"


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out
