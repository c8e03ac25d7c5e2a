"""The client's commands, usable as ``keyplane <command>`` or, without the server installed,
``keyplane-client <command>``.

Each ``*_cmd`` module exposes ``register(app)``, which adds its commands to a Typer app. Modules
import ccxt and other heavy libraries inside their commands, so registering costs little.
"""

from __future__ import annotations

from importlib import import_module

import typer

COMMAND_MODULES = ("vault_cmd", "keygen_cmd", "portfolio_cmd", "history_cmd", "gains_cmd", "bot_cmd")


def register(app: typer.Typer) -> None:
    """Add every client command module present in this install to ``app``."""
    for name in COMMAND_MODULES:
        qualified = f"keyplane.client.cli.{name}"
        try:
            module = import_module(qualified)
        except ModuleNotFoundError as missing:
            if missing.name == qualified:  # a command another part of the client has not shipped
                continue
            raise
        hook = getattr(module, "register", None)
        if hook is not None:
            hook(app)


app = typer.Typer(
    help="Keyplane client: vault, keys, portfolio, history, gains, bots.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals can hold credentials
)
register(app)
