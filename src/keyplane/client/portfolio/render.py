"""The portfolio printed: a rich table with totals and allocation, JSON, or CSV."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from keyplane.client.portfolio.model import Portfolio, share

CSV_COLUMNS = ["account", "exchange", "status", "asset", "amount", "price", "value", "allocation", "error"]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str | None) -> str:
    """Text from an exchange made inert in a spreadsheet (a leading ``=`` would run as a formula)."""
    value = text or ""
    return "'" + value if value.lstrip(" ").startswith(FORMULA_START) else value


def plain(number: Decimal | None) -> str:
    """A Decimal without exponent or trailing zeros; empty for None."""
    if number is None:
        return ""
    text = format(number.normalize(), "f")
    return text


def money(number: Decimal | None) -> str:
    return "-" if number is None else f"{number.quantize(Decimal('0.01')):,}"


def print_table(portfolio: Portfolio, console: Console) -> None:
    quote, total = portfolio.quote, portfolio.total
    table = Table(title=f"Portfolio in {quote}", show_footer=True)
    table.add_column("account", footer="total")
    table.add_column("asset")
    table.add_column("amount", justify="right")
    table.add_column(f"price ({quote})", justify="right")
    table.add_column(f"value ({quote})", justify="right", footer=money(total))
    table.add_column("share", justify="right", footer="100.00%" if total else "")
    for account in portfolio.accounts:
        if not account.ok:
            label = "REFUSED" if account.refused else "FAILED"
            table.add_row(account.name, f"[red]{label}[/red]", f"[red]{account.error}[/red]", "", "", "")
            table.add_section()
            continue
        for h in account.holdings:
            part = "" if h.value is None else f"{share(h.value, total)}%"
            price = "no price" if h.price is None else plain(h.price.quantize(Decimal("0.00000001")))
            table.add_row(account.name, h.asset, plain(h.amount), price, money(h.value), part)
        table.add_row(
            f"[bold]{account.name}[/bold]",
            "[bold]subtotal[/bold]",
            "",
            "",
            f"[bold]{money(account.total)}[/bold]",
            f"{share(account.total, total)}%",
        )
        table.add_section()
    console.print(table)
    allocation = Table(title="Allocation by asset")
    for heading in ("asset", "amount", f"value ({quote})", "share"):
        allocation.add_column(heading, justify="left" if heading == "asset" else "right")
    for asset, amount, value, percent in portfolio.allocation():
        allocation.add_row(asset, plain(amount), money(value), f"{percent}%")
    console.print(allocation)
    for warning in portfolio.warnings:
        console.print(f"[yellow]{warning}[/yellow]", highlight=False)


def to_csv(portfolio: Portfolio) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    total = portfolio.total
    for account in portfolio.accounts:
        if not account.ok:
            status = "refused" if account.refused else "failed"
            writer.writerow(
                [cell(account.name), cell(account.exchange), status, "", "", "", "", "", cell(account.error)]
            )
            continue
        for h in account.holdings:
            writer.writerow(
                [
                    cell(account.name),
                    cell(account.exchange),
                    "ok",
                    cell(h.asset),
                    plain(h.amount),
                    plain(h.price),
                    plain(h.value),
                    "" if h.value is None else str(share(h.value, total)),
                    "",
                ]
            )
    writer.writerow(
        ["TOTAL", "", "total", portfolio.quote, "", "", plain(total), "100.00" if total else "", ""]
    )
    return out.getvalue()
