"""``keyplane history export``: every trade, deposit, withdrawal and fee of every vault account."""

from __future__ import annotations

import io
import os
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from keyplane.client.cli.apps_common import BadOption, parse_time, vault_accounts
from keyplane.client.cli.output import errors, friendly, warn
from keyplane.client.history.errors import FetchFailed

FORMATS = ("koinly", "cointracking", "csv")

Accounts = Annotated[
    list[str] | None, typer.Option("--account", "-a", help="Vault account (repeat); default all.")
]
Since = Annotated[
    str | None, typer.Option(help="From this UTC date or time (YYYY-MM-DD); default 2017-07-01.")
]
Until = Annotated[str | None, typer.Option(help="Up to this UTC date (inclusive) or time; default now.")]
PageSize = Annotated[
    int, typer.Option(help="Records asked per request (the exchange caps it).", min=1, max=1000)
]
Override = Annotated[
    bool,
    typer.Option("--allow-over-privileged", help="Use keys that can trade or withdraw (not recommended)."),
]


def span_of(since: str | None, until: str | None):  # type: ignore[no-untyped-def]
    from keyplane.client.history.fetch import DEFAULT_SINCE_MS, Span

    start = parse_time(since, "--since")
    end = parse_time(until, "--until", end_of_day=True)
    span = Span(DEFAULT_SINCE_MS if start is None else start, int(time.time() * 1000) if end is None else end)
    if span.until_ms < span.since_ms:
        raise BadOption("--until is before --since")
    return span


def fetch_with_progress(accounts: list[str] | None, span, page: int, override: bool):  # type: ignore[no-untyped-def]
    """Fetch every account under a rich progress bar; a failed account stops the command."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    from keyplane.client.history.collect import collect

    chosen = vault_accounts(accounts)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[found]} records"),
        console=errors, transient=True,
    ) as bar:  # fmt: skip
        tasks = {c.name: bar.add_task(c.name, total=None, found=0) for c in chosen}

        def progress(account: str, what: str, found: int) -> None:
            bar.update(tasks[account], description=f"{account}: {what}", found=found, advance=1)

        collected = collect(
            chosen, span, page=page, progress=progress, allow_over_privileged=override, warn=warn
        )
    for history in collected.histories:
        if history.skipped_pending:
            errors.print(f"{history.account}: {history.skipped_pending} transfers not completed, left out")
    if collected.failed:
        listed = "; ".join(f"{h.account}: {h.error}" for h in collected.failed)
        raise FetchFailed(f"history incomplete, nothing written ({listed})")
    return collected


def write_output(text: str, output: Path | None) -> None:
    """Standard output, or a file replaced atomically so a failed run leaves the old one whole."""
    if output is None or str(output) == "-":
        typer.echo(text, nl=False)
        return
    fd, temporary = tempfile.mkstemp(prefix=".export-", dir=output.parent if output.parent.exists() else None)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@friendly
def export(
    format: Annotated[str, typer.Option("--format", "-f", help="koinly, cointracking or csv.")] = "csv",
    since: Since = None,
    until: Until = None,
    account: Accounts = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write; default stdout.")
    ] = None,
    page_size: PageSize = 1000,
    allow_over_privileged: Override = False,
) -> None:
    """Export every trade, deposit, withdrawal and fee of the vault accounts as CSV."""
    from keyplane.client.history import formats
    from keyplane.client.history.records import Kind, sort_key

    if format not in FORMATS:
        raise BadOption(f"--format must be one of {', '.join(FORMATS)}")
    collected = fetch_with_progress(account, span_of(since, until), page_size, allow_over_privileged)
    records = sorted((r for h in collected.histories for r in h.records), key=sort_key)
    buffer = io.StringIO()
    formats.write(records, format, buffer)
    write_output(buffer.getvalue(), output)
    for history in collected.histories:
        counts = {k: sum(1 for r in history.records if r.kind is k) for k in Kind}
        errors.print(
            f"{history.account}: {counts[Kind.TRADE]} trades, {counts[Kind.DEPOSIT]} deposits, "
            f"{counts[Kind.WITHDRAWAL]} withdrawals",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    history_app = typer.Typer(help="Account history of every vault account.", no_args_is_help=True)
    history_app.command("export")(export)
    app.add_typer(history_app, name="history")
