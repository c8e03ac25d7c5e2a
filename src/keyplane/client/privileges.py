"""What a key may do, asked of the exchange, against what an app needs.

A portfolio tracker that holds a key able to withdraw turns one stolen laptop into stolen funds.
So every app declares the rights it needs (``AppNeeds``), asks the exchange what the key may do
(Keyplane and Binance answer ``GET /sapi/v1/account/apiRestrictions``) and refuses a key that can
do more, with a message on how to make a safer one. ``allow_over_privileged`` overrides the refusal
for people who know why; the app then warns loudly on every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from keyplane.client.errors import OverPrivilegedKey, PrivilegesUnknown


class Right(str, Enum):
    """A capability a key may hold, in the exchange-neutral words the messages use."""

    READ = "read"
    TRADE = "trade"
    WITHDRAW = "withdraw"
    TRANSFER = "transfer"  # internal / universal transfers move funds out of this account
    MARGIN = "margin"
    FUTURES = "futures"
    OPTIONS = "options"


# Binance's apiRestrictions flags, one row per right (Keyplane answers the same fields).
BINANCE_FLAGS: dict[str, Right] = {
    "enableReading": Right.READ,
    "enableSpotAndMarginTrading": Right.TRADE,
    "enableWithdrawals": Right.WITHDRAW,
    "enableInternalTransfer": Right.TRANSFER,
    "permitsUniversalTransfer": Right.TRANSFER,
    "enableMargin": Right.MARGIN,
    "enableFutures": Right.FUTURES,
    "enableVanillaOptions": Right.OPTIONS,
    "enablePortfolioMarginTrading": Right.MARGIN,
}


OFF = (None, False, 0, "false", "False", "0", "")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRights:
    """The rights the exchange reports for a key, and whether it is bound to IP addresses."""

    rights: frozenset[Right]
    ip_restricted: bool
    symbols: tuple[str, ...] = ()
    expires_at: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rights": sorted(r.value for r in self.rights),
            "ipRestricted": self.ip_restricted,
            "symbols": list(self.symbols),
            "expiresAt": self.expires_at,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AppNeeds:
    """The rights an app needs; anything beyond them makes a key over-privileged for it."""

    app: str
    needs: frozenset[Right]


TRACKER = AppNeeds(app="portfolio", needs=frozenset({Right.READ}))
EXPORTER = AppNeeds(app="history export", needs=frozenset({Right.READ}))
BOT = AppNeeds(app="bot", needs=frozenset({Right.READ, Right.TRADE}))

ADVICE = {
    Right.TRADE: "untick trading ('Enable Spot & Margin Trading'; on Keyplane leave out 'trade')",
    Right.WITHDRAW: "untick withdrawals ('Enable Withdrawals'; on Keyplane leave out 'withdraw')",
    Right.TRANSFER: "untick internal and universal transfers",
    Right.MARGIN: "untick margin trading",
    Right.FUTURES: "untick futures",
    Right.OPTIONS: "untick options",
    Right.READ: "tick reading",
}


def parse_restrictions(payload: dict[str, Any]) -> KeyRights:
    """``KeyRights`` from an apiRestrictions answer; Keyplane's exact policy wins when present."""
    keyplane = payload.get("keyplane")
    # Fail closed: anything but an explicit "off" (false, "false", 0, absent) counts as granted.
    rights = {right for flag, right in BINANCE_FLAGS.items() if payload.get(flag) not in OFF}
    symbols: tuple[str, ...] = ()
    expires_at = None
    if isinstance(keyplane, dict):
        named = {str(p) for p in keyplane.get("permissions") or []}
        rights |= {Right(p) for p in named if p in Right._value2member_map_}
        symbols = tuple(str(s) for s in keyplane.get("symbols") or [])
        expires_at = keyplane.get("expiresAt")
    return KeyRights(
        rights=frozenset(rights),
        ip_restricted=bool(payload.get("ipRestrict")),
        symbols=symbols,
        expires_at=expires_at if isinstance(expires_at, int) else None,
    )


def fetch_rights(exchange: Any) -> KeyRights:
    """Ask a (synchronous) ccxt exchange what its key may do."""
    if not _speaks_binance(exchange):
        raise PrivilegesUnknown(
            f"{getattr(exchange, 'id', 'this exchange')} does not say what a key may do, so Keyplane "
            "cannot check it; make sure the key is read-only (or trade-only for a bot)"
        )
    return parse_restrictions(exchange.sapi_get_account_apirestrictions())


async def fetch_rights_async(exchange: Any) -> KeyRights:
    """Ask an asyncio ccxt exchange what its key may do."""
    if not _speaks_binance(exchange):
        raise PrivilegesUnknown(
            f"{getattr(exchange, 'id', 'this exchange')} does not say what a key may do, so Keyplane "
            "cannot check it; make sure the key is read-only (or trade-only for a bot)"
        )
    return parse_restrictions(await exchange.sapi_get_account_apirestrictions())


def _speaks_binance(exchange: Any) -> bool:
    return hasattr(exchange, "sapi_get_account_apirestrictions")


def excess(rights: KeyRights, needs: AppNeeds) -> frozenset[Right]:
    """The rights the key has beyond what the app needs."""
    return rights.rights - needs.needs


def missing(rights: KeyRights, needs: AppNeeds) -> frozenset[Right]:
    return needs.needs - rights.rights


def refusal_message(account: str, needs: AppNeeds, extra: frozenset[Right]) -> str:
    listed = ", ".join(sorted(r.value for r in extra))
    steps = "; ".join(ADVICE[r] for r in sorted(extra, key=lambda r: r.value))
    wanted = "+".join(sorted(r.value for r in needs.needs))
    return (
        f"{needs.app} refuses account {account!r}: its key can also {listed}, and {needs.app} needs only "
        f"{wanted}. A leaked copy of this key could do all of that. Make a safer key: {steps}; "
        f"bind it to your IP address. On Keyplane: `keyplane keys create --permissions "
        f"{','.join(sorted(r.value for r in needs.needs))} --ip <your IP>`, then `keyplane vault add` it. "
        f"To use this key anyway, pass --allow-over-privileged (not recommended)."
    )


def enforce(
    rights: KeyRights,
    needs: AppNeeds,
    account: str,
    *,
    allow_over_privileged: bool = False,
    warn: Callable[[str], None] | None = None,
) -> None:
    """Raise ``OverPrivilegedKey`` when the key can do more than ``needs``; with the override, warn."""
    extra = excess(rights, needs)
    if not extra:
        return
    message = refusal_message(account, needs, extra)
    if not allow_over_privileged:
        raise OverPrivilegedKey(message)
    if warn is not None:
        listed = ", ".join(sorted(r.value for r in extra))
        warn(
            f"WARNING: account {account!r} has a key that can {listed}; {needs.app} is using it only "
            f"because --allow-over-privileged was given. Anyone who copies this key can {listed}."
        )


def _go_on_unknown(
    unknown: PrivilegesUnknown, allow_over_privileged: bool, warn: Callable[[str], None] | None
) -> None:
    """An exchange that cannot say what a key may do: refused, unless the user overrode it (loudly)."""
    if not allow_over_privileged:
        raise PrivilegesUnknown(unknown.message + "; pass --allow-over-privileged to go on") from None
    if warn is not None:
        warn(f"WARNING: {unknown.message}; going on because --allow-over-privileged was given.")


def check_account(
    exchange: Any,
    needs: AppNeeds,
    account: str,
    *,
    allow_over_privileged: bool = False,
    warn: Callable[[str], None] | None = None,
) -> KeyRights | None:
    """Fetch and enforce in one call; an exchange that cannot tell is refused unless overridden."""
    try:
        rights = fetch_rights(exchange)
    except PrivilegesUnknown as unknown:
        _go_on_unknown(unknown, allow_over_privileged, warn)
        return None
    enforce(rights, needs, account, allow_over_privileged=allow_over_privileged, warn=warn)
    return rights


async def check_account_async(
    exchange: Any,
    needs: AppNeeds,
    account: str,
    *,
    allow_over_privileged: bool = False,
    warn: Callable[[str], None] | None = None,
) -> KeyRights | None:
    """``check_account`` for asyncio ccxt exchanges."""
    try:
        rights = await fetch_rights_async(exchange)
    except PrivilegesUnknown as unknown:
        _go_on_unknown(unknown, allow_over_privileged, warn)
        return None
    enforce(rights, needs, account, allow_over_privileged=allow_over_privileged, warn=warn)
    return rights
