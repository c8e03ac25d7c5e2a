"""A gateway's side of forwarding: find the exchange writer, send it the envelope, relay its answer.

The writer's address is the one it recorded when it took the lock (read from the database, kept
for a second). If the writer cannot be reached, nothing was sent, so nothing happened: the gateway
re-reads the address once (a take-over may have just happened) and otherwise answers -1008, "try
again". If the connection fails after the envelope was sent, the command may or may not have been
applied: the gateway says so with Binance's -1007 ("execution status unknown"), never a guess.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from keyplane.cluster.channel import SIGNATURE_HEADER, Channel, Forwarded
from keyplane.exchange.errors import ExchangeError, ExchangeUnavailable
from keyplane.store.writer_lock import WriterRecord

log = logging.getLogger(__name__)

FORWARD_PATH = "/-/keyplane/forward"
# The writer answers this header (with 503) when it has lost the lock: the gateway looks again.
NOT_WRITER_HEADER = "x-keyplane-not-writer"
ADDRESS_TTL_S = 1.0
# Headers that describe one hop, not the request or answer: never relayed.
HOP_HEADERS = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"transfer-encoding",
        b"content-length",
        b"date",
        b"server",
        b"upgrade",
        b"te",
        b"trailer",
        b"x-forwarded-for",
        SIGNATURE_HEADER.encode(),
        NOT_WRITER_HEADER.encode(),
    }
)


class WriterUnreachable(ExchangeUnavailable):
    """No instance runs the exchange right now (a take-over is under way); nothing was sent."""

    default_msg = (
        "The exchange is moving to another Keyplane instance; nothing was changed. Please try again."
    )


class NoSharedReplayGuard(ExchangeUnavailable):
    """A gateway whose replay guard is its own memory would let a signed request that the writer
    already executed be replayed through it: signed exchange requests are forwarded only when every
    instance checks replays in one shared Redis."""

    default_msg = (
        "This Keyplane instance does not run the exchange and cannot forward signed requests without "
        "a shared replay guard (KEYPLANE_REDIS_URL). Send exchange requests to the instance that runs it."
    )


class OutcomeUnknown(ExchangeError):
    """The envelope was sent but no answer came: the command may or may not have been applied."""

    code = -1007
    status = 400  # as Binance; ccxt maps it to RequestTimeout
    default_msg = (
        "Timeout waiting for response from backend server. Send status unknown; execution status unknown."
    )


@dataclass(frozen=True, kw_only=True)
class Relayed:
    """The writer's answer, as the client will get it."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def end_to_end(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k.lower() not in HOP_HEADERS]


class Gateway:
    """Forwards to whichever instance holds the exchange writer lock."""

    def __init__(
        self,
        channel: Channel,
        find_writer: Callable[[], WriterRecord | None],
        own_url: str,
        timeout_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._channel = channel
        self._find_writer = find_writer
        self._own_url = own_url
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout_s, connect=2.0),
            # Idle connections are dropped before the writer's 5 s keep-alive ends, so a request is never
            # sent on a connection the writer is closing (its outcome would look unknown).
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64, keepalive_expiry=2.0),
        )
        self._address: tuple[str, float] | None = None  # (url, monotonic time read)

    def __repr__(self) -> str:
        return f"Gateway(own_url={self._own_url!r})"

    async def close(self) -> None:
        await self._client.aclose()

    async def forward(self, forwarded: Forwarded, body: bytes) -> Relayed:
        """Send one request to the writer and return its answer (or raise one of the errors above)."""
        tried: set[str] = set()
        for _ in range(2):
            url = await self._writer_url(fresh=bool(tried))
            if url is None or url in tried or url == self._own_url:
                break
            tried.add(url)
            envelope, signature = self._channel.seal(forwarded, body)
            try:
                answer = await self._client.post(
                    url + FORWARD_PATH,
                    content=envelope,
                    headers={SIGNATURE_HEADER: signature, "content-type": "application/octet-stream"},
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
                continue  # nothing was sent
            except Exception as error:  # noqa: BLE001 - whatever failed, the envelope may have been sent
                # An httpx error, or the client's own: httpcore once raised AttributeError reading the
                # peer of a socket that the killed writer had just reset. Either way the client must
                # hear "outcome unknown" (-1007), never an internal error.
                log.warning("forwarded request to %s ended without an answer: %s", url, type(error).__name__)
                raise OutcomeUnknown() from None
            if answer.headers.get(NOT_WRITER_HEADER):
                continue  # it had lost the lock before it read the request: nothing happened there
            return Relayed(
                status=answer.status_code, headers=end_to_end(answer.headers.raw), body=answer.content
            )
        raise WriterUnreachable()

    async def _writer_url(self, fresh: bool) -> str | None:
        if not fresh and self._address is not None and time.monotonic() - self._address[1] < ADDRESS_TTL_S:
            return self._address[0]
        record = await asyncio.to_thread(self._find_writer)
        if record is None or not record.url:
            self._address = None
            return None
        self._address = (record.url, time.monotonic())
        return record.url
