"""Start ``python -c CODE ARGS...`` commands (the real ``keyplane`` CLI) cheaply: forked, not exec'd.

:func:`popen` and :func:`run` take the same command lists as :mod:`subprocess`. A command of the form
``[sys.executable, "-c", CODE, *args]`` is forked from this worker's fork server
(:mod:`tests.support.zygote`), which has the third-party libraries already imported; the child then
runs ``CODE`` with ``sys.argv == ["-c", *args]`` exactly as ``python -c`` would, importing Keyplane
itself. Any other command, or every command with ``KEYPLANE_TEST_FORK=0``, goes to
:mod:`subprocess` unchanged. The child is a real, separate process: the tests signal it, kill it and
read its exit code as they would a subprocess's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

_ENABLED = os.environ.get("KEYPLANE_TEST_FORK", "1") != "0"


class _Server:
    """This worker's fork server, started on first use."""

    def __init__(self) -> None:
        self.status_dir = Path(tempfile.mkdtemp(prefix="kp-zygote-"))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.zygote", str(self.status_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[2],
        )
        self.lock = threading.Lock()
        ready = self._answer()
        assert ready.get("ready"), ready

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the test fork server exited")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def fork(self, request: dict[str, Any]) -> int:
        assert self.process.stdin is not None
        with self.lock:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
            pid: int = self._answer()["pid"]
        return pid


_server: _Server | None = None
_server_lock = threading.Lock()


def _fork_server() -> _Server:
    global _server
    with _server_lock:
        if _server is None or _server.process.poll() is not None:
            _server = _Server()
        return _server


class Forked:
    """The :class:`subprocess.Popen` surface the tests use, for a child of the fork server."""

    def __init__(self, server: _Server, pid: int, args: list[str]) -> None:
        self._status = server.status_dir / str(pid)
        self.pid = pid
        self.args = args
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and self._status.exists():
            self.returncode = int(self._status.read_text())
            self._status.unlink()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


Process = Forked | subprocess.Popen[bytes]


def _forkable(args: list[str]) -> bool:
    return _ENABLED and len(args) >= 3 and args[0] == sys.executable and args[1] == "-c"


def _target(stream: IO[Any] | int | None) -> str | None:
    """Where a child's stream goes: a named file the caller opened, or nowhere."""
    if stream is None or stream == subprocess.DEVNULL:
        return None
    name = getattr(stream, "name", None)
    if not isinstance(name, str):
        raise TypeError("a forked command's output goes to a named file")
    return name


def popen(
    args: list[str],
    *,
    env: dict[str, str],
    stdout: IO[Any] | int | None = None,
    stderr: IO[Any] | int | None = None,
    stdin_file: str | None = None,
) -> Process:
    """Start a command whose output goes to files (or nowhere); ``stderr=subprocess.STDOUT`` merges."""
    if not _forkable(args):
        stdin = open(stdin_file, "rb") if stdin_file else subprocess.DEVNULL  # noqa: SIM115
        return subprocess.Popen(args, env=env, stdout=stdout, stderr=stderr, stdin=stdin)
    server = _fork_server()
    request = {
        "code": args[2],
        "args": args[3:],
        "env": env,
        "cwd": os.getcwd(),
        "stdin": stdin_file,
        "stdout": _target(stdout),
        "stderr": "stdout" if stderr == subprocess.STDOUT else _target(stderr),
    }
    return Forked(server, server.fork(request), args)


def run(
    args: list[str], *, env: dict[str, str], input: str = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(args, env=env, input=input, capture_output=True, text=True, timeout=timeout)``."""
    if not _forkable(args):
        return subprocess.run(
            args, env=env, input=input, capture_output=True, text=True, timeout=timeout, check=False
        )
    with tempfile.TemporaryDirectory(prefix="kp-run-") as tmp:
        stdin, out, err = Path(tmp, "in"), Path(tmp, "out"), Path(tmp, "err")
        stdin.write_text(input)
        with out.open("wb") as out_file, err.open("wb") as err_file:
            child = popen(args, env=env, stdout=out_file, stderr=err_file, stdin_file=str(stdin))
        try:
            code = child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise
        return subprocess.CompletedProcess(args, code, out.read_text(), err.read_text())
