"""Wires settings into running parts: engine, sealer, key service, verifier and background tasks.

Used by the HTTP app and the CLI so both see the same configuration the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy import Connection, Engine

from keyplane.clock import now_ms
from keyplane.cluster.channel import PURPOSE, Channel
from keyplane.cluster.gateway import Gateway
from keyplane.exchange.errors import ExchangeUnavailable
from keyplane.exchange.models import Balance
from keyplane.exchange.open_limits import OpenOrderLimits
from keyplane.exchange.order_rate import OrderRateLimits
from keyplane.exchange.service import Exchange
from keyplane.exchange.wallet.address_book import AddressBook
from keyplane.exchange.wallet.addresses import AddressDeriver, OperatorXpubs
from keyplane.exchange.wallet.chain import SimulatedChain
from keyplane.exchange.wallet.errors import ExtendedKeyRefused
from keyplane.exchange.wallet.issuing import DepositAddresses
from keyplane.exchange.wallet.networks import DEFAULT_NETWORKS
from keyplane.exchange.wallet.parts import WalletParts
from keyplane.exchange.wallet.worker import WalletWorker
from keyplane.identity import IdentityService
from keyplane.keys.cache import CachedKey, KeyCache
from keyplane.keys.masterkey import load_sealer
from keyplane.keys.pipeline import Limits, Verifier
from keyplane.keys.policy import PlatformRules
from keyplane.keys.ratelimit import BanPolicy, MemoryRateLimiter, RateLimiter, RedisRateLimiter
from keyplane.keys.replay import MemoryReplayGuard, RedisReplayGuard, ReplayGuard
from keyplane.keys.sealing import Sealer
from keyplane.keys.service import Actor, KeyService
from keyplane.keys.usage import UsageRecorder
from keyplane.keys.watcher import KeyChangeWatcher, RedisChangePublisher
from keyplane.settings import Settings
from keyplane.store import key_repo
from keyplane.store.engine import make_engine, migrate
from keyplane.store.writer_lock import Deposed, WriterLock, claim, current_writer, fence, try_acquire
from keyplane.streams.service import StreamLimits, Streams

log = logging.getLogger(__name__)


@dataclass
class Platform:
    """The key platform as one process sees it."""

    settings: Settings
    engine: Engine
    sealer: Sealer = field(repr=False)
    keys: KeyService
    identity: IdentityService
    # The wallet (issue #9): deposit addresses, address book, chain; built by open_platform.
    wallet: WalletParts | None = None
    # The CLI takes the writer lock on first use (its key commands must not rebuild order books);
    # a server elects in the background instead (:meth:`lead`) and forwards until it wins.
    elect_on_demand: bool = True
    _exchange: Exchange | None = field(default=None, repr=False)
    _exchange_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _writer: WriterLock | None = field(default=None, repr=False)
    _deposed: bool = field(default=False, repr=False)

    @property
    def operator_token(self) -> str:
        """The token operator commands present to a running server; created 0600 on first use."""
        return load_operator_token(self.settings.data_dir)

    @property
    def order_rate_limits(self) -> OrderRateLimits:
        """The ORDERS limits the writer enforces (any instance can tell them, writer or not)."""
        return OrderRateLimits(self.settings.order_limit_per_10s, self.settings.order_limit_per_day)

    @property
    def exchange(self) -> Exchange:
        """The exchange; one writer per database (see DESIGN.md), rebuilt from the database on start."""
        if not self.runs_exchange and not (self.elect_on_demand and self.lead("")):
            raise ExchangeUnavailable()
        exchange = self._exchange
        assert exchange is not None
        return exchange

    @property
    def runs_exchange(self) -> bool:
        """This process holds the writer lock and has not been fenced off by a successor."""
        return self._exchange is not None and not self._deposed

    def lead(self, url: str) -> bool:
        """Take the writer lock if it is free, record ``url`` for the gateways, and build the exchange.

        Blocking (database); true if this process runs the exchange afterwards."""
        with self._exchange_lock:  # two threads must never build two writers
            if self.runs_exchange:
                return True
            self._step_down()
            writer = try_acquire(self.engine)
            if writer is None:
                return False
            try:
                # Claim before reading: a batch the last writer commits after this is fenced off,
                # one it committed before is in the state read below.
                epoch = claim(self.engine, url)
                limits = OpenOrderLimits(
                    orders=self.settings.max_open_orders_per_symbol,
                    algo_orders=self.settings.max_open_algo_orders_per_symbol,
                    order_lists=self.settings.max_open_order_lists_per_symbol,
                    amends_per_order=self.settings.max_amends_per_order,
                )
                exchange = Exchange(
                    self.engine,
                    fence=self._fence(epoch),
                    open_limits=limits,
                    order_rate=self.order_rate_limits,
                )
            except BaseException:
                writer.release()
                raise
            self._writer, self._exchange, self._deposed = writer, exchange, False
            return True

    def _fence(self, epoch: int) -> Callable[[Connection], None]:
        def check(conn: Connection) -> None:
            try:
                fence(conn, epoch)
            except Deposed:
                self._deposed = True
                log.error("another instance has taken over the exchange; this one stops writing")
                raise

        return check

    def _step_down(self) -> None:
        if self._exchange is not None:
            self._exchange.close()  # once a batch in flight has landed
            self._exchange = None
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def close(self) -> None:
        """Release the exchange writer lock and the database connections."""
        with self._exchange_lock:
            self._step_down()
        self.engine.dispose()


def load_operator_token(data_dir: Path) -> str:
    path = data_dir / "operator.token"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


async def credit_funds(
    platform: Platform, user: str | int, asset: str, amount: Decimal, actor: Actor
) -> Balance:
    """Credit a user's account (by name or id) from outside (tests, demos), with an audit event."""
    user_id = user if isinstance(user, int) else await asyncio.to_thread(platform.keys.user_id, user)
    balance = await platform.exchange.credit(user_id, asset, amount, actor.name)

    def audit() -> None:
        key_repo.record_audit(
            platform.engine,
            actor=actor.name,
            action="funds.credit",
            user_id=user_id,
            key_id=None,
            source_ip=actor.source_ip,
            detail={"asset": asset, "amount": str(amount)},
        )

    await asyncio.to_thread(audit)
    return balance


def build_wallet(settings: Settings, engine: Engine) -> WalletParts:
    """The wallet's parts from settings; deposit addresses only if all three extended keys are set.

    A bad or private extended key stops the start with a clear error (never echoing the key)."""
    given = (settings.wallet_xpub_btc, settings.wallet_xpub_eth, settings.wallet_xpub_sol)
    xpubs = [k.get_secret_value().strip() if k is not None else "" for k in given]
    addresses = None
    if any(xpubs):
        if not all(xpubs):
            raise ValueError(
                "set all three wallet extended public keys "
                "(KEYPLANE_WALLET_XPUB_BTC, KEYPLANE_WALLET_XPUB_ETH, KEYPLANE_WALLET_XPUB_SOL) or none"
            )
        try:
            deriver = AddressDeriver(OperatorXpubs(bitcoin=xpubs[0], ethereum=xpubs[1], solana=xpubs[2]))
        except ExtendedKeyRefused as error:
            raise ValueError(f"wallet settings: {error.msg}") from None
        addresses = DepositAddresses(engine, deriver, DEFAULT_NETWORKS)
    cooling_off_ms = settings.withdraw_address_cooling_off_seconds * 1000
    return WalletParts(
        networks=DEFAULT_NETWORKS,
        addresses=addresses,
        book=AddressBook(engine, DEFAULT_NETWORKS, cooling_off_ms=cooling_off_ms),
        chain=SimulatedChain(
            engine,
            DEFAULT_NETWORKS,
            block_interval_ms=(
                {n.code: settings.chain_block_ms for n in DEFAULT_NETWORKS.networks()}
                if settings.chain_block_ms
                else None
            ),
        ),
    )


def open_platform(settings: Settings, run_migrations: bool = True) -> Platform:
    settings.ensure_data_dir()
    engine = make_engine(settings.resolved_database_url())
    if run_migrations:
        migrate(engine)
    env_key = settings.master_key.get_secret_value() if settings.master_key else None
    sealer = load_sealer(settings.data_dir, env_key)
    rules = PlatformRules(
        settings.trade_without_ip_days, settings.unused_key_days, settings.max_keys_per_user
    )
    announce = RedisChangePublisher(settings.redis_url) if settings.redis_url else None
    keys = KeyService(engine, sealer, rules, announce)
    identity = IdentityService(engine, sealer.seal, sealer.unseal)
    return Platform(settings, engine, sealer, keys, identity, wallet=build_wallet(settings, engine))


@dataclass
class ServerParts:
    """The per-process state of a serving instance: caches, guards and background tasks."""

    platform: Platform
    cache: KeyCache
    verifier: Verifier
    usage: UsageRecorder
    watcher: KeyChangeWatcher
    replay: ReplayGuard
    channel: Channel
    gateway: Gateway
    redis: Redis | None = None
    streams: Streams | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _wallet_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.streams is not None:
            await self.streams.start()
        await self.watcher.start()
        self.platform.elect_on_demand = False
        await self._try_to_lead()
        self._tasks.append(asyncio.create_task(self._flush_loop()))
        self._tasks.append(asyncio.create_task(self._lead_loop()))

    async def stop(self) -> None:
        if self.streams is not None:
            await self.streams.stop()
        await self.watcher.stop()
        self._stop_wallet()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.gateway.close()
        await asyncio.to_thread(self.usage.flush)
        if self.redis is not None:
            await self.redis.aclose()

    async def _try_to_lead(self) -> None:
        url = self.platform.settings.instance_url()
        try:
            if await asyncio.to_thread(self.platform.lead, url):
                log.info("this instance runs the exchange; gateways forward to %s", url)
                if isinstance(self.replay, MemoryReplayGuard):
                    # Requests the last writer executed are not in this memory: like a restart,
                    # refuse state changes signed before now (clients sign again).
                    self.replay.remembers_since_ms = max(self.replay.remembers_since_ms, now_ms())
                self._start_wallet()
            if self.streams is not None and self.platform.runs_exchange:
                self.streams.attach(self.platform.exchange)
        except Exception:
            log.exception("taking over the exchange failed; trying again")

    def _start_wallet(self) -> None:
        """The wallet's clock runs where the exchange runs, and only there."""
        wallet, settings = self.platform.wallet, self.platform.settings
        if wallet is None or (self._wallet_task is not None and not self._wallet_task.done()):
            return
        worker = WalletWorker(
            self.platform.exchange,
            self.platform.engine,
            wallet.chain,
            wallet.networks,
            int(settings.withdraw_send_delay_seconds * 1000),
        )
        self._wallet_task = asyncio.create_task(worker.run(settings.wallet_poll_seconds))
        wallet.credits_deposits = wallet.sends_withdrawals = True

    def _stop_wallet(self) -> None:
        if self._wallet_task is not None:
            self._wallet_task.cancel()
            self._wallet_task = None
        if self.platform.wallet is not None:
            self.platform.wallet.credits_deposits = self.platform.wallet.sends_withdrawals = False

    async def _lead_loop(self) -> None:
        """A gateway takes over the exchange as soon as the writer's lock is free (it died)."""
        while True:
            await asyncio.sleep(self.platform.settings.writer_poll_seconds)
            if not self.platform.runs_exchange:
                self._stop_wallet()  # deposed: the successor runs the wallet's clock
                await self._try_to_lead()

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.platform.settings.usage_flush_seconds)
            try:
                await asyncio.to_thread(self.usage.flush)
            except Exception:
                log.exception("writing last-used times failed")


def build_server_parts(platform: Platform) -> ServerParts:
    settings = platform.settings
    # A full pool makes a command wait for a connection (up to 5 s), never fail at once: redis-py's
    # default pool refuses past 100 connections, which a burst of requests reached.
    redis = (
        Redis(
            connection_pool=BlockingConnectionPool.from_url(settings.redis_url, max_connections=64, timeout=5)
        )
        if settings.redis_url
        else None
    )
    replay: ReplayGuard = RedisReplayGuard(redis) if redis else MemoryReplayGuard()
    bans = BanPolicy(
        settings.ban_after_limited_requests,
        settings.ip_ban_first_seconds * 1000,
        settings.ip_ban_max_seconds * 1000,
    )
    limiter: RateLimiter = RedisRateLimiter(redis, policy=bans) if redis else MemoryRateLimiter(bans)

    async def load(key_id: str) -> CachedKey | None:
        return await asyncio.to_thread(platform.keys.load_for_cache, key_id)

    cache = KeyCache(load)
    # A change made in this process (the console) reaches its own cache at once, not at the next poll.
    platform.keys.on_change(cache.invalidate)
    usage = UsageRecorder(platform.engine)
    limits = Limits(
        recv_window_default_ms=settings.recv_window_default_ms,
        recv_window_max_ms=settings.recv_window_max_ms,
        future_tolerance_ms=settings.future_tolerance_ms,
        weight_per_key=settings.weight_limit_per_key,
        weight_per_ip=settings.weight_limit_per_ip,
        refused_weight=settings.refused_request_weight,
    )
    verifier = Verifier(cache, replay, limiter, usage, limits)
    watcher = KeyChangeWatcher(platform.engine, cache, settings.key_change_poll_seconds, redis)
    channel = Channel(platform.sealer.derived_keys(PURPOSE))
    gateway = Gateway(channel, lambda: current_writer(platform.engine), settings.instance_url())
    stream_limits = StreamLimits(
        max_age_s=settings.ws_max_age_seconds,
        messages_per_second=settings.ws_messages_per_second,
        max_streams=settings.ws_max_streams,
        connection_attempts=settings.ws_connection_attempts_per_ip,
        open_connections=settings.ws_open_connections_per_ip,
    )
    streams = Streams.build(platform.engine, cache, redis, stream_limits)
    return ServerParts(platform, cache, verifier, usage, watcher, replay, channel, gateway, redis, streams)
