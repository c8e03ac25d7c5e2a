"""A real ``keyplane demo`` process for a test: started on a data directory and database, waited
for until it prints its key and serves, and stopped afterwards (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import launch
from tests.support.server import KEYPLANE, SIGNING_GRACE_S, free_port, server_env


@dataclass
class RunningDemo:
    """The demo's address, its printed read+trade key for 'demo', and its process and log."""

    url: str
    key: str
    secret: str = field(repr=False)  # never in a failure's output
    env: dict[str, str] = field(repr=False)
    log: Path
    process: launch.Process = field(repr=False)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``keyplane <args>`` on the demo's data directory and database; must succeed."""
        done = launch.run([*KEYPLANE, *args], env=self.env)
        assert done.returncode == 0, done.stderr
        return done


def wait_for(log: Path, pattern: str, process: launch.Process, seconds: float = 90) -> re.Match[str]:
    """The first match of ``pattern`` in the log; fails at once if the process exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text())
        if found:
            return found
        if process.poll() is not None:
            raise AssertionError(f"keyplane demo exited: {log.read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} never appeared: {log.read_text()}")


@contextmanager
def running_demo(
    data_dir: Path, database_url: str, *args: str, log_name: str = "demo.log", **env: str
) -> Iterator[RunningDemo]:
    """``keyplane demo --port <free> --data-dir <data_dir> <args>``; ``env`` adds settings."""
    port = free_port()
    log = data_dir.parent / log_name
    environment = server_env(data_dir, database_url, None, COLUMNS="200", **env)
    with log.open("wb") as out:
        process = launch.popen(
            [*KEYPLANE, "demo", "--port", str(port), "--data-dir", str(data_dir), *args],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        key = wait_for(log, r"API key:\s+(\S+)", process).group(1)
        secret = wait_for(log, r"API secret:\s+(\S+)", process).group(1)
        wait_for(log, r"Keyplane serving on", process)
        time.sleep(SIGNING_GRACE_S)  # as Instance.wait: orders signed before this could be refused
        yield RunningDemo(f"http://127.0.0.1:{port}", key, secret, environment, log, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
