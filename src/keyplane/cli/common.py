"""What every subcommand shares: settings from options and environment, output, error handling."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from keyplane.exchange.errors import ExchangeError
from keyplane.keys.errors import KeyError_
from keyplane.keys.masterkey import MasterKeyError
from keyplane.keys.model import ApiKey
from keyplane.redaction import redact_text
from keyplane.runtime import Platform, open_platform
from keyplane.settings import Settings

console = Console()
errors = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])

overrides: dict[str, Any] = {}


def settings(**extra: Any) -> Settings:
    values = {**overrides, **{k: v for k, v in extra.items() if v is not None}}
    return Settings(**values)


@contextmanager
def platform(**extra: Any) -> Iterator[Platform]:
    opened = open_platform(settings(**extra))
    try:
        yield opened
    finally:
        opened.close()


def fail(message: str, code: int = 2) -> None:
    errors.print(f"[red]error:[/red] {redact_text(message)}", highlight=False)
    raise typer.Exit(code)


def friendly(func: F) -> F:
    """Turn domain and input errors into one clear line and a non-zero exit."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (KeyError_, ExchangeError, MasterKeyError, ValueError) as error:
            fail(getattr(error, "msg", None) or str(error))
        except OSError as error:
            fail(f"{error.strerror or error}: {getattr(error, 'filename', '')}")

    return wrapper  # type: ignore[return-value]


def parse_when(text: str | None) -> int | None:
    """``2027-01-31`` (midnight UTC) or an ISO date-time, to epoch milliseconds."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(text)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD or an ISO date-time)") from None
    return int(moment.timestamp() * 1000)


def iso(ms: int | None) -> str:
    return "" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "key": key.key_id,
        "user_id": key.user_id,
        "kind": key.kind.value,
        "label": key.label,
        "permissions": [p.value for p in sorted(key.permissions, key=lambda p: p.value)],
        "ip_allowlist": list(key.ip_allowlist),
        "symbols": sorted(key.symbols),
        "expires_at": iso(key.expires_at) or None,
        "status": key.status.value,
        "status_reason": key.status_reason,
        "created_at": iso(key.created_at),
        "last_used_at": iso(key.last_used_at) or None,
    }


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def read_file(path: Path | None) -> str | None:
    return None if path is None else path.read_text()
