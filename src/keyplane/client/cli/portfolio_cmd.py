"""``keyplane portfolio``: every vault account's balances, valued in one currency, side by side."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from keyplane.client.cli.output import console, fail, friendly, print_json, warn
from keyplane.client.cli.vault_cmd import VaultPath, load_vault


@friendly
def portfolio(
    quote: Annotated[str, typer.Option(help="Currency to value everything in.")] = "USDT",
    account: Annotated[list[str] | None, typer.Option(help="Only these accounts (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout (no secrets).")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout.")] = False,
    html: Annotated[Path | None, typer.Option(help="Also write a one-page HTML report here.")] = None,
    days: Annotated[int, typer.Option(help="Days of daily candles for the value-over-time chart.")] = 30,
    allow_over_privileged: Annotated[
        bool, typer.Option(help="Use keys that can trade or withdraw anyway (not recommended).")
    ] = False,
    vault_path: VaultPath = None,
) -> None:
    """Balances of every vault account, fetched at once; failed accounts are shown, not hidden."""
    from keyplane.client.portfolio.fetch import read_portfolio
    from keyplane.client.portfolio.render import print_table, to_csv
    from keyplane.client.portfolio.report import html_report

    if as_json and as_csv:
        fail("choose one of --json and --csv")
    if not 0 <= days <= 1000:
        fail("--days must be between 0 and 1000")
    quote = quote.upper()
    vault = load_vault(vault_path)
    names = account or vault.names()
    if not names:
        fail("the vault has no accounts: add one with `keyplane vault add`")
    creds = [vault.credentials(name) for name in names]
    result = asyncio.run(
        read_portfolio(
            creds, quote, days=days if html else 0, allow_over_privileged=allow_over_privileged, warn=warn
        )
    )
    if as_json:
        print_json(result.as_dict())
    elif as_csv:
        sys.stdout.write(to_csv(result))
    else:
        print_table(result, console)
    if html is not None:
        html.write_text(html_report(result), encoding="utf-8")
        if not (as_json or as_csv):
            console.print(f"Report written to {html}", highlight=False)
    for failed in result.failed:
        warn(f"{failed.name}: {'refused' if failed.refused else 'failed'}: {failed.error}")
    if result.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("portfolio")(portfolio)
