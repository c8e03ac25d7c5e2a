"""Idempotent demo seeding: markets, the ``demo``, ``maker`` and ``taker`` users, their funds, a key.

Running it again creates no second user and piles up no funds: balances are topped up to their
targets, never credited twice. Each run issues one new read+trade HMAC key for ``demo`` and
revokes the oldest demo keys beyond :data:`KEEP_DEMO_KEYS`, so re-runs never hit the per-user cap.

Call it only when no server is running on the same database: the server is the exchange's writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from keyplane.exchange.amounts import ceil_to
from keyplane.exchange.markets import default_assets, default_markets
from keyplane.keys.errors import KeyManagementError
from keyplane.keys.model import KeyStatus, Permission
from keyplane.keys.service import Actor, IssuedKey
from keyplane.runtime import Platform, credit_funds

D = Decimal
DEMO_USER = "demo"
MAKER_USER = "maker"
TAKER_USER = "taker"
DEMO_KEY_LABEL = "demo"
KEEP_DEMO_KEYS = 5
ACTOR = Actor("demo-seed")

FUNDS: dict[str, dict[str, Decimal]] = {
    DEMO_USER: {"USDT": D("100000"), "BTC": D("2"), "ETH": D("30"), "SOL": D("500")},
    # The maker quotes every book; deep pockets so quotes never stop for lack of funds.
    MAKER_USER: {"USDT": D("100000000"), "BTC": D("2000"), "ETH": D("40000"), "SOL": D("1000000")},
    # The taker crosses the spread now and then so that trades, tickers and klines move.
    TAKER_USER: {"USDT": D("10000000"), "BTC": D("200"), "ETH": D("4000"), "SOL": D("100000")},
}


@dataclass(frozen=True)
class DemoUsers:
    demo: int
    maker: int
    taker: int


def ensure_user(platform: Platform, name: str) -> int:
    try:
        return platform.keys.user_id(name)
    except KeyManagementError:
        return platform.keys.create_user(name, ACTOR)


async def top_up(platform: Platform, user: str, targets: dict[str, Decimal]) -> dict[str, Decimal]:
    """Credit each asset up to its target (free + locked); returns what was credited.

    What is missing is rounded up to the asset's precision: a balance that trading (or an older
    version's fees) left with more decimals still gets a credit the ledger accepts."""
    have = {b.asset: b.free + b.locked for b in platform.exchange.balances(platform.keys.user_id(user))}
    credited: dict[str, Decimal] = {}
    for asset, target in targets.items():
        missing = ceil_to(target - have.get(asset, D(0)), platform.exchange.assets[asset].precision)
        if missing > 0:
            await credit_funds(platform, user, asset, missing, ACTOR)
            credited[asset] = missing
    return credited


async def seed(platform: Platform) -> DemoUsers:
    """Ensure the default markets, the three users and their funds."""
    platform.exchange.add_markets(default_assets(), default_markets())
    ids = {name: ensure_user(platform, name) for name in FUNDS}
    for name, targets in FUNDS.items():
        await top_up(platform, name, targets)
    return DemoUsers(ids[DEMO_USER], ids[MAKER_USER], ids[TAKER_USER])


def issue_demo_key(platform: Platform) -> IssuedKey:
    """A new read+trade HMAC key for ``demo``; the oldest live demo keys beyond the limit are revoked."""
    user_id = platform.keys.user_id(DEMO_USER)
    live = [
        k
        for k in platform.keys.list(user_id)
        if k.label == DEMO_KEY_LABEL and k.status is not KeyStatus.REVOKED
    ]
    for old in live[: max(0, len(live) - KEEP_DEMO_KEYS + 1)]:
        platform.keys.revoke(old.key_id, ACTOR, "replaced by a newer demo key")
    return platform.keys.create(
        user_id, ACTOR, label=DEMO_KEY_LABEL, permissions=frozenset({Permission.READ, Permission.TRADE})
    )
