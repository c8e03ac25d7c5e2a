"""Issue #7 item 5: request size and time limits, against a real server.

The attack: one 256 MB POST with a bad key made the server buffer the whole body before looking
at the key (103 MB to 1.1 GB of memory). Heads were unbounded too, and a client that sends
slowly held its connection for ever.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.databases import fresh_database
from tests.support.rawhttp import (
    MB,
    Answer,
    chunked,
    connect,
    filler,
    read_answer,
    rss_bytes,
    send_until_answered,
)
from tests.support.rawhttp import trickle as trickle_to
from tests.support.server import Instance, free_port, server_env

BIG = 256 * MB
# Far less than one copy of the body: a server that buffers it grows by at least 256 MB.
GROWTH_ALLOWED = 64 * MB
TIMEOUT_SECONDS = "1"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    """A server whose slow-client deadline is one second, so the slow-sender tests stay short."""
    tmp = tmp_path_factory.mktemp("limits")
    with fresh_database(tmp) as url:
        env = server_env(tmp / "data", url, None, KEYPLANE_REQUEST_TIMEOUT_SECONDS=TIMEOUT_SECONDS)
        instance = Instance(env, free_port())
        instance.start(tmp / "server.log")
        try:
            yield instance
        finally:
            instance.stop()


def post_head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "X-MBX-APIKEY: not-a-key", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def assert_refused_as_too_large(answer: Answer) -> None:
    assert answer.status == 413, answer
    body = answer.json()
    assert body["code"] == -1101
    assert "too large" in str(body["msg"])
    assert answer.sent < 8 * MB, "the refusal must come before the body, not after it"


@pytest.mark.parametrize(
    "path", ["/api/v3/order", "/api/v3/ping", "/console/login", "/v1/operator/funds/credit", "/nowhere"]
)
def test_a_256_mb_body_is_refused_from_its_content_length_before_it_is_read(
    served: Instance, path: str
) -> None:
    assert served.process is not None
    before = rss_bytes(served.process.pid)
    with connect(served.port) as sock:
        answer = send_until_answered(sock, post_head(path, f"Content-Length: {BIG}"), filler(BIG))
    assert_refused_as_too_large(answer)
    assert rss_bytes(served.process.pid) - before < GROWTH_ALLOWED


@pytest.mark.parametrize("path", ["/api/v3/order", "/console/login"])
def test_a_chunked_body_without_length_is_counted_as_it_arrives_and_refused(
    served: Instance, path: str
) -> None:
    assert served.process is not None
    before = rss_bytes(served.process.pid)
    head = post_head(path, "Transfer-Encoding: chunked", "Content-Type: application/x-www-form-urlencoded")
    with connect(served.port) as sock:
        answer = send_until_answered(sock, head, chunked(filler(BIG, 64 * 1024)))
    assert_refused_as_too_large(answer)
    assert rss_bytes(served.process.pid) - before < GROWTH_ALLOWED


def test_a_refused_body_closes_the_connection(served: Instance) -> None:
    with connect(served.port) as sock:
        answer = send_until_answered(sock, post_head("/api/v3/order", f"Content-Length: {BIG}"), filler(BIG))
        assert answer.headers.get("connection") == "close"
        assert read_answer(sock, wait=10).closed


def test_a_body_under_the_limit_still_reaches_the_route(served: Instance) -> None:
    body = b"symbol=BTCUSDT&pad=" + b"x" * (512 * 1024)
    with connect(served.port) as sock:
        answer = send_until_answered(sock, post_head("/api/v3/order", f"Content-Length: {len(body)}"), [body])
    # Read in full and refused by the key check, as any request with a bad key.
    assert answer.status == 401, answer
    assert answer.json()["code"] == -2014


def test_a_megabyte_header_is_refused(served: Instance) -> None:
    assert served.process is not None
    before = rss_bytes(served.process.pid)
    head = b"GET /api/v3/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
    with connect(served.port) as sock:
        answer = send_until_answered(sock, head, [*filler(64 * MB, 64 * 1024), b"\r\n\r\n"])
    assert answer.status == 431, answer
    assert answer.json()["code"] == -1101
    assert answer.sent < 8 * MB
    assert rss_bytes(served.process.pid) - before < GROWTH_ALLOWED


def test_ten_thousand_header_lines_are_refused(served: Instance) -> None:
    head = b"GET /api/v3/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    with connect(served.port) as sock:
        answer = send_until_answered(sock, head, [b"X-A: b\r\n" * 10_000, b"\r\n"])
    assert answer.status == 431, answer
    assert answer.json()["code"] == -1101


def test_a_megabyte_url_is_refused(served: Instance) -> None:
    with connect(served.port) as sock:
        answer = send_until_answered(
            sock, b"GET /api/v3/ping?a=", [*filler(MB, 64 * 1024), b" HTTP/1.1\r\nHost: x\r\n\r\n"]
        )
    assert answer.status == 414, answer
    assert answer.json()["code"] == -1101


def test_a_slow_body_sender_is_disconnected(served: Instance) -> None:
    with connect(served.port) as sock:
        sock.sendall(post_head("/api/v3/order", "Content-Length: 1000"))
        answer = trickle_to(sock, (b"a" for _ in range(1000)), pause=0.2, wait=30)
    assert answer.status == 408 or answer.closed, answer
    if answer.status:
        assert answer.json()["code"] == -1000


def test_a_slow_header_sender_is_disconnected(served: Instance) -> None:
    with connect(served.port) as sock:
        sock.sendall(b"GET /api/v3/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        answer = trickle_to(sock, (b"X-A: b\r\n" for _ in range(1000)), pause=0.2, wait=30)
    assert answer.status == 408 or answer.closed, answer


def test_a_connection_that_sends_nothing_is_closed(served: Instance) -> None:
    with connect(served.port) as sock:
        assert read_answer(sock, wait=30).closed


def test_the_server_still_answers_after_the_attacks(served: Instance) -> None:
    with connect(served.port) as sock:
        sock.sendall(b"GET /api/v3/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = read_answer(sock)
    assert answer.status == 200
    assert answer.body == b"{}"
