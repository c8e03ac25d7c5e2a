"""What a gateway tells the client when forwarding to the writer fails: nothing sent (the writer
cannot be reached) or the outcome unknown (-1007) — never an internal error (-1000).

CI once saw httpcore raise ``AttributeError`` (reading the peer of a socket that the killed writer
had reset) from inside the forwarding call; the gateway answered -1000. The failing transport
below stands in for the network only (an httpx transport); the gateway and its channel are real.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import httpx
import pytest

from keyplane.cluster.channel import Channel, Forwarded
from keyplane.cluster.gateway import Gateway, OutcomeUnknown, WriterUnreachable
from keyplane.store.writer_lock import WriterRecord
from tests.support.aio import run

WRITER = "http://127.0.0.1:1"


def gateway(fail: Callable[[httpx.Request], httpx.Response]) -> Gateway:
    return Gateway(
        Channel([secrets.token_bytes(32)]),
        lambda: WriterRecord(url=WRITER, epoch=1),
        "http://127.0.0.1:2",
        transport=httpx.MockTransport(fail),
    )


def forward(gw: Gateway) -> None:
    envelope = Forwarded(method="POST", path="/api/v3/order", query=b"", headers=[], client_ip="127.0.0.1")

    async def go() -> None:
        try:
            await gw.forward(envelope, b"symbol=SOLUSDT")
        finally:
            await gw.close()

    run(go())


def raising(error: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    return fail


@pytest.mark.parametrize(
    "error",
    [AttributeError("'NoneType' object has no attribute 'getpeername'"), httpx.ReadError("reset")],
    ids=["client bug", "read error"],
)
def test_a_failure_after_the_envelope_may_have_left_is_an_unknown_outcome(error: Exception) -> None:
    with pytest.raises(OutcomeUnknown) as answer:
        forward(gateway(raising(error)))
    assert answer.value.code == -1007


def test_a_writer_that_cannot_be_reached_applied_nothing() -> None:
    with pytest.raises(WriterUnreachable):
        forward(gateway(raising(httpx.ConnectError("refused"))))
