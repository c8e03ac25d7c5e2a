"""``keyplane bot grid`` and ``keyplane bot dca``: unattended bots on a trade-only key."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from keyplane.client.bot.errors import BadBotConfig
from keyplane.client.cli.apps_common import vault_accounts
from keyplane.client.cli.output import friendly, warn

Account = Annotated[str, typer.Option("--account", "-a", help="The vault account the bot trades with.")]
Symbol = Annotated[str, typer.Option(help="Market, e.g. BTC/USDT.")]
Name = Annotated[
    str | None, typer.Option(help="Tag in client order ids (1-12 letters/digits); default from the settings.")
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Read the exchange, place and cancel nothing.")]
Keep = Annotated[bool, typer.Option("--keep-orders", help="On stop, leave the bot's open orders in place.")]
Poll = Annotated[float, typer.Option(help="Seconds between rounds when no stream wakes the bot.", min=0.2)]
Streams = Annotated[
    bool, typer.Option("--streams/--no-streams", help="Use the order stream where there is one.")
]
Weight = Annotated[int, typer.Option(help="The exchange's request weight per minute; pause above 80 %.")]
Override = Annotated[
    bool, typer.Option("--allow-over-privileged", help="Use a key that can withdraw (not recommended).")
]


@dataclass(frozen=True)
class Options:
    """What both bots take besides their strategy's settings."""

    name: str | None
    dry_run: bool
    keep_orders: bool
    poll: float
    streams: bool
    weight_limit: int
    allow_over_privileged: bool


DURATION = re.compile(r"^(\d+)([smhd])$")
UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def _decimal(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BadBotConfig(f"{option} {text!r} is not a number") from None
    if not value.is_finite():
        raise BadBotConfig(f"{option} must be a finite number")
    return value


def _duration_ms(text: str) -> int:
    found = DURATION.match(text)
    if found is None:
        raise BadBotConfig("--every is a number and a unit: 30s, 15m, 4h or 1d")
    return int(found.group(1)) * UNIT_MS[found.group(2)]


def _logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("%(asctime)sZ %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    bot_log = logging.getLogger("keyplane.bot")
    bot_log.handlers[:] = [handler]
    bot_log.setLevel(logging.INFO)
    bot_log.propagate = False


async def _run(
    account: str,
    symbol: str,
    make: Any,
    identity: tuple[object, ...],
    strategy_letter: str,
    opts: Options,
) -> None:
    from keyplane.client import ccxt_factory
    from keyplane.client.bot import ids, runner
    from keyplane.client.bot.venue import Venue
    from keyplane.client.privileges import BOT, check_account_async, missing

    (credentials,) = vault_accounts([account])
    exchange = ccxt_factory.async_rest(credentials)
    pro = None
    try:
        rights = await check_account_async(
            exchange, BOT, credentials.name, allow_over_privileged=opts.allow_over_privileged, warn=warn
        )
        lacking = missing(rights, BOT) if rights is not None else frozenset()
        if lacking:
            raise BadBotConfig(
                f"the key of {credentials.name!r} cannot {', '.join(sorted(r.value for r in lacking))}: "
                "a bot needs a key with read and trade rights (and nothing more)"
            )
        await exchange.load_markets()
        if symbol not in exchange.markets:
            raise BadBotConfig(f"{credentials.name} has no market {symbol!r}")
        bot_prefix = ids.prefix(strategy_letter, opts.name, credentials.name, symbol, *identity)
        venue = Venue(exchange, bot_prefix, dry_run=opts.dry_run, weight_limit=opts.weight_limit)
        if opts.streams:
            pro = ccxt_factory.pro(credentials)
            if not ccxt_factory.has_streams(pro):
                await pro.close()
                pro = None
        logging.getLogger("keyplane.bot").info(
            "bot %s on %s %s starting (prefix %s%s)",
            strategy_letter, credentials.name, symbol, bot_prefix, ", dry run" if opts.dry_run else "",
        )  # fmt: skip
        finished = await runner.run(
            make(venue), venue, symbol, poll_seconds=opts.poll, keep_orders=opts.keep_orders, pro=pro
        )
        if not finished:
            raise BadBotConfig(f"the exchange refused the key of {credentials.name!r}; the bot stopped")
    finally:
        await exchange.close()
        if pro is not None:
            await pro.close()


def _go(coro: Any) -> None:
    import ccxt

    try:
        asyncio.run(coro)
    except ccxt.BaseError as failed:
        raise BadBotConfig(f"the exchange refused: {type(failed).__name__}: {str(failed)[:200]}") from None


@friendly
def grid(
    account: Account,
    symbol: Symbol,
    lower: Annotated[str, typer.Option(help="Lowest grid price.")],
    upper: Annotated[str, typer.Option(help="Highest grid price.")],
    levels: Annotated[int, typer.Option(help="Number of price levels.")],
    amount: Annotated[str, typer.Option(help="Base asset per order.")],
    name: Name = None,
    dry_run: DryRun = False,
    keep_orders: Keep = False,
    poll: Poll = 5.0,
    streams: Streams = True,
    weight_limit: Weight = 6000,
    allow_over_privileged: Override = False,
) -> None:
    """Keep buys below and sells above the price on a fixed grid of levels."""
    from keyplane.client.bot.grid import Grid, GridConfig

    config = GridConfig(
        symbol=symbol, lower=_decimal(lower, "--lower"), upper=_decimal(upper, "--upper"), levels=levels,
        amount=_decimal(amount, "--amount"),
    )  # fmt: skip
    config.validate()
    _logging()
    identity = (config.lower, config.upper, config.levels, config.amount)
    opts = Options(name, dry_run, keep_orders, poll, streams, weight_limit, allow_over_privileged)
    _go(_run(account, symbol, lambda venue: Grid(config, venue), identity, "g", opts))


@friendly
def dca(
    account: Account,
    symbol: Symbol,
    cost: Annotated[str, typer.Option(help="Quote asset spent per buy.")],
    every: Annotated[str, typer.Option(help="Period between buys: 30s, 15m, 4h, 1d.")],
    count: Annotated[int | None, typer.Option(help="Stop after this many buys (over every run).")] = None,
    name: Name = None,
    dry_run: DryRun = False,
    keep_orders: Keep = False,
    poll: Poll = 5.0,
    streams: Streams = True,
    weight_limit: Weight = 6000,
    allow_over_privileged: Override = False,
) -> None:
    """Buy for a fixed amount of the quote asset once per period."""
    from keyplane.client.bot.dca import Dca, DcaConfig

    config = DcaConfig(
        symbol=symbol, cost=_decimal(cost, "--cost"), every_ms=_duration_ms(every), count=count
    )
    config.validate()
    _logging()
    opts = Options(name, dry_run, keep_orders, poll, streams, weight_limit, allow_over_privileged)
    _go(_run(account, symbol, lambda venue: Dca(config, venue), (config.cost, config.every_ms), "d", opts))


def register(app: typer.Typer) -> None:
    bot_app = typer.Typer(help="Trading bots for a trade-only key.", no_args_is_help=True)
    bot_app.command("grid")(grid)
    bot_app.command("dca")(dca)
    app.add_typer(bot_app, name="bot")
