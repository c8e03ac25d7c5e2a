"""What every client command shares: consoles, one-line errors without secrets, JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
import typer
from rich.console import Console
from rich.markup import escape

from keyplane.client.errors import ClientError
from keyplane.client.redaction import redact_text

console = Console()
errors = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> None:
    errors.print(f"[red]error:[/red] {escape(redact_text(message))}", highlight=False, markup=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """A loud warning on stderr (never stdout, so ``--json`` stays parseable)."""
    errors.print(f"[bold yellow]{escape(redact_text(message))}[/bold yellow]", highlight=False)


def friendly(func: F) -> F:
    """Client errors become one clear line and a non-zero exit; no traceback, no secret."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ClientError as error:
            fail(f"{error.message} [{error.code}]")
        except (OSError, ValueError) as error:
            fail(str(error))
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except (typer.Exit, click.exceptions.Abort, click.exceptions.ClickException):
            raise  # click prints these itself, without a traceback
        except Exception as error:  # noqa: BLE001 - a user sees one line, never a traceback with locals
            fail(f"unexpected {type(error).__name__}: {error}", 70)

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
