"""``keyplane keygen ed25519 NAME``: a key pair made here, the private key kept in the vault."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keyplane.client.cli.output import console, friendly, print_json
from keyplane.client.cli.vault_cmd import VaultPath, load_or_create
from keyplane.client.keygen import ed25519_pair

keygen_app = typer.Typer(help="Make API key pairs on this machine.", no_args_is_help=True)


@keygen_app.command("ed25519")
@friendly
def ed25519(
    name: Annotated[str, typer.Argument(help="Vault account name for the new key.")],
    url: Annotated[str | None, typer.Option(help="The Keyplane server (or exchange) URL.")] = None,
    exchange: Annotated[str, typer.Option(help="ccxt exchange id, or 'keyplane'.")] = "keyplane",
    public_key_out: Annotated[
        Path | None, typer.Option(help="Also write the public key to this file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print {account, publicKey} as JSON.")] = False,
    backend: Annotated[str | None, typer.Option(help="For a new vault: auto, file or keyring.")] = None,
    vault_path: VaultPath = None,
) -> None:
    """Create an Ed25519 pair, keep the private key in the vault, print the public key."""
    vault = load_or_create(vault_path, backend)
    pair = ed25519_pair()
    vault.add_pending(name, exchange, url, pair.private_pem)
    if public_key_out is not None:
        public_key_out.write_text(pair.public_pem)
    if as_json:
        print_json({"account": name, "publicKey": pair.public_pem})
        return
    console.print(pair.public_pem, end="", highlight=False, markup=False)
    console.print(
        f"\nThe private key is in the vault as '{name}' (waiting for its API key).\n"
        "Paste the public key above into the console (API management -> create key -> public key),\n"
        "or run `keyplane keys create --public-key FILE` on the server, then:\n"
        f"  keyplane vault add {name} --api-key <the API key shown>",
        highlight=False,
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(keygen_app, name="keygen")
