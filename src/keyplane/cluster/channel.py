"""The authenticated channel on which a gateway hands a request it has already checked to the writer.

Only the instance that holds the exchange writer lock runs the sequencer; every other instance
(a gateway) verifies the API key itself, then forwards the request. The writer must believe what
the gateway proved (this key signed it, this is the client's IP, this weight was charged), so the
forwarded envelope is signed with HMAC-SHA256 under a key both derive from the master key
(:meth:`keyplane.keys.sealing.Sealer.derived_keys`): no one without the master key can forge one.

An envelope is the signed metadata line (JSON) followed by the original body. The signature covers
both. An envelope is accepted once, within ``MAX_SKEW_MS`` of the time it was made, so a captured
envelope cannot be replayed (and the Binance replay guard has already seen its signature).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from keyplane.clock import now_ms

PURPOSE = b"forwarding/v1"
SIGNATURE_HEADER = "x-keyplane-forward-signature"
MAX_SKEW_MS = 10_000
MAX_META_BYTES = 128 * 1024


class ChannelError(Exception):
    """An envelope that is not genuine, is stale, or was seen before. The message is for logs only."""


@dataclass(frozen=True, kw_only=True)
class Forwarded:
    """What the gateway proved about the original request, and the request itself."""

    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    client_ip: str
    key_id: str | None = None  # the API key whose signature the gateway verified
    weight: int | None = None  # the weight it charged (X-MBX-USED-WEIGHT-1M)
    operator: bool = False  # the gateway checked the operator token
    at: int = 0
    nonce: str = field(default_factory=lambda: secrets.token_hex(16))

    def _meta(self) -> dict[str, object]:
        return {
            "m": self.method,
            "p": self.path,
            "q": self.query.decode("latin-1"),
            "h": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in self.headers],
            "ip": self.client_ip,
            "k": self.key_id,
            "w": self.weight,
            "o": self.operator,
            "t": self.at,
            "n": self.nonce,
        }

    @staticmethod
    def _from_meta(meta: dict[str, object]) -> Forwarded:
        headers = meta["h"]
        assert isinstance(headers, list)
        key_id, weight = meta["k"], meta["w"]
        return Forwarded(
            method=str(meta["m"]),
            path=str(meta["p"]),
            query=str(meta["q"]).encode("latin-1"),
            headers=[(str(k).encode("latin-1"), str(v).encode("latin-1")) for k, v in headers],
            client_ip=str(meta["ip"]),
            key_id=None if key_id is None else str(key_id),
            weight=None if weight is None else int(str(weight)),
            operator=meta["o"] is True,
            at=int(str(meta["t"])),
            nonce=str(meta["n"]),
        )


class Channel:
    """Seals envelopes with the current key; opens those sealed with any key it knows, once each."""

    def __init__(self, keys: Sequence[bytes], clock: Callable[[], int] = now_ms) -> None:
        if not keys:
            raise ValueError("the channel needs a key")
        self._keys = list(keys)
        self._clock = clock
        self._seen: dict[str, float] = {}  # nonce -> monotonic time it may be forgotten

    def __repr__(self) -> str:
        return f"Channel(keys={len(self._keys)})"

    def seal(self, forwarded: Forwarded, body: bytes) -> tuple[bytes, str]:
        """The envelope to send, and the value of its signature header."""
        stamped = dataclasses.replace(forwarded, at=self._clock())
        envelope = json.dumps(stamped._meta(), separators=(",", ":")).encode() + b"\n" + body
        return envelope, self._sign(self._keys[0], envelope)

    def open(self, envelope: bytes, signature: str) -> tuple[Forwarded, bytes]:
        """The forwarded request and its body, or :class:`ChannelError`."""
        if not any(hmac.compare_digest(self._sign(key, envelope), signature) for key in self._keys):
            raise ChannelError("bad signature")
        line, sep, body = envelope.partition(b"\n")
        if not sep or len(line) > MAX_META_BYTES:
            raise ChannelError("no metadata line")
        try:
            forwarded = Forwarded._from_meta(json.loads(line))
        except (ValueError, KeyError, TypeError, AssertionError):
            raise ChannelError("unreadable metadata") from None
        if abs(self._clock() - forwarded.at) > MAX_SKEW_MS:
            raise ChannelError("stale envelope")
        self._remember(forwarded.nonce)
        return forwarded, body

    def _remember(self, nonce: str) -> None:
        now = time.monotonic()
        if len(self._seen) > 100_000:
            self._seen = {n: t for n, t in self._seen.items() if t > now}
        if self._seen.get(nonce, 0.0) > now:
            raise ChannelError("envelope seen before")
        self._seen[nonce] = now + 2 * MAX_SKEW_MS / 1000

    @staticmethod
    def _sign(key: bytes, envelope: bytes) -> str:
        digest = hmac.new(key, envelope, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii")
