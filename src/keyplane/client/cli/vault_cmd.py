"""``keyplane vault add|list|remove|check``: exchange credentials on the user's machine.

Secrets are typed at a hidden prompt or piped on stdin, never given as options (they would land in
shell history and ``ps``). ``list`` and ``check`` never print key material, with or without --json.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from keyplane.client.cli.output import console, fail, friendly, print_json
from keyplane.client.errors import VaultMissing
from keyplane.client.privileges import BOT, EXPORTER, TRACKER, AppNeeds, KeyRights, excess
from keyplane.client.vault import Credentials, Vault, create_vault, default_path, open_vault

vault_app = typer.Typer(help="Exchange credentials, encrypted on this machine.", no_args_is_help=True)
VaultPath = Annotated[Path | None, typer.Option("--vault", help="Vault file (KEYPLANE_VAULT).")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output (never contains secrets).")]


def _prompt() -> str:
    """Ask at the terminal; with no terminal (headless, piped) ask nothing: the env var is the way."""
    if not sys.stdin.isatty():
        return ""
    return getpass.getpass("Vault passphrase: ")


def _prompt_new() -> str:
    if not sys.stdin.isatty():
        return ""
    first = getpass.getpass("New vault passphrase: ")
    if len(first) < 8:
        fail("choose a passphrase of at least 8 characters")
    if getpass.getpass("Repeat the passphrase: ") != first:
        fail("the passphrases differ; nothing was created")
    return first


def load_vault(path: Path | None = None) -> Vault:
    """Open the vault for a command: passphrase from KEYPLANE_VAULT_PASSPHRASE or a prompt."""
    return open_vault(path, prompt=_prompt)


def load_or_create(path: Path | None, backend: str | None) -> Vault:
    try:
        return load_vault(path)
    except VaultMissing:
        target = path or default_path()
        console.print(f"Creating a new vault at {target}", highlight=False)
        return create_vault(target, backend=backend, prompt=_prompt_new)


def _read_secret(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("API secret", hide_input=True))


@vault_app.command("add")
@friendly
def add(
    name: Annotated[str, typer.Argument(help="Account name, e.g. 'binance-main'.")],
    api_key: Annotated[str, typer.Option(help="The API key (its public id).")],
    exchange: Annotated[str, typer.Option(help="ccxt exchange id, or 'keyplane'.")] = "keyplane",
    url: Annotated[str | None, typer.Option(help="Base URL (required for keyplane; e.g. a testnet).")] = None,
    private_key: Annotated[
        Path | None, typer.Option(help="PEM private key file (Ed25519/RSA) instead of a secret.")
    ] = None,
    secret_stdin: Annotated[bool, typer.Option(help="Read the secret from stdin, not a prompt.")] = False,
    password: Annotated[bool, typer.Option(help="Also prompt for the exchange's API passphrase.")] = False,
    replace: Annotated[bool, typer.Option(help="Replace an account of the same name.")] = False,
    backend: Annotated[str | None, typer.Option(help="For a new vault: auto, file or keyring.")] = None,
    vault_path: VaultPath = None,
) -> None:
    """Add an account. A name left by `keyplane keygen` is completed with its API key."""
    vault = load_or_create(vault_path, backend)
    pending = vault.pending(name)
    if pending is not None:
        creds = Credentials(
            name=name,
            exchange=pending.exchange if exchange == "keyplane" else exchange,
            url=url or pending.url,
            api_key=api_key,
            private_key=pending.private_key,
        )
        replace = True
    else:
        pem = private_key.read_text() if private_key is not None else None
        creds = Credentials(
            name=name,
            exchange=exchange,
            url=url,
            api_key=api_key,
            secret=None if pem is not None else _read_secret(secret_stdin),
            private_key=pem,
            password=str(typer.prompt("API passphrase", hide_input=True)) if password else None,
        )
    vault.add(creds, replace=replace)
    console.print(f"Added {name} ({creds.exchange}, {creds.kind}) to the vault.", highlight=False)


@vault_app.command("list")
@friendly
def list_(as_json: Json = False, vault_path: VaultPath = None) -> None:
    """Accounts in the vault: names, exchanges, URLs and key kinds, never a secret."""
    vault = load_vault(vault_path)
    rows = [a.as_dict() for a in vault.accounts(include_pending=True)]
    if as_json:
        print_json({"backend": vault.backend, "accounts": rows})
        return
    table = Table("account", "exchange", "url", "signing")
    for row in rows:
        kind = row["kind"] + (" (pending: add its API key)" if row.get("pending") else "")
        table.add_row(row["name"], row["exchange"], row["url"] or "", kind)
    console.print(table)


@vault_app.command("remove")
@friendly
def remove(name: str, vault_path: VaultPath = None) -> None:
    """Forget an account (revoke its key at the exchange too)."""
    load_vault(vault_path).remove(name)
    console.print(f"Removed {name}. Revoke the key at the exchange as well if you no longer use it.")


APPS: tuple[AppNeeds, ...] = (TRACKER, EXPORTER, BOT)


def verdicts(rights: KeyRights) -> dict[str, str]:
    """For each app, ``ok`` or what the key can do too much."""
    out = {}
    for needs in APPS:
        extra = excess(rights, needs)
        out[needs.app] = "ok" if not extra else "refused: can " + ", ".join(sorted(r.value for r in extra))
    return out


def check_one(creds: Credentials) -> dict[str, Any]:
    """Ask the exchange what ``creds`` may do; a failure is a row, not an exception."""
    import ccxt

    from keyplane.client import ccxt_factory
    from keyplane.client.errors import ClientError
    from keyplane.client.privileges import fetch_rights
    from keyplane.client.redaction import redact_text

    row: dict[str, Any] = {"account": creds.name, "exchange": creds.exchange, "url": creds.url}
    try:
        rights = fetch_rights(ccxt_factory.rest(creds))
    except ClientError as error:
        return {**row, "ok": False, "error": error.message}
    except ccxt.BaseError as error:
        return {**row, "ok": False, "error": redact_text(str(error), creds.secrets().values())}
    return {**row, "ok": True, **rights.as_dict(), "apps": verdicts(rights)}


@vault_app.command("check")
@friendly
def check(
    names: Annotated[list[str] | None, typer.Argument(help="Accounts to check (default: all).")] = None,
    as_json: Json = False,
    vault_path: VaultPath = None,
) -> None:
    """Ask each exchange what each key may do, and which apps would accept it."""
    vault = load_vault(vault_path)
    rows = [check_one(vault.credentials(name)) for name in (names or vault.names())]
    if as_json:
        print_json(rows)
    else:
        table = Table("account", "can", "IP-bound", *(a.app for a in APPS))
        for row in rows:
            if not row["ok"]:
                table.add_row(row["account"], f"[red]failed: {row['error']}[/red]", "", *("" for _ in APPS))
                continue
            cells = [v if v == "ok" else f"[yellow]{v}[/yellow]" for v in row["apps"].values()]
            table.add_row(
                row["account"],
                ", ".join(row["rights"]),
                "yes" if row["ipRestricted"] else "[yellow]no[/yellow]",
                *cells,
            )
        console.print(table)
    if not all(row["ok"] for row in rows):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(vault_app, name="vault")
