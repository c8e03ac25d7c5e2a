"""``keyplane``: serve, manage users and keys, review risky keys, rotate the master key."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from keyplane.cli.address import address_job, server_url
from keyplane.cli.chain_cmd import chain_app
from keyplane.cli.common import console, friendly, overrides, platform, print_json, settings
from keyplane.cli.demo_cmd import demo
from keyplane.cli.funds_cmd import funds_app
from keyplane.cli.keys_cmd import keys_app, users_app
from keyplane.client.cli import register as register_client_commands
from keyplane.clock import now_ms
from keyplane.keys.review import apply_rules, review
from keyplane.settings import Settings

if TYPE_CHECKING:
    from keyplane.http.app import Background

app = typer.Typer(
    help="Keyplane: self-hosted API keys for crypto trading.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals can hold secrets (vault credentials, passphrases)
)
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(funds_app, name="funds")
app.add_typer(chain_app, name="chain")
app.command("demo")(demo)
register_client_commands(app)  # vault, keygen, portfolio, history, gains, bot (keyplane.client.cli)
master_app = typer.Typer(help="The master key that seals secrets at rest.", no_args_is_help=True)
app.add_typer(master_app, name="master-key")

DataDir = Annotated[Path | None, typer.Option(help="Data directory (KEYPLANE_DATA_DIR).")]
DbUrl = Annotated[str | None, typer.Option(help="Database URL (KEYPLANE_DATABASE_URL); default SQLite.")]
RedisUrl = Annotated[str | None, typer.Option(help="Redis URL (KEYPLANE_REDIS_URL), optional.")]


@app.callback()
def root(data_dir: DataDir = None, database_url: DbUrl = None, redis_url: RedisUrl = None) -> None:
    for name, value in (("data_dir", data_dir), ("database_url", database_url), ("redis_url", redis_url)):
        if value is not None:
            overrides[name] = value


def run_server(config: Settings, background: Sequence[Background] = ()) -> None:
    """Serve ``config`` with uvicorn until interrupted."""
    import uvicorn

    from keyplane.http.app import create_app
    from keyplane.http.connection import bounded_protocol
    from keyplane.http.serving import AnnouncingServer
    from keyplane.runtime import open_platform

    # The address file lets `funds credit` (and anything else) find this server on any port.
    recorder = address_job(server_url(config.host, config.port))
    app_ = create_app(open_platform(config), [*background, recorder])
    # Client IPs come from our own trusted-proxy logic; uvicorn would trust X-Forwarded-For from localhost.
    uv_config = uvicorn.Config(
        app_,
        host=config.host,
        port=config.port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        # Bounded request heads and a deadline to send them (keyplane.http.connection); idle
        # keep-alive connections close after 5 s. Bodies are bounded by the app's RequestLimits.
        http=bounded_protocol(config.request_timeout_seconds),
        timeout_keep_alive=5,
        # WebSockets as Binance runs them: a ping every 20 s, closed without a pong in a minute;
        # a frame over the limit closes the connection (1009), it is never read whole.
        ws="websockets-sansio",
        ws_max_size=config.ws_max_frame_bytes,
        ws_per_message_deflate=config.ws_compression,
        ws_ping_interval=config.ws_ping_interval_seconds,
        ws_ping_timeout=config.ws_ping_timeout_seconds,
    )
    server = AnnouncingServer(
        uv_config, f"Keyplane serving on http://{config.host}:{config.port}", console.print
    )
    server.run()
    if not server.started:  # e.g. the port is taken: fail as uvicorn.run does
        raise typer.Exit(3)


@app.command()
@friendly
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
    data_dir: DataDir = None,
    database_url: DbUrl = None,
    redis_url: RedisUrl = None,
) -> None:
    """Serve the API (and console) with uvicorn."""
    run_server(
        settings(host=host, port=port, data_dir=data_dir, database_url=database_url, redis_url=redis_url)
    )


@app.command("review")
@friendly
def review_cmd(
    apply: Annotated[bool, typer.Option("--apply", help="Enforce the platform rules.")] = False,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List unused, old and risky keys; with --apply, enforce the platform rules."""
    now = now_ms()
    with platform() as p:
        found = review(p.keys, now)
        done = apply_rules(p.keys, now) if apply else []
    if json_out:
        print_json({"findings": [vars(f) for f in found], "applied": [vars(f) for f in done]})
        return
    table = Table("key", "user", "label", "issue", "detail")
    for f in found:
        table.add_row(f.key_id, str(f.user_id), f.label, f.issue, f.detail)
    console.print(table if found else "no findings")
    for f in done:
        console.print(f"applied: {f.key_id} {f.issue}")


@master_app.command("rotate")
@friendly
def master_rotate() -> None:
    """Re-seal every secret under a new master key (file-based master keys)."""
    from keyplane.resealing import rotate_master_key

    config = settings()
    if config.master_key is not None:
        raise ValueError(
            "KEYPLANE_MASTER_KEY is set: rotate by unsetting it and using the key file, "
            "or re-seal with a new environment key through your secret manager"
        )
    with platform() as p:
        count = rotate_master_key(p.engine, config.data_dir)
    console.print(f"master key rotated; {count} secrets re-sealed")
