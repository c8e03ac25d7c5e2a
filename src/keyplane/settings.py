"""One typed settings object, read from ``KEYPLANE_*`` environment variables and validated at start-up."""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set; nothing else is read from the environment."""

    model_config = SettingsConfigDict(env_prefix="KEYPLANE_", extra="ignore")

    data_dir: Path = Field(default=Path("./keyplane-data"))
    database_url: str | None = None
    redis_url: str | None = None
    master_key: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = 8765
    # Where other instances reach this one when it runs the exchange (default http://host:port;
    # set it when instances run on different machines or the host is a wildcard address).
    advertise_url: str | None = None
    # How often an instance that does not run the exchange checks whether it may take over.
    writer_poll_seconds: float = Field(default=1.0, gt=0)
    # Comma-separated CIDRs whose X-Forwarded-For is believed.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Platform rules for keys.
    trade_without_ip_days: int = 30
    unused_key_days: int = 90
    max_keys_per_user: int = 30
    # Verification.
    recv_window_default_ms: int = 5000
    recv_window_max_ms: int = 60000
    future_tolerance_ms: int = 1000
    # Rate limits: request weight per minute.
    weight_limit_per_key: int = 6000
    weight_limit_per_ip: int = 6000
    # A refusal before the signature is proven (bad signature, unknown key) weighs this much more.
    refused_request_weight: int = Field(default=10, ge=0)
    # An IP over its limit that sends this many more requests in the minute is banned (HTTP 418);
    # each repeat offence doubles the ban, from the first to the longest (Binance: 2 min to 3 days).
    ban_after_limited_requests: int = Field(default=20, ge=0)
    ip_ban_first_seconds: int = Field(default=120, gt=0)
    ip_ban_max_seconds: int = Field(default=259_200, gt=0)
    # How often an instance looks for key changes made elsewhere, in seconds.
    key_change_poll_seconds: float = 0.25
    # How often last-used times and sampled audit events are written, in seconds.
    usage_flush_seconds: float = 2.0
    # HTTP limits: the largest request body, and the time a client has to send a request's head
    # and, again, its body (a slow sender holds a connection and memory for nothing).
    request_body_max_bytes: int = Field(default=1024 * 1024, gt=0)
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    # WebSocket connections (streams and the WebSocket API), as Binance limits them.
    ws_max_age_seconds: float = Field(default=86_400.0, gt=0)
    ws_messages_per_second: int = Field(default=5, gt=0)
    ws_max_streams: int = Field(default=1024, gt=0)
    ws_max_frame_bytes: int = Field(default=64 * 1024, gt=0)
    # WebSocket connections one IP may open per 5 minutes (Binance: 300), and hold open at once.
    ws_connection_attempts_per_ip: int = Field(default=300, gt=0)
    ws_open_connections_per_ip: int = Field(default=300, gt=0)
    # The server pings every interval; a connection that has not answered a ping within the
    # timeout is closed (1011). Pongs nobody asked for do not count, as on Binance.
    ws_ping_interval_seconds: float = Field(default=20.0, gt=0)
    ws_ping_timeout_seconds: float = Field(default=60.0, gt=0)
    # permessage-deflate (RFC 7692) when a client asks for it, as Binance offers it. It costs the
    # server one compression per message per connection: with many readers, most of its CPU.
    ws_compression: bool = True
    # Open orders one account may hold on one market, and how many of them stop-loss or
    # take-profit orders (Binance's MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS filters).
    max_open_orders_per_symbol: int = Field(default=200, gt=0)
    max_open_algo_orders_per_symbol: int = Field(default=5, ge=0)
    # Open order lists (OCO, OTO, OTOCO) per account and market, and amendments (keepPriority)
    # per order (Binance's MAX_NUM_ORDER_LISTS and MAX_NUM_ORDER_AMENDS).
    max_open_order_lists_per_symbol: int = Field(default=20, ge=0)
    max_amends_per_order: int = Field(default=10, ge=0)
    # New orders one account may place in ten seconds and in a UTC day (Binance's ORDERS limits;
    # -1015 past them); 0 turns one off.
    order_limit_per_10s: int = Field(default=100, ge=0)
    order_limit_per_day: int = Field(default=200_000, ge=0)
    # Console.
    require_2fa_for_keys: bool = True
    demo_mode: bool = False
    # Wallet: the operator's account-level extended public keys (BIP-84 zpub/xpub at m/84'/0'/0',
    # BIP-44 xpub at m/44'/60'/0', BIP32-Ed25519 at m/44'/501'/0'); all three or none. Public keys
    # only: the server derives deposit addresses and can never spend. Without them, no deposits.
    # Not secret, but they reveal every deposit address: kept out of reprs and config dumps.
    wallet_xpub_btc: SecretStr | None = None
    wallet_xpub_eth: SecretStr | None = None
    wallet_xpub_sol: SecretStr | None = None
    # How long a new withdrawal address waits in the address book before withdrawals may use it.
    withdraw_address_cooling_off_seconds: int = Field(default=86_400, ge=0)
    # Withdrawals: the rolling 24-hour limit per account, valued in USDT at the exchange's prices;
    # how long an accepted withdrawal waits before it is sent (the user may cancel it meanwhile);
    # how often the writer's wallet worker looks at the chain.
    withdraw_limit_usdt_24h: Decimal = Field(default=Decimal(100_000), gt=0)
    withdraw_send_delay_seconds: float = Field(default=60.0, ge=0)
    wallet_poll_seconds: float = Field(default=1.0, gt=0)
    # The simulated chain's block time in ms for every network (unset: each network's own).
    chain_block_ms: int | None = Field(default=None, gt=0)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)
        return value

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'keyplane.db').resolve()}"

    def instance_url(self) -> str:
        """This instance's address for its peers."""
        if self.advertise_url:
            return self.advertise_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.data_dir
