"""Where this data directory's server listens: a small file the serving process keeps while it runs.

``keyplane serve`` and ``keyplane demo`` may listen on any port, and the serving process is the
exchange's one writer, so commands that change the exchange (``funds credit``) must reach it; they
find it here instead of assuming the default port. The file (``server.json``, 0600) is written when
serving starts and removed on a clean stop. While the server lives it holds a shared ``flock`` on
the file, so a file left behind by a killed process is seen as stale (nobody holds it) and ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import ipaddress
import json
import logging
import os
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

from keyplane.runtime import Platform

log = logging.getLogger(__name__)
ADDRESS_FILE = "server.json"


def server_url(host: str, port: int) -> str:
    """The URL a local client uses to reach a server listening on ``host``: wildcards mean loopback."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    return f"http://{host}:{port}"


@contextlib.contextmanager
def recorded(data_dir: Path, url: str) -> Iterator[None]:
    """Publish ``url`` as this data directory's server while the block runs."""
    path, temporary = data_dir / ADDRESS_FILE, data_dir / f".{ADDRESS_FILE}.{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # held until close: the file is live while we are
        os.write(fd, json.dumps({"url": url, "pid": os.getpid()}).encode())
        os.replace(temporary, path)
        yield
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
            if os.stat(path).st_ino == os.fstat(fd).st_ino:  # a later server may have replaced it
                path.unlink()
        os.close(fd)


def recorded_url(data_dir: Path) -> str | None:
    """The URL of the live server of ``data_dir``, or None when there is none (or only a stale file)."""
    try:
        fd = os.open(data_dir / ADDRESS_FILE, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # a serving process holds it: live
        else:
            return None  # nobody holds it: its process is gone
        url = json.loads(os.read(fd, 4096)).get("url")
        return url if isinstance(url, str) and url.startswith("http://") else None
    except (OSError, ValueError, AttributeError):
        return None
    finally:
        os.close(fd)


def address_job(url: str) -> Callable[[Platform], Coroutine[Any, Any, None]]:
    """A background job for the server: keeps the address file for as long as it serves."""

    async def job(platform: Platform) -> None:
        try:
            with recorded(platform.settings.ensure_data_dir(), url):
                await asyncio.Event().wait()  # until the server stops and cancels us
        except OSError:
            log.exception("could not record the server's address in the data directory")

    return job
