"""``keyplane funds credit``: put test or demo funds into an account, through the running server.

The serving process is the exchange's one writer, so the command asks it (operator route, token
from the data directory): at ``--server``, else where the data directory's server recorded its
address (:mod:`keyplane.cli.address`), else at the configured host and port. When no server
answers, nothing else holds the books and the command writes the ledger itself.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import httpx
import typer

from keyplane.cli.address import recorded_url, server_url
from keyplane.cli.common import console, friendly, platform, print_json, settings
from keyplane.exchange.amounts import read_amount
from keyplane.exchange.errors import InvalidParameter
from keyplane.keys.service import Actor
from keyplane.runtime import credit_funds, load_operator_token

funds_app = typer.Typer(help="Credit funds for tests and demos.", no_args_is_help=True)


@funds_app.command("credit")
@friendly
def credit(
    user: Annotated[str, typer.Option(help="The user to credit.")],
    asset: Annotated[str, typer.Option(help="Asset code, e.g. USDT.")],
    amount: Annotated[str, typer.Option(help="A positive decimal amount.")],
    server: Annotated[
        str | None,
        typer.Option(help="URL of the running server (default: the one serving this data directory)."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Credit an account from the external account; an audited ledger entry."""
    try:
        value = read_amount(amount)
    except InvalidParameter:
        raise ValueError(f"not a decimal amount: {amount!r}") from None
    config = settings()
    data_dir = config.ensure_data_dir()
    url = server or recorded_url(data_dir) or server_url(config.host, config.port)
    token = load_operator_token(data_dir)
    try:
        response = httpx.post(
            f"{url}/v1/operator/funds/credit",
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
            json={"user": user, "asset": asset.upper(), "amount": str(value)},
        )
    except httpx.ConnectError:
        response = None
    if response is not None:
        data = response.json()
        if response.status_code != 200:
            raise ValueError(data.get("msg", "the server refused the credit"))
    else:
        with platform() as p:
            # no server answers: a short-lived exchange in this process writes the credit
            balance = asyncio.run(credit_funds(p, user, asset.upper(), value, Actor("cli")))
        data = {"asset": balance.asset, "free": str(balance.free), "locked": str(balance.locked)}
    if json_out:
        print_json(data)
    else:
        console.print(
            f"{user}: {data['asset']} free {data['free']}, locked {data['locked']}", highlight=False
        )
