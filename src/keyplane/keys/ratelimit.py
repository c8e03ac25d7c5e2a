"""Rate limits by request weight in fixed one-minute windows, per key and per IP, and IP bans.

Weight is counted as Binance counts it. Over the limit, an IP is told 429 until its window ends;
an IP that keeps sending while told 429 (more than ``ban_after`` requests in one window) is banned,
418, for a time that doubles with each repeat offence, from 2 minutes up to 3 days (Binance's
range). ``standing`` is the cheap check the pipeline makes before any expensive work: it does no
I/O. In memory it is the whole truth; with Redis the counters, strikes and bans are shared by every
instance, and ``standing`` is what this instance last learnt of them (each round trip for an IP
brings back its ban).

Round trips with Redis: a signed request makes exactly one, a script that checks its replay and
adds its weight to its key and its IP (``spend_signed``). Weight counted only against an IP
(public routes, refusals: ``spend_ip``) is mostly counted here and told to Redis in batches: this
instance admits up to ``slack`` weight per IP (1/64 of the IP's limit, at most 1,000) that Redis
has not been told of, and only while what it knows of the IP's total is under ``fresh_ms`` (100 ms)
old; beyond either, the request carries the untold weight to Redis and brings back the total and
the IP's ban. So with N instances sharing Redis, an IP gets at most (N - 1) x ``slack`` weight
past its limit in a window (each other instance's untold weight); one instance alone counts exactly.
A ban set by another instance is learnt here within ``fresh_ms``, or ``slack`` weight, of that IP's
traffic. An IP sending slowly (a request per ``fresh_ms`` or less) makes a round trip per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from redis.asyncio import Redis

from keyplane.keys.replay import RedisReplayGuard, ReplayGuard, is_refused, text
from keyplane.keys.roundtrips import RoundTrips, Script

WINDOW_MS = 60_000


def retry_after_s(now_ms: int) -> int:
    """Seconds until the current window ends, at least 1."""
    return max(1, (WINDOW_MS - now_ms % WINDOW_MS + 999) // 1000)


def window_end(now_ms: int) -> int:
    return now_ms - now_ms % WINDOW_MS + WINDOW_MS


@dataclass(frozen=True, slots=True)
class Block:
    """A bucket refused until ``until_ms``: over its window's limit (429), or banned (418)."""

    until_ms: int
    banned: bool


@dataclass(frozen=True)
class BanPolicy:
    ban_after: int = 20
    first_ban_ms: int = 120_000
    max_ban_ms: int = 259_200_000

    def ban_ms(self, offence: int) -> int:
        """The ``offence``-th ban (1, 2, ...) lasts twice as long as the one before, up to the maximum."""
        return min(self.first_ban_ms << min(offence - 1, 40), self.max_ban_ms)


class ReplayProbe(NamedTuple):
    """What a signed request asks the replay guard (see ``ReplayGuard.remember``).

    Immutable records made on every signed request are named tuples: a frozen dataclass costs
    three times as much to build."""

    guard: ReplayGuard
    fingerprint: str
    binding: str
    ttl_ms: int
    state_changing: bool


class SignedSpend(NamedTuple):
    """A signed request's replay check and weight: the key is charged only if nothing refused it."""

    first_seen_on: str | None  # the binding its signature was first seen with; None if new
    ip_used: int
    key_used: int | None  # None: refused (a replay, or ``refused`` was passed), the key not charged


class RateLimiter(Protocol):
    async def spend(self, buckets: tuple[str, ...], weight: int, now_ms: int) -> list[int]:
        """Add ``weight`` to each bucket in the current window; return each bucket's total."""
        ...

    async def spend_ip(self, bucket: str, weight: int, now_ms: int, limit: int) -> int:
        """Add ``weight`` to an IP's bucket, whose limit is ``limit``; return its total as known here."""
        ...

    async def spend_signed(
        self, ip_bucket: str, key_bucket: str, weight: int, now_ms: int, probe: ReplayProbe, refused: bool
    ) -> SignedSpend:
        """Remember the request's signature with ``probe``; add ``weight`` to the IP, and to the key
        unless the request is refused (``refused``: already, for another reason; or a replay)."""
        ...

    def standing(self, bucket: str, now_ms: int) -> Block | None:
        """The bucket's block, if any, as this process knows it; no I/O."""
        ...

    def over_limit(self, bucket: str, now_ms: int) -> Block:
        """Note that the bucket went over its limit: refused until its window ends."""
        ...

    async def strike(self, bucket: str, now_ms: int) -> Block:
        """Count a request sent while refused; the one too many bans the bucket."""
        ...


class _KnownBlocks:
    """The blocks this process knows of, dropped once they end."""

    def __init__(self) -> None:
        self._blocks: dict[str, Block] = {}

    def standing(self, bucket: str, now_ms: int) -> Block | None:
        block = self._blocks.get(bucket)
        if block is not None and block.until_ms <= now_ms:
            del self._blocks[bucket]
            return None
        return block

    def over_limit(self, bucket: str, now_ms: int) -> Block:
        current = self.standing(bucket, now_ms)
        if current is not None and current.banned:
            return current
        block = self._blocks[bucket] = Block(window_end(now_ms), False)
        return block

    def _learn_ban(self, bucket: str, until_ms: int) -> Block:
        block = self._blocks[bucket] = Block(until_ms, True)
        return block

    def _forget_ended(self, now_ms: int) -> None:
        self._blocks = {k: b for k, b in self._blocks.items() if b.until_ms > now_ms}


class MemoryRateLimiter(_KnownBlocks):
    def __init__(self, policy: BanPolicy = BanPolicy()) -> None:
        super().__init__()
        self._policy = policy
        self._counts: dict[str, tuple[int, int]] = {}
        self._window = 0
        self._strikes: dict[str, tuple[int, int]] = {}
        self._offences: dict[str, tuple[int, int]] = {}  # bucket -> (bans so far, forgotten at)

    async def spend(self, buckets: tuple[str, ...], weight: int, now_ms: int) -> list[int]:
        start = now_ms - now_ms % WINDOW_MS
        counts = self._counts
        if start != self._window:
            self._window = start
            self._new_window(start)
            counts = self._counts
        used = []
        for bucket in buckets:
            entry = counts.get(bucket)
            total = weight if entry is None or entry[0] != start else entry[1] + weight
            counts[bucket] = (start, total)
            used.append(total)
        return used

    async def spend_ip(self, bucket: str, weight: int, now_ms: int, limit: int) -> int:
        return (await self.spend((bucket,), weight, now_ms))[0]

    async def spend_signed(
        self, ip_bucket: str, key_bucket: str, weight: int, now_ms: int, probe: ReplayProbe, refused: bool
    ) -> SignedSpend:
        return await spend_apart(self, ip_bucket, key_bucket, weight, now_ms, probe, refused)

    def _new_window(self, start: int) -> None:
        if len(self._counts) > 100_000:
            self._counts = {k: v for k, v in self._counts.items() if v[0] == start}
        self._strikes = {k: v for k, v in self._strikes.items() if v[0] == start}
        self._forget_ended(start)
        if len(self._offences) > 10_000:
            self._offences = {k: v for k, v in self._offences.items() if v[1] > start}

    async def strike(self, bucket: str, now_ms: int) -> Block:
        current = self.standing(bucket, now_ms)
        if current is not None and current.banned:
            return current
        start = now_ms - now_ms % WINDOW_MS
        prior = self._strikes.get(bucket)
        count = prior[1] + 1 if prior is not None and prior[0] == start else 1
        if count <= self._policy.ban_after:
            self._strikes[bucket] = (start, count)
            return current if current is not None else self.over_limit(bucket, now_ms)
        self._strikes.pop(bucket, None)
        bans, forgotten_at = self._offences.get(bucket, (0, 0))
        offence = bans + 1 if forgotten_at > now_ms else 1
        duration = self._policy.ban_ms(offence)
        self._offences[bucket] = (offence, now_ms + duration + self._policy.max_ban_ms)
        return self._learn_ban(bucket, now_ms + duration)


async def spend_apart(
    limiter: RateLimiter,
    ip_bucket: str,
    key_bucket: str,
    weight: int,
    now_ms: int,
    probe: ReplayProbe,
    refused: bool,
) -> SignedSpend:
    """``spend_signed`` as two steps: the guard's own ``remember``, then ``spend``."""
    first = await probe.guard.remember(probe.fingerprint, probe.binding, probe.ttl_ms)
    if refused or is_refused(first, probe.binding, probe.state_changing):
        (ip_used,) = await limiter.spend((ip_bucket,), weight, now_ms)
        return SignedSpend(first, ip_used, None)
    key_used, ip_used = await limiter.spend((key_bucket, ip_bucket), weight, now_ms)
    return SignedSpend(first, ip_used, key_used)


COUNTER_LIFETIME_MS = WINDOW_MS + 5_000

# KEYS: strikes in this window, ban, offences. ARGV: now, strikes' lifetime, ban_after, first, max.
# Returns {1, banned until} or {0, strikes so far}. Offences are forgotten max_ban after a ban ends.
STRIKE = Script("""
local now = tonumber(ARGV[1])
local banned = redis.call('GET', KEYS[2])
if banned and tonumber(banned) > now then return {1, banned} end
local strikes = redis.call('INCR', KEYS[1])
if strikes == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if strikes <= tonumber(ARGV[3]) then return {0, strikes} end
redis.call('DEL', KEYS[1])
local offence = redis.call('INCR', KEYS[3])
local duration = math.min(tonumber(ARGV[4]) * 2 ^ (offence - 1), tonumber(ARGV[5]))
local until_ms = string.format('%d', now + duration)
redis.call('SET', KEYS[2], until_ms, 'PX', string.format('%d', duration))
redis.call('PEXPIRE', KEYS[3], string.format('%d', duration + tonumber(ARGV[5])))
return {1, until_ms}
""")

# KEYS: n counters, then the same n buckets' bans. ARGV: the counters' lifetime, then n weights.
# Returns the n totals, then the n bans (nil: none).
SPEND = Script("""
local n = #KEYS / 2
local out = {}
for i = 1, n do
  out[i] = redis.call('INCRBY', KEYS[i], ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[i], ARGV[1])
  out[n + i] = redis.call('GET', KEYS[n + i])
end
return out
""")

# A signed request: replay.REMEMBER, then its weight on the IP, and on the key unless refused
# (replay.is_refused, or ARGV[4] = 1: refused already). KEYS: the signature's entry, the IP's
# counter, the key's counter, the IP's ban. ARGV: binding, the entry's lifetime, state-changing
# (1/0), refused (1/0), IP weight, key weight, counters' lifetime.
# Returns {first binding or nil, IP total, key total or -1 (not charged), IP's ban or nil}.
ADMIT = Script("""
local previous = redis.call('GET', KEYS[1])
if not previous then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
local refused = ARGV[4] == '1' or (previous and (ARGV[3] == '1' or (previous ~= ARGV[1] and string.sub(previous, 1, 4) ~= 'GET ')))
local ip = redis.call('INCRBY', KEYS[2], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[7])
local key = -1
if not refused then
  key = redis.call('INCRBY', KEYS[3], ARGV[6])
  redis.call('PEXPIRE', KEYS[3], ARGV[7])
end
return {previous, ip, key, redis.call('GET', KEYS[4])}
""")


@dataclass(slots=True)
class _Tally:
    """A bucket's weight in the current window, as this instance knows it."""

    known: int = 0  # the total Redis last answered
    untold: int = 0  # admitted here since, not yet sent to Redis
    sending: int = 0  # admitted here, on its way to Redis
    synced_ms: int | None = field(default=None)  # when the last round trip for it left


class RedisRateLimiter(_KnownBlocks):
    """Counters, strikes and bans in Redis, shared by instances; see the module's docstring for
    what is counted here first (``slack``, ``fresh_ms``)."""

    def __init__(
        self,
        redis: Redis,
        prefix: str = "kp:rl:",
        policy: BanPolicy = BanPolicy(),
        *,
        share: int = 64,
        max_slack: int = 1000,
        fresh_ms: int = 100,
    ) -> None:
        super().__init__()
        self._redis = redis
        self._trips = RoundTrips(redis)
        self._prefix = prefix
        self._policy = policy
        self._share = share
        self._max_slack = max_slack
        self._fresh_ms = fresh_ms
        self._window = 0
        self._tallies: dict[str, _Tally] = {}

    def slack(self, limit: int) -> int:
        """Weight of an IP limited to ``limit`` that this instance may admit without telling Redis."""
        return min(limit // self._share, self._max_slack)

    async def spend(self, buckets: tuple[str, ...], weight: int, now_ms: int) -> list[int]:
        return await self._sync([(bucket, self._tally(bucket, now_ms)) for bucket in buckets], weight, now_ms)

    async def spend_ip(self, bucket: str, weight: int, now_ms: int, limit: int) -> int:
        tally = self._tally(bucket, now_ms)
        fresh = tally.synced_ms is not None and now_ms - tally.synced_ms < self._fresh_ms
        if fresh and tally.untold + tally.sending + weight <= self.slack(limit):
            tally.untold += weight
            return tally.known + tally.untold + tally.sending
        (used,) = await self._sync([(bucket, tally)], weight, now_ms)
        return used

    async def spend_signed(
        self, ip_bucket: str, key_bucket: str, weight: int, now_ms: int, probe: ReplayProbe, refused: bool
    ) -> SignedSpend:
        guard = probe.guard
        if not (isinstance(guard, RedisReplayGuard) and guard.redis is self._redis):
            return await spend_apart(self, ip_bucket, key_bucket, weight, now_ms, probe, refused)
        tally = self._tally(ip_bucket, now_ms)
        carried = self._take(tally, now_ms)
        keys = [
            guard.key(probe.fingerprint),
            self._counter(ip_bucket, now_ms),
            self._counter(key_bucket, now_ms),
            self._ban(ip_bucket),
        ]
        args: list[str | int] = [
            probe.binding,
            max(probe.ttl_ms, 1),
            int(probe.state_changing),
            int(refused),
            carried + weight,
            weight,
            COUNTER_LIFETIME_MS,
        ]
        try:
            previous, ip_total, key_total, ban = await self._trips.run(ADMIT, keys, args)
        except BaseException:
            self._untake(tally, carried)
            raise
        ip_used = self._settle(ip_bucket, tally, carried, int(ip_total), ban, now_ms)
        key_used = int(key_total)
        return SignedSpend(
            None if previous is None else text(previous), ip_used, None if key_used < 0 else key_used
        )

    async def strike(self, bucket: str, now_ms: int) -> Block:
        current = self.standing(bucket, now_ms)
        if current is not None and current.banned:
            return current
        start = now_ms - now_ms % WINDOW_MS
        policy = self._policy
        banned, value = await self._trips.run(
            STRIKE,
            [
                f"{self._prefix}strikes:{bucket}:{start}",
                self._ban(bucket),
                f"{self._prefix}offences:{bucket}",
            ],
            [now_ms, COUNTER_LIFETIME_MS, policy.ban_after, policy.first_ban_ms, policy.max_ban_ms],
        )
        if int(banned):
            return self._learn_ban(bucket, int(value))
        return current if current is not None else self.over_limit(bucket, now_ms)

    def _counter(self, bucket: str, now_ms: int) -> str:
        return f"{self._prefix}{bucket}:{now_ms - now_ms % WINDOW_MS}"

    def _ban(self, bucket: str) -> str:
        return f"{self._prefix}ban:{bucket}"

    def _tally(self, bucket: str, now_ms: int) -> _Tally:
        start = now_ms - now_ms % WINDOW_MS
        if start > self._window:
            self._window = start
            self._tallies = {}
            self._forget_ended(now_ms)
        elif start < self._window:
            return _Tally()  # timed in the window before (read before an await): counted there only
        tally = self._tallies.get(bucket)
        if tally is None:
            tally = self._tallies[bucket] = _Tally()
        return tally

    async def _sync(self, tallies: list[tuple[str, _Tally]], weight: int, now_ms: int) -> list[int]:
        """One round trip: each bucket's untold weight and ``weight``; learn totals and bans."""
        carried = [self._take(tally, now_ms) for _, tally in tallies]
        keys = [self._counter(b, now_ms) for b, _ in tallies] + [self._ban(b) for b, _ in tallies]
        try:
            answer = await self._trips.run(SPEND, keys, [COUNTER_LIFETIME_MS, *(c + weight for c in carried)])
        except BaseException:
            for (_, tally), untold in zip(tallies, carried, strict=True):
                self._untake(tally, untold)
            raise
        count = len(tallies)
        return [
            self._settle(bucket, tally, untold, int(answer[i]), answer[count + i], now_ms)
            for i, ((bucket, tally), untold) in enumerate(zip(tallies, carried, strict=True))
        ]

    @staticmethod
    def _take(tally: _Tally, now_ms: int) -> int:
        """The untold weight that a round trip leaving now carries."""
        carried, tally.untold = tally.untold, 0
        tally.sending += carried
        tally.synced_ms = now_ms
        return carried

    @staticmethod
    def _untake(tally: _Tally, carried: int) -> None:
        """The round trip failed: its untold weight is untold again."""
        tally.sending -= carried
        tally.untold += carried

    def _settle(self, bucket: str, tally: _Tally, carried: int, total: int, ban: object, now_ms: int) -> int:
        """Learn what Redis answered; return the bucket's total as known here."""
        tally.sending -= carried
        tally.known = max(tally.known, total)
        if ban is not None and int(text(ban)) > now_ms:
            self._learn_ban(bucket, int(text(ban)))
        return total + tally.untold + tally.sending
