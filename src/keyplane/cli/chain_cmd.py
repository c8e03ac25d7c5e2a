"""``keyplane chain deposit``: someone pays one of our deposit addresses on the simulated chain.

The simulated chain lives in the database, so this command writes the transaction there directly,
with or without a running server; the exchange sees it confirm block by block and credits it
after the network's confirmations. Only addresses this exchange issued can receive.
"""

from __future__ import annotations

from typing import Annotated

import typer

from keyplane.cli.common import console, fail, friendly, platform, print_json
from keyplane.exchange.amounts import read_amount
from keyplane.exchange.errors import InvalidParameter
from keyplane.exchange.wallet.chain import SimulatedChain
from keyplane.exchange.wallet.errors import WalletError

chain_app = typer.Typer(help="The simulated chain: deposits for tests and demos.", no_args_is_help=True)


@chain_app.command("deposit")
@friendly
def deposit(
    address: Annotated[str, typer.Option(help="One of this exchange's deposit addresses.")],
    amount: Annotated[str, typer.Option(help="A positive decimal amount, e.g. 0.5.")],
    network: Annotated[
        str | None, typer.Option(help="Network code (BTC, ETH, SOL); needed if the address is on several.")
    ] = None,
    coin: Annotated[
        str | None,
        typer.Option(help="Asset, e.g. USDT; needed if the address receives several on its network."),
    ] = None,
    memo: Annotated[str, typer.Option(help="Memo (tag), on networks that use one.")] = "",
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create an incoming transaction to a deposit address on the simulated chain."""
    try:
        value = read_amount(amount)
    except InvalidParameter:
        raise ValueError(f"not a decimal amount: {amount!r}") from None
    with platform() as p:
        chain = p.wallet.chain if p.wallet is not None else None
        if not isinstance(chain, SimulatedChain):
            fail("this server's chain is not the simulated one: deposits come from the network")
            return
        try:
            tx = chain.deposit(
                address.strip(),
                value,
                network.upper() if network else None,
                coin=coin.upper() if coin else None,
                memo=memo,
            )
        except WalletError as error:
            raise ValueError(error.msg) from None
    data = {
        "txid": tx.txid,
        "network": tx.network,
        "coin": tx.coin,
        "address": tx.address,
        "amount": str(tx.amount),
        "confirmations": tx.confirmations,
        "required_confirmations": tx.required_confirmations,
        "status": tx.status.value,
    }
    if json_out:
        print_json(data)
    else:
        console.print(
            f"{tx.amount} {tx.coin} sent to {tx.address} on {tx.network}: txid {tx.txid}; "
            f"{tx.required_confirmations} confirmations to complete.",
            highlight=False,
            soft_wrap=True,
        )
