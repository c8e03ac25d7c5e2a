"""``keyplane demo``: seed a demo exchange, print a fresh key, and serve with a live market maker."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Annotated

import typer

from keyplane.cli.address import recorded_url
from keyplane.cli.common import console, friendly, platform, settings
from keyplane.demo.marketmaker import MakerConfig, market_maker_job
from keyplane.demo.seed import DEMO_USER, FUNDS, issue_demo_key, seed
from keyplane.demo.wallet import demo_wallet_settings

CCXT_SNIPPET = """\
import ccxt

exchange = ccxt.binance({{"apiKey": "{key}", "secret": "{secret}",
                         "options": {{"fetchMarkets": {{"types": ["spot"]}}}}}})
for name, url in list(exchange.urls["api"].items()):  # point every API section at Keyplane
    if isinstance(url, str) and url.startswith("https://"):
        host = url.split("/")[2]
        exchange.urls["api"][name] = "{base}" + url[len("https://" + host):]
print(exchange.fetch_order_book("BTC/USDT"))"""


def _listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@friendly
def demo(
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory (KEYPLANE_DATA_DIR).")] = None,
    maker_interval: Annotated[
        float,
        typer.Option(min=0.05, help="Seconds between the market maker's rounds (a livelier book below 1)."),
    ] = MakerConfig.interval_seconds,
) -> None:
    """Seed demo users, funds and markets, print a new key for 'demo', and serve with a market maker."""
    from keyplane.cli.main import run_server

    config = settings(host=host, port=port, data_dir=data_dir, demo_mode=True)
    running = recorded_url(config.ensure_data_dir())
    if running is not None:
        # That server is this database's exchange writer: seeding beside it cannot work.
        raise ValueError(f"a Keyplane server already serves this data directory at {running}; stop it first")
    if _listening(config.host, config.port):
        # A running server is the exchange's one writer: seeding beside it would fork the books.
        raise ValueError(f"something already listens on {config.host}:{config.port}; stop it or pick --port")
    # The demo's own wallet keys (kept in the data directory) and a short address-book cooling-off.
    wallet = demo_wallet_settings(config)
    config = settings(host=host, port=port, data_dir=data_dir, demo_mode=True, **wallet)
    with platform(host=host, port=port, data_dir=data_dir, demo_mode=True, **wallet) as p:
        asyncio.run(seed(p))
        issued = issue_demo_key(p)
    base = f"http://{config.host}:{config.port}"
    funds = ", ".join(f"{amount} {asset}" for asset, amount in FUNDS[DEMO_USER].items())
    console.print(f"Demo user '{DEMO_USER}' holds at least {funds}.", highlight=False)
    console.print("New read+trade API key for 'demo' (the secret is shown only now):", highlight=False)
    console.print(f"  API key:    {issued.key.key_id}", highlight=False)
    console.print(f"  API secret: {issued.secret}", highlight=False)
    console.print(
        f"Wallet: deposit addresses on the console's Wallet page; new withdrawal addresses mature after "
        f"{config.withdraw_address_cooling_off_seconds} s; `keyplane chain deposit` pays an address.",
        highlight=False,
    )
    console.print("Use it with ccxt:", highlight=False)
    console.print(
        CCXT_SNIPPET.format(key=issued.key.key_id, secret=issued.secret, base=base),
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    run_server(config, [market_maker_job(config=MakerConfig(interval_seconds=maker_interval))])
