"""The verification pipeline for signed requests, cheapest checks first, in DESIGN.md's order.

1 well-formed key (-2014) · 2 known and active (-2015, generic) · 3 timestamp window (-1021) ·
4 signature (-1022) · 5 replay of a state-changing request (-1021) · 6 client IP · 7 permission and
symbol (-2015, precise once the signature is proven) · 8 request weight per key and per IP (-1003,
HTTP 429) · 9 mark the key used (in memory; written in batches elsewhere).

Before the signature is proven, refusals are generic so a stranger learns nothing about a key.
Verification has no side effect on the database.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from keyplane.clock import now_ms
from keyplane.keys.cache import CachedKey, KeyCache
from keyplane.keys.errors import (
    BadParameter,
    InvalidSignature,
    IpNotAllowed,
    KeyError_,
    KeyInactive,
    MalformedKey,
    PermissionMissing,
    RateLimited,
    RequestRefused,
    SymbolNotAllowed,
    TimestampRejected,
)
from keyplane.keys.formats import is_well_formed_key_id
from keyplane.keys.model import ApiKey, Permission
from keyplane.keys.payload import Params, ParsedRequest, SignedRequest
from keyplane.keys.ratelimit import RateLimiter, retry_after_s
from keyplane.keys.replay import ReplayGuard

RECV_WINDOW = re.compile(r"^\d{1,6}(\.\d{1,3})?$")


@dataclass(frozen=True)
class RouteNeeds:
    """What a route asks of a key: one row of the HTTP layer's route table."""

    permission: Permission
    weight: int = 1
    symbol_param: str | None = "symbol"


@dataclass(slots=True)
class Verified:
    key: ApiKey
    params: Params
    used_weight: int


@dataclass(frozen=True)
class Limits:
    recv_window_default_ms: int = 5000
    recv_window_max_ms: int = 60000
    future_tolerance_ms: int = 1000
    weight_per_key: int = 6000
    weight_per_ip: int = 6000


class UsageSink(Protocol):
    def mark_used(self, key_id: str, now_ms: int) -> None: ...

    def refused(self, error: KeyError_, key_id: str | None, client_ip: str) -> None: ...


class Verifier:
    def __init__(
        self,
        cache: KeyCache,
        replay: ReplayGuard,
        limiter: RateLimiter,
        usage: UsageSink,
        limits: Limits = Limits(),
        now_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._cache = cache
        self._replay = replay
        self._limiter = limiter
        self._usage = usage
        self._limits = limits
        self._now_ms = now_ms

    async def verify(self, request: SignedRequest, needs: RouteNeeds) -> Verified:
        """Verify ``request`` for a route with ``needs``; raise a ``KeyError_`` on any refusal."""
        try:
            return await self._verify(request, needs)
        except RateLimited:
            raise
        except KeyError_ as error:
            self._usage.refused(error, request.api_key, request.client_ip)
            await self._limiter.spend(("ip:" + request.client_ip,), needs.weight, self._now_ms())
            raise

    async def _verify(self, request: SignedRequest, needs: RouteNeeds) -> Verified:
        # 1. A cached key id is well-formed by construction; check the format only on a miss.
        key_id = request.api_key or ""
        entry = self._cache.peek(key_id)
        if entry is None:
            if not is_well_formed_key_id(key_id):
                raise MalformedKey()
            entry = await self._cache.get(key_id)
        # 2. Known and active.
        parsed = request.parsed
        now = self._now_ms()
        if entry is None:
            raise RequestRefused()
        key = entry.key
        if not key.is_usable(now):
            # Tell the holder of the secret exactly why, and nobody else.
            if self._signature_ok(entry, parsed, now):
                raise KeyInactive(key.inactive_reason(now))
            raise RequestRefused()
        # 3. Timestamp window.
        timestamp, recv_window = self._timing(parsed.params)
        if timestamp >= now + self._limits.future_tolerance_ms:
            raise TimestampRejected(
                f"Timestamp for this request was {self._limits.future_tolerance_ms}ms ahead of the server's time."
            )
        if now - timestamp > recv_window:
            raise TimestampRejected("Timestamp for this request is outside of the recvWindow.")
        # 4. Signature.
        if parsed.signature is None:
            raise BadParameter(
                -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
            )
        if not self._signature_ok(entry, parsed, now):
            raise InvalidSignature()
        # 5. Replay of a state-changing request.
        if request.method != "GET":
            ttl = int(timestamp + recv_window - now) + self._limits.future_tolerance_ms
            if not await self._replay.first_use(key_id + ":" + parsed.signature, max(ttl, 1)):
                raise TimestampRejected("This request was already received: replays are refused.")
        # 6. Client IP.
        if entry.networks:
            self._check_ip(entry, request.client_ip)
        # 7. Permission and symbol.
        if needs.permission not in key.permissions:
            raise PermissionMissing(
                f"This API key has no operation privilege for this action: it needs the "
                f"'{needs.permission.value}' permission."
            )
        if key.symbols and needs.symbol_param:
            symbol = parsed.params.get(needs.symbol_param)
            if symbol is not None and symbol.upper() not in key.symbols:
                raise SymbolNotAllowed(f"This API key has no operation privilege for symbol {symbol}.")
        # 8. Request weight.
        by_key, used_weight = await self._limiter.spend(
            ("key:" + key_id, "ip:" + request.client_ip), needs.weight, now
        )
        if by_key > self._limits.weight_per_key:
            raise self._limited(self._limits.weight_per_key, "API key", now)
        if used_weight > self._limits.weight_per_ip:
            raise self._limited(self._limits.weight_per_ip, "IP", now)
        # 9. Mark used (memory only; flushed in batches).
        self._usage.mark_used(key_id, now)
        return Verified(key, parsed.params, used_weight)

    def _timing(self, params: Params) -> tuple[int | float, int | float]:
        """``timestamp`` in ms (13 digits, or 16 digits of µs) and ``recvWindow`` (up to 3 decimals)."""
        raw_ts = params.get("timestamp", "")
        digits = len(raw_ts)
        if not raw_ts.isdigit() or digits not in (13, 16):
            raise BadParameter(
                -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
            )
        timestamp = int(raw_ts) if digits == 13 else int(raw_ts) / 1000
        raw_window = params.get("recvWindow")
        if raw_window is None:
            return timestamp, self._limits.recv_window_default_ms
        if raw_window.isdigit() and len(raw_window) <= 6:
            window: int | float = int(raw_window)
        elif RECV_WINDOW.match(raw_window):
            window = float(raw_window)
        else:
            raise BadParameter(
                -1100, "Illegal characters found in parameter 'recvWindow'; legal range is '^[0-9]{1,20}$'."
            )
        if window > self._limits.recv_window_max_ms:
            raise BadParameter(-1131, f"recvWindow must be less than {self._limits.recv_window_max_ms}.")
        return timestamp, window

    @staticmethod
    def _signature_ok(entry: CachedKey, parsed: ParsedRequest, now: int) -> bool:
        if parsed.signature is None:
            return False
        verifiers = entry.verifiers
        if len(verifiers) > 1 and (entry.key.previous_until is None or now >= entry.key.previous_until):
            verifiers = verifiers[:1]
        for payload in parsed.payloads:
            for verifier in verifiers:
                try:
                    verifier.verify(payload, parsed.signature)
                    return True
                except InvalidSignature:
                    continue
        return False

    @staticmethod
    def _check_ip(entry: CachedKey, client_ip: str) -> None:
        try:
            address = ipaddress.ip_address(client_ip)
        except ValueError:
            raise IpNotAllowed(
                f"Request IP {client_ip!r} could not be read; this key has an IP allowlist."
            ) from None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not any(address in network for network in entry.networks):
            raise IpNotAllowed(f"Request IP {client_ip} is not in this API key's IP allowlist.")

    @staticmethod
    def _limited(limit: int, scope: str, now: int) -> RateLimited:
        return RateLimited(
            f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE "
            f"per {scope}. Please use WebSocket Streams for live updates to avoid polling the API.",
            retry_after_s(now),
        )

    async def charge_public(self, client_ip: str, weight: int) -> int:
        """Count an unsigned request's weight against its IP; return the weight used this minute."""
        now = self._now_ms()
        (used,) = await self._limiter.spend(("ip:" + client_ip,), weight, now)
        if used > self._limits.weight_per_ip:
            raise self._limited(self._limits.weight_per_ip, "IP", now)
        return used
