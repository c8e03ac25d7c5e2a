"""``keyplane users`` and ``keyplane keys``: the operator's key life cycle."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from keyplane.cli.common import console, friendly, iso, key_json, parse_when, platform, print_json, read_file
from keyplane.keys.model import ApiKey, format_permissions, parse_permissions
from keyplane.keys.service import UNSET, Actor, IssuedKey

users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
keys_app = typer.Typer(help="Issue and manage API keys.", no_args_is_help=True)
OPERATOR = Actor("cli")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@users_app.command("create")
@friendly
def users_create(name: str, json_out: JsonOpt = False) -> None:
    """Create a user."""
    with platform() as p:
        user_id = p.keys.create_user(name, OPERATOR)
    if json_out:
        print_json({"id": user_id, "name": name})
    else:
        console.print(f"created user {name} (id {user_id})")


def _split(values: list[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _show(key: ApiKey, secret: str | None = None) -> None:
    table = Table(show_header=False, box=None)
    for name, value in key_json(key).items():
        table.add_row(name, str(value if not isinstance(value, list) else ",".join(value) or "-"))
    console.print(table)
    if secret:
        console.print(f"\nsecret: {secret}", highlight=False)
        console.print(
            "[bold yellow]This secret is shown once. Store it now; Keyplane cannot show it again.[/]"
        )


def _print_issued(issued: IssuedKey, json_out: bool) -> None:
    """A new or rotated key; its HMAC secret is printed this once."""
    if json_out:
        data = key_json(issued.key)
        if issued.secret:
            data["secret"] = issued.secret
        print_json(data)
    else:
        _show(issued.key, issued.secret)


@keys_app.command("create")
@friendly
def keys_create(
    user: Annotated[str, typer.Option(help="The user who owns the key.")],
    label: Annotated[str, typer.Option(help="A name to recognise the key by.")] = "",
    permissions: Annotated[str, typer.Option(help="read,trade,withdraw (read is always on).")] = "read",
    ip: Annotated[list[str] | None, typer.Option(help="Allowed IP or CIDR; repeat for more.")] = None,
    symbols: Annotated[str, typer.Option(help="Allowed symbols, e.g. BTCUSDT,ETHUSDT.")] = "",
    expires: Annotated[str | None, typer.Option(help="Expiry: YYYY-MM-DD or ISO date-time (UTC).")] = None,
    public_key: Annotated[
        Path | None, typer.Option(help="Register an Ed25519/RSA public key (PEM file).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Issue a key. HMAC keys print their secret exactly once."""
    with platform() as p:
        issued = p.keys.create(
            p.keys.user_id(user),
            OPERATOR,
            label=label,
            permissions=parse_permissions(permissions),
            ip_allowlist=_split(ip) or (),
            symbols=_split([symbols]) or (),
            expires_at=parse_when(expires),
            public_key_pem=read_file(public_key),
        )
    _print_issued(issued, json_out)


@keys_app.command("list")
@friendly
def keys_list(
    user: Annotated[str | None, typer.Option(help="Only this user's keys.")] = None, json_out: JsonOpt = False
) -> None:
    """List keys."""
    with platform() as p:
        keys = p.keys.list(p.keys.user_id(user) if user else None)
    if json_out:
        print_json([key_json(k) for k in keys])
        return
    table = Table("key", "user", "kind", "label", "permissions", "IPs", "status", "last used")
    for k in keys:
        table.add_row(
            k.key_id,
            str(k.user_id),
            k.kind.value,
            k.label,
            format_permissions(k.permissions),
            ",".join(k.ip_allowlist) or "any",
            k.status.value,
            iso(k.last_used_at) or "never",
        )
    console.print(table)


@keys_app.command("show")
@friendly
def keys_show(key: str, json_out: JsonOpt = False) -> None:
    """Show one key."""
    with platform() as p:
        found = p.keys.get(key)
    print_json(key_json(found)) if json_out else _show(found)


@keys_app.command("edit")
@friendly
def keys_edit(
    key: str,
    label: Annotated[str | None, typer.Option()] = None,
    permissions: Annotated[str | None, typer.Option(help="The new full set, e.g. read,trade.")] = None,
    ip: Annotated[list[str] | None, typer.Option(help="The new IP allowlist; repeat for more.")] = None,
    clear_ips: Annotated[bool, typer.Option("--clear-ips", help="Remove the IP allowlist.")] = False,
    symbols: Annotated[str | None, typer.Option(help="The new symbol allowlist ('' for all).")] = None,
    expires: Annotated[str | None, typer.Option(help="New expiry date.")] = None,
    no_expiry: Annotated[bool, typer.Option("--no-expiry", help="Remove the expiry.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Change a key's label, permissions, IP allowlist, symbols or expiry."""
    with platform() as p:
        updated = p.keys.edit(
            key,
            OPERATOR,
            label=label,
            permissions=parse_permissions(permissions) if permissions is not None else None,
            ip_allowlist=() if clear_ips else _split(ip),
            symbols=_split([symbols]) if symbols is not None else None,
            expires_at=None if no_expiry else (parse_when(expires) if expires else UNSET),
        )
    print_json(key_json(updated)) if json_out else _show(updated)


def _status_command(name: str, help_text: str) -> None:
    @keys_app.command(name, help=help_text)
    @friendly
    def command(key: str, reason: Annotated[str, typer.Option()] = "", json_out: JsonOpt = False) -> None:
        with platform() as p:
            if name == "enable":
                updated = p.keys.enable(key, OPERATOR)
            else:
                updated = getattr(p.keys, name)(key, OPERATOR, reason)
        print_json(key_json(updated)) if json_out else console.print(f"{key}: {updated.status.value}")


_status_command("disable", "Disable a key until it is enabled again.")
_status_command("enable", "Enable a disabled key.")
_status_command("revoke", "Revoke a key. Final: a revoked key never works again.")


@keys_app.command("rotate")
@friendly
def keys_rotate(
    key: str,
    grace: Annotated[int, typer.Option(help="Seconds the old secret or public key stays valid.")] = 0,
    public_key: Annotated[Path | None, typer.Option(help="New public key (Ed25519/RSA keys).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Give a key new material; the old one stays valid for --grace seconds."""
    with platform() as p:
        issued = p.keys.rotate(key, OPERATOR, grace, read_file(public_key))
    _print_issued(issued, json_out)
