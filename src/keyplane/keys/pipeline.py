"""The verification pipeline for signed requests, cheapest checks first, in DESIGN.md's order.

0 the IP's standing: an IP over its limit or banned is refused before any expensive work (-1003,
HTTP 429 or 418) · 1 well-formed key (-2014) · 2 known and active (-2015, generic) · 3 timestamp
window (-1021) · 4 signature (-1022) · 5 replay (-1021): a state-changing request seen before, a
signature seen on another method or path, a state-changing request signed before a memory guard
started · 6 client IP · 7 permission and symbol (-2015, precise once the signature is proven) ·
8 request weight per key and per IP (-1003, HTTP 429) · 9 mark the key used (in memory; written
in batches elsewhere).

Steps 5 and 8 are one call to the rate limiter (``spend_signed``; with Redis, one round trip): 6
and 7 are decided first, in memory, and their refusal is raised after the replay check, which
keeps its precedence; a refused request is charged to its IP only, as before.

Before the signature is proven, refusals are generic so a stranger learns nothing about a key.
Refusals count against the IP's weight too; one made before the signature is proven (malformed or
unknown key, bad signature, malformed signing parameters) weighs ``refused_weight`` more than the
route, so a flood of forgeries reaches 429, and then a ban, long before the IP's limit in requests.
Verification has no side effect on the database.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn, Protocol

from keyplane.clock import now_ms
from keyplane.keys.cache import CachedKey, KeyCache
from keyplane.keys.errors import (
    BadParameter,
    InvalidSignature,
    IpBanned,
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
from keyplane.keys.model import ApiKey, KeyKind, Permission
from keyplane.keys.payload import Params, ParsedRequest, SignedRequest
from keyplane.keys.ratelimit import Block, RateLimiter, ReplayProbe, retry_after_s
from keyplane.keys.replay import ReplayGuard, fingerprint, is_refused

# ASCII digits only: str.isdigit and \d also accept "²" and "٣", which int() and float() treat unlike.
RECV_WINDOW = re.compile(r"[0-9]{1,6}(\.[0-9]{1,3})?", re.ASCII)
REPLAYED = "This request was already received: replays are refused."


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


@dataclass(slots=True)
class _Proven:
    """A request whose signature is proven (steps 1-4), and what 6 and 7 decided of it."""

    key: ApiKey
    params: Params
    fingerprint: str
    timestamp: int | float
    recv_window: int | float
    now: int
    refusal: KeyError_ | None


@dataclass(frozen=True)
class Limits:
    recv_window_default_ms: int = 5000
    recv_window_max_ms: int = 60000
    future_tolerance_ms: int = 1000
    weight_per_key: int = 6000
    weight_per_ip: int = 6000
    # Added to the route's weight for a refusal made before the signature is proven.
    refused_weight: int = 10


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

    @property
    def limits(self) -> Limits:
        return self._limits

    async def verify(self, request: SignedRequest, needs: RouteNeeds) -> Verified:
        """Verify ``request`` for a route with ``needs``; raise a ``KeyError_`` on any refusal."""
        ip_bucket = "ip:" + request.client_ip
        now = self._now_ms()
        if (block := self._limiter.standing(ip_bucket, now)) is not None:
            await self._refuse_blocked(ip_bucket, block, now)
        try:
            proven = await self._prove(request, needs, now)
        except KeyError_ as error:
            self._usage.refused(error, request.api_key, request.client_ip)
            weight = needs.weight + (self._limits.refused_weight if _unproven(error) else 0)
            now = self._now_ms()
            used = await self._limiter.spend_ip(ip_bucket, weight, now, self._limits.weight_per_ip)
            self._check_ip_weight(ip_bucket, used, now)
            error.used_weight = used
            raise
        return await self._admit(request, needs, ip_bucket, proven)

    async def verify_key_only(self, api_key: str | None, client_ip: str, weight: int) -> ApiKey:
        """Binance's USER_STREAM security (listenKey routes): the API key, no signature. The key
        must be known and usable and the IP allowed; refusals are generic, as before a signature."""
        ip_bucket, now = "ip:" + client_ip, self._now_ms()
        if (block := self._limiter.standing(ip_bucket, now)) is not None:
            await self._refuse_blocked(ip_bucket, block, now)
        try:
            if not is_well_formed_key_id(api_key or ""):
                raise MalformedKey()
            entry = await self._cache.get(api_key or "")
            if entry is None or not entry.key.is_usable(now):
                raise RequestRefused()
            if entry.networks:
                self._check_ip(entry, client_ip)
        except KeyError_ as error:
            self._usage.refused(error, api_key, client_ip)
            weight += self._limits.refused_weight
            raise
        finally:
            used = await self._limiter.spend_ip(ip_bucket, weight, now, self._limits.weight_per_ip)
            self._check_ip_weight(ip_bucket, used, now)
        return entry.key

    async def verify_session(
        self, key_id: str, params: Params, client_ip: str, needs: RouteNeeds
    ) -> Verified:
        """A request on a WebSocket API session logged on with this key's signature: no signature
        again, every other step (usable key, timestamp window, IP, permission, symbol, weight)."""
        ip_bucket, now = "ip:" + client_ip, self._now_ms()
        if (block := self._limiter.standing(ip_bucket, now)) is not None:
            await self._refuse_blocked(ip_bucket, block, now)
        entry = await self._cache.get(key_id)
        if entry is None or not entry.key.is_usable(now):
            raise RequestRefused()
        timestamp, recv_window = self._timing(params)
        if timestamp >= now + self._limits.future_tolerance_ms or now - timestamp > recv_window:
            raise TimestampRejected("Timestamp for this request is outside of the recvWindow.")
        if entry.networks:
            self._check_ip(entry, client_ip)
        self._check_permission(entry.key, needs, params)
        ip_used, key_used = await self._limiter.spend((ip_bucket, "key:" + key_id), needs.weight, now)
        if key_used > self._limits.weight_per_key:
            raise self._limited(self._limits.weight_per_key, "API key", now)
        self._check_ip_weight(ip_bucket, ip_used, now)
        self._usage.mark_used(key_id, now)
        return Verified(entry.key, params, ip_used)

    async def _prove(self, request: SignedRequest, needs: RouteNeeds, now: int) -> _Proven:
        """Steps 1-4, the memory guard's start, and 6-7 decided (not raised)."""
        # 1. A cached key id is well-formed by construction; check the format only on a miss.
        key_id = request.api_key or ""
        entry = self._cache.peek(key_id)
        if entry is None:
            if not is_well_formed_key_id(key_id):
                raise MalformedKey()
            entry = await self._cache.get(key_id)
            now = self._now_ms()  # a load from the database takes time
        # 2. Known and active.
        parsed = request.parsed
        if entry is None:
            raise RequestRefused()
        key = entry.key
        if not key.is_usable(now):
            # Tell the holder of the secret exactly why, and nobody else.
            if self._proven_payload(entry, parsed, now) is not None:
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
        payload = self._proven_payload(entry, parsed, now)
        if payload is None:
            raise InvalidSignature()
        # 5, first half: a memory guard knows nothing of requests accepted before it started (by a
        # process that stopped at the latest when this one started, and accepted timestamps up to
        # ``future_tolerance_ms`` ahead).
        if (
            request.method != "GET"
            and timestamp < self._replay.remembers_since_ms + self._limits.future_tolerance_ms
        ):
            raise TimestampRejected(
                "This request was signed before the server started: a state-changing request signed "
                "before a restart is refused as a possible replay. Sign it again with a new timestamp."
            )
        hmac_signature = parsed.signature if key.kind is KeyKind.HMAC else None
        seen = fingerprint(key_id, payload, hmac_signature)
        # 6. Client IP. 7. Permission and symbol.
        refusal: KeyError_ | None = None
        try:
            if entry.networks:
                self._check_ip(entry, request.client_ip)
            self._check_permission(key, needs, parsed.params)
        except KeyError_ as error:
            refusal = error
        return _Proven(key, parsed.params, seen, timestamp, recv_window, now, refusal)

    async def _admit(
        self, request: SignedRequest, needs: RouteNeeds, ip_bucket: str, proven: _Proven
    ) -> Verified:
        """5, second half: the replay check, with 8: the request's weight (one call)."""
        now, key_id = proven.now, proven.key.key_id
        state_changing = request.method != "GET"
        binding = request.method + " " + request.path
        ttl = int(proven.timestamp + proven.recv_window - now) + self._limits.future_tolerance_ms
        probe = ReplayProbe(self._replay, proven.fingerprint, binding, max(ttl, 1), state_changing)
        spent = await self._limiter.spend_signed(
            ip_bucket, "key:" + key_id, needs.weight, now, probe, proven.refusal is not None
        )
        refusal = _replay_refusal(spent.first_seen_on, binding, state_changing) or proven.refusal
        if refusal is not None:
            self._usage.refused(refusal, request.api_key, request.client_ip)
            self._check_ip_weight(ip_bucket, spent.ip_used, now)
            refusal.used_weight = spent.ip_used
            raise refusal
        assert spent.key_used is not None  # charged, since nothing refused the request
        if spent.key_used > self._limits.weight_per_key:
            limited = self._limited(self._limits.weight_per_key, "API key", now)
            limited.used_weight = spent.ip_used
            raise limited
        self._check_ip_weight(ip_bucket, spent.ip_used, now)
        # 9. Mark used (memory only; flushed in batches).
        self._usage.mark_used(key_id, now)
        return Verified(proven.key, proven.params, spent.ip_used)

    @staticmethod
    def _check_permission(key: ApiKey, needs: RouteNeeds, params: Params) -> None:
        if needs.permission not in key.permissions:
            raise PermissionMissing(
                f"This API key has no operation privilege for this action: it needs the "
                f"'{needs.permission.value}' permission."
            )
        if key.symbols and needs.symbol_param:
            symbol = params.get(needs.symbol_param)
            if symbol is not None and symbol.upper() not in key.symbols:
                raise SymbolNotAllowed(f"This API key has no operation privilege for symbol {symbol}.")

    def _timing(self, params: Params) -> tuple[int | float, int | float]:
        """``timestamp`` in ms (13 digits, or 16 digits of µs) and ``recvWindow`` (up to 3 decimals)."""
        raw_ts = params.get("timestamp", "")
        if not (raw_ts.isascii() and raw_ts.isdigit() and len(raw_ts) in (13, 16)):
            raise BadParameter(
                -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
            )
        timestamp = int(raw_ts) if len(raw_ts) == 13 else int(raw_ts) / 1000
        raw_window = params.get("recvWindow")
        if raw_window is None:
            return timestamp, self._limits.recv_window_default_ms
        if not RECV_WINDOW.fullmatch(raw_window):
            raise BadParameter(
                -1100, "Illegal characters found in parameter 'recvWindow'; legal range is '^[0-9]{1,20}$'."
            )
        window: int | float = float(raw_window) if "." in raw_window else int(raw_window)
        if window > self._limits.recv_window_max_ms:
            raise BadParameter(-1131, f"recvWindow must be less than {self._limits.recv_window_max_ms}.")
        return timestamp, window

    @staticmethod
    def _proven_payload(entry: CachedKey, parsed: ParsedRequest, now: int) -> bytes | None:
        """The candidate payload that the signature verifies for this key, or None."""
        if parsed.signature is None:
            return None
        verifiers = entry.verifiers
        if len(verifiers) > 1 and (entry.key.previous_until is None or now >= entry.key.previous_until):
            verifiers = verifiers[:1]
        for payload in parsed.payloads:
            for verifier in verifiers:
                try:
                    verifier.verify(payload, parsed.signature)
                    return payload
                except InvalidSignature:
                    continue
        return None

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

    def _refusal(self, block: Block, now: int) -> RateLimited:
        if block.banned:
            return IpBanned(block.until_ms, max(1, (block.until_ms - now + 999) // 1000))
        return self._limited(self._limits.weight_per_ip, "IP", now)

    async def _refuse_blocked(self, ip_bucket: str, block: Block, now: int) -> NoReturn:
        """Refuse an IP with a ``block`` (its standing, which every request looks up first without
        I/O): banned, or over its limit and still sending, which is a strike (I/O only here)."""
        if not block.banned:
            block = await self._limiter.strike(ip_bucket, now)
        raise self._refusal(block, now)

    def _check_ip_weight(self, ip_bucket: str, used: int, now: int) -> None:
        """After spending: refuse if the IP went over its limit or (learnt from Redis) is banned."""
        block = self._limiter.over_limit(ip_bucket, now) if used > self._limits.weight_per_ip else None
        if block is None:
            block = self._limiter.standing(ip_bucket, now)
            if block is None or not block.banned:
                return
        refusal = self._refusal(block, now)
        refusal.used_weight = used
        raise refusal

    async def charge_unreadable(self, client_ip: str, weight: int) -> int:
        """Count a request refused before it could be read (malformed parameters) as an unproven
        refusal, so a flood of garbage meets the same 429 and 418 as a flood of bad signatures.
        Returns the IP's weight used this minute."""
        now = self._now_ms()
        bucket = "ip:" + client_ip
        if (block := self._limiter.standing(bucket, now)) is not None:
            await self._refuse_blocked(bucket, block, now)
        used = await self._limiter.spend_ip(
            bucket, weight + self._limits.refused_weight, now, self._limits.weight_per_ip
        )
        self._check_ip_weight(bucket, used, now)
        return used

    async def charge_public(self, client_ip: str, weight: int) -> int:
        """Count an unsigned request's weight against its IP; return the weight used this minute."""
        now = self._now_ms()
        bucket = "ip:" + client_ip
        if (block := self._limiter.standing(bucket, now)) is not None:
            await self._refuse_blocked(bucket, block, now)
        used = await self._limiter.spend_ip(bucket, weight, now, self._limits.weight_per_ip)
        self._check_ip_weight(bucket, used, now)
        return used


def _replay_refusal(first_seen_on: str | None, binding: str, state_changing: bool) -> KeyError_ | None:
    """Step 5's refusal of a signature seen before, if ``replay.is_refused`` says so."""
    if first_seen_on is None or not is_refused(first_seen_on, binding, state_changing):
        return None
    if first_seen_on != binding:
        return TimestampRejected(
            f"This signature was already used for {first_seen_on}: a signed request is valid "
            "for one method and path only."
        )
    return TimestampRejected(REPLAYED)


def _unproven(error: KeyError_) -> bool:
    """A refusal made before the signature was proven: anyone can send these, as fast as they like."""
    return type(error) is RequestRefused or isinstance(error, (MalformedKey, InvalidSignature, BadParameter))
