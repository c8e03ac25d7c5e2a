"""Median microseconds per signed-request verification, warm key cache, against the bare primitive.

Run: ``.venv/bin/python bench/verify.py``. Measured on a typical 11-parameter order payload as
ccxt sends it:
- parsing: ``parse_request`` (query + body merged, signature pair removed, signed-payload
  candidates). The HTTP layer does it once for every request, public routes included;
- verification: the pipeline on the parsed request (key lookup, timestamp window, signature,
  IP allowlist, permission, rate limit, last-used mark);
- both together: what a signed request costs before its handler runs.
The baselines, measured in the same run, are one bare HMAC-SHA256 hex digest of the same payload
(``hmac.new``) and one bare Ed25519 verify.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import unquote

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from keyplane.keys.cache import CachedKey, KeyCache
from keyplane.keys.masterkey import load_sealer
from keyplane.keys.model import Permission
from keyplane.keys.payload import SignedRequest
from keyplane.keys.pipeline import Limits, RouteNeeds, Verifier
from keyplane.keys.ratelimit import MemoryRateLimiter
from keyplane.keys.replay import MemoryReplayGuard
from keyplane.keys.service import Actor, KeyService
from keyplane.keys.usage import UsageRecorder
from keyplane.store.engine import make_engine, migrate
from tests.support.signing import asym_signature, ed25519_pair

ROUNDS = 7
PER_ROUND = 3000


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Drive a coroutine that never suspends (the warm in-memory path) without an event loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    raise RuntimeError("the warm path suspended; the cache is not warm")


def median_us(func: Callable[[], object], per_round: int = PER_ROUND) -> float:
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(per_round):
            func()
        samples.append((time.perf_counter_ns() - start) / per_round / 1000)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        migrate(engine)
        sealer = load_sealer(Path(tmp), None)
        service = KeyService(engine, sealer)
        user = service.create_user("bench", Actor("bench"))
        hmac_issued = service.create(user, Actor("bench"), permissions=frozenset({Permission.TRADE}))
        private, public = ed25519_pair()
        ed_key = service.create(user, Actor("bench"), public_key_pem=public).key

        async def load(key_id: str) -> CachedKey | None:
            return service.load_for_cache(key_id)

        limits = Limits(weight_per_key=10**12, weight_per_ip=10**12)
        verifier = Verifier(
            KeyCache(load), MemoryReplayGuard(), MemoryRateLimiter(), UsageRecorder(engine), limits
        )
        needs = RouteNeeds(Permission.READ, weight=1)
        now = time.time_ns() // 1_000_000
        payload = (
            f"timestamp={now}&symbol=BTCUSDT&side=BUY&newClientOrderId=x-TKT5PX2F1a2b3c4d5e6f7a8b9c0d1e"
            "&newOrderRespType=FULL&type=LIMIT&quantity=0.001&price=30000&timeInForce=GTC&recvWindow=60000"
        )
        secret = hmac_issued.secret
        assert secret is not None
        hmac_sig = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        hmac_req = SignedRequest.from_raw(
            "GET", f"{payload}&signature={hmac_sig}".encode(), b"", hmac_issued.key.key_id, "127.0.0.1"
        )
        ed_req = SignedRequest.from_raw(
            "GET",
            f"{payload}&signature={asym_signature(private, payload)}".encode(),
            b"",
            ed_key.key_id,
            "127.0.0.1",
        )
        for req in (hmac_req, ed_req):  # warm the cache (loads from the database once)
            asyncio.run(verifier.verify(req, needs))

        secret_bytes, payload_bytes = secret.encode(), payload.encode()
        raw_hmac = (
            hmac_req.method,
            f"{payload}&signature={hmac_sig}".encode(),
            b"",
            hmac_req.api_key,
            "127.0.0.1",
        )
        parse_us = median_us(lambda: SignedRequest.from_raw(*raw_hmac))
        whole_hmac = median_us(lambda: run_sync(verifier.verify(SignedRequest.from_raw(*raw_hmac), needs)))
        bare_hmac = median_us(lambda: hmac.new(secret_bytes, payload_bytes, hashlib.sha256).hexdigest())
        oneshot_hmac = median_us(lambda: hmac.digest(secret_bytes, payload_bytes, "sha256").hex())
        pipe_hmac = median_us(lambda: run_sync(verifier.verify(hmac_req, needs)))
        raw_ed = base64.b64decode(unquote(asym_signature(private, payload)))
        public_key = private.public_key()
        bare_ed = median_us(lambda: public_key.verify(raw_ed, payload_bytes), 300)
        pipe_ed = median_us(lambda: run_sync(verifier.verify(ed_req, needs)), 300)

    print(f"{'case':<34}{'median µs':>12}{'ratio':>10}")
    print(f"{'bare HMAC-SHA256 hex digest':<34}{bare_hmac:>12.2f}{1.0:>10.2f}")
    print(f"{'bare hmac.digest (one-shot) hex':<34}{oneshot_hmac:>12.2f}{oneshot_hmac / bare_hmac:>10.2f}")
    print(f"{'request parsing (every route)':<34}{parse_us:>12.2f}{parse_us / bare_hmac:>10.2f}")
    print(f"{'verification, HMAC key (warm)':<34}{pipe_hmac:>12.2f}{pipe_hmac / bare_hmac:>10.2f}")
    print(f"{'parsing + verification, HMAC':<34}{whole_hmac:>12.2f}{whole_hmac / bare_hmac:>10.2f}")
    print(f"{'bare Ed25519 verify':<34}{bare_ed:>12.2f}{1.0:>10.2f}")
    print(f"{'verification, Ed25519 key (warm)':<34}{pipe_ed:>12.2f}{pipe_ed / bare_ed:>10.2f}")


if __name__ == "__main__":
    main()
