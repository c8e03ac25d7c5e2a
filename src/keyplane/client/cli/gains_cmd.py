"""``keyplane gains``: realized gains per disposal and per year from the accounts' history."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import typer

from keyplane.client.cli.apps_common import BadOption
from keyplane.client.cli.history_cmd import Accounts, Override, PageSize, Since, Until, write_output
from keyplane.client.cli.output import console, errors, friendly, warn

METHODS = ("fifo", "lifo", "hifo", "acb")


@friendly
def gains(
    method: Annotated[str, typer.Option(help="fifo, lifo, hifo or acb (average cost).")] = "fifo",
    fees_in_basis: Annotated[
        bool,
        typer.Option(
            "--fees-in-basis/--fees-separate", help="Fees raise basis / lower proceeds, or are expenses."
        ),
    ] = True,
    currency: Annotated[
        str, typer.Option(help="Report currency; trades against it give the prices.")
    ] = "USDT",
    input: Annotated[
        Path | None,
        typer.Option("--input", "-i", help="A `history export --format csv` file instead of the vault."),
    ] = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Write the per-disposal CSV here ('-' for stdout).")
    ] = None,
    since: Since = None,
    until: Until = None,
    account: Accounts = None,
    page_size: PageSize = 1000,
    allow_over_privileged: Override = False,
) -> None:
    """Realized gains per disposal and per year, with fees paid in the quote, base or a third asset."""
    from rich.table import Table

    from keyplane.client.gains.candles import CandlePrices
    from keyplane.client.gains.engine import compute
    from keyplane.client.gains.lots import Method
    from keyplane.client.gains.prices import HistoryPrices, PriceSource
    from keyplane.client.gains.report import by_year, plain, write_csv
    from keyplane.client.history.formats import read_ours

    if method not in METHODS:
        raise BadOption(f"--method must be one of {', '.join(METHODS)}")
    report = currency.upper()
    fallback: PriceSource | None = None
    if input is not None:
        with input.open(encoding="utf-8", newline="") as handle:
            records = read_ours(handle)
    else:
        from keyplane.client.cli.history_cmd import fetch_with_progress, span_of

        collected = fetch_with_progress(account, span_of(since, until), page_size, allow_over_privileged)
        records = [r for h in collected.histories for r in h.records]
        fallback = CandlePrices(collected.exchanges, report)
    result = compute(
        records,
        method=Method(method),
        report=report,
        prices=HistoryPrices(records, report, fallback),
        fees_in_basis=fees_in_basis,
    )
    if csv is not None:
        buffer = io.StringIO()
        write_csv(result, buffer)
        write_output(buffer.getvalue(), csv)
    table = Table(
        title=f"Realized gains in {report} ({method.upper()}, fees {'in basis' if fees_in_basis else 'separate'})"
    )
    for column in ("year", "disposals", "proceeds", "cost basis", "gains", "fees separate", "net"):
        table.add_column(column, justify="right")
    for y in by_year(result):
        table.add_row(
            str(y.year), str(y.disposals), plain(y.proceeds), plain(y.basis), plain(y.gains),
            plain(y.fees_separate), plain(y.net),
        )  # fmt: skip
    (errors if csv is not None and str(csv) == "-" else console).print(table)
    for message in result.warnings:
        warn(message)


def register(app: typer.Typer) -> None:
    app.command("gains")(gains)
