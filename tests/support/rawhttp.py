"""Raw HTTP/1.1 over a socket, for requests no polite client sends: huge, endless or slow ones.

Also the server's resident memory (``VmRSS``), to show that a refused request was never buffered.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

MB = 1024 * 1024


def rss_bytes(pid: int) -> int:
    """The process's resident set size, from ``/proc/<pid>/status``."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


@dataclass
class Answer:
    """What the server said (``status`` 0 if it said nothing) and whether it closed the connection."""

    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool
    sent: int

    def json(self) -> dict[str, object]:
        return json.loads(self.body)  # type: ignore[no-any-return]


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=30)


def _parse(raw: bytes, closed: bool, sent: int) -> Answer:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length")
    if length is not None:
        body = body[: int(length)]
    return Answer(status, headers, body, closed, sent)


def _complete(raw: bytes) -> bool:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def read_answer(sock: socket.socket, sent: int = 0, wait: float = 30.0) -> Answer:
    """Read one response (or the connection's end) within ``wait`` seconds."""
    raw = b""
    closed = False
    deadline = time.monotonic() + wait
    while not _complete(raw) and time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not readable:
            break
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            closed = True
            break
        if not data:
            closed = True
            break
        raw += data
    return _parse(raw, closed, sent)


def send_until_answered(sock: socket.socket, head: bytes, chunks: Iterable[bytes]) -> Answer:
    """Send ``head``, then ``chunks`` one by one, stopping as soon as the server answers or hangs up.

    This is how a streaming client meets a server that refuses early: nothing is built in memory,
    and whatever the server said before closing is still read.
    """
    sent = 0
    try:
        sock.sendall(head)
        for chunk in chunks:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return read_answer(sock, sent)


def filler(total: int, size: int = MB) -> Iterator[bytes]:
    """``total`` bytes in ``size`` pieces, one piece in memory at a time."""
    piece = b"a" * size
    left = total
    while left > 0:
        yield piece[: min(size, left)]
        left -= size


def chunked(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """``Transfer-Encoding: chunked`` framing, with the final empty chunk."""
    for piece in pieces:
        yield b"%x\r\n" % len(piece) + piece + b"\r\n"
    yield b"0\r\n\r\n"


def trickle(sock: socket.socket, pieces: Iterable[bytes], pause: float, wait: float) -> Answer:
    """Send ``pieces`` ``pause`` seconds apart until the server answers or hangs up, or ``wait`` passes."""
    deadline = time.monotonic() + wait
    sent = 0
    for piece in pieces:
        if time.monotonic() > deadline:
            break
        readable, _, _ = select.select([sock], [], [], pause)
        if readable:
            return read_answer(sock, sent, wait=5)
        try:
            sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            return read_answer(sock, sent, wait=5)
        sent += len(piece)
    return Answer(0, {}, b"", False, sent)
