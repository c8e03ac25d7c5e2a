"""The fork server behind :mod:`tests.support.launch`: imports the heavy libraries once, forks per command.

Why: most of the suite's CPU went to starting Python processes (``keyplane serve``, ``keyplane users
create``, the client's commands), each importing SQLAlchemy, pydantic, uvicorn, ccxt and the rest
again: about 1.5 s of CPU per process on this machine, hundreds of times per run. This process
imports the *third-party* libraries once and forks a child per command. Keyplane's own modules are
not imported here: each child imports them itself, so everything Keyplane computes at import time
(random id prefixes, settings) is the child's own, as in a process started from scratch.

Protocol on stdin/stdout (raw file descriptors 0 and 1, one JSON object per line, so nothing sits in a
buffer a child could inherit): a request ``{"code", "args", "env", "cwd", "stdin", "stdout", "stderr"}``
is answered ``{"pid": n}`` once forked; when a child ends, its exit code (negative for a signal, as
:class:`subprocess.Popen` reports it) is written to the file ``<status dir>/<pid>``. End of input ends
this process; children still running are left running, as a killed parent leaves its subprocesses.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

# The third-party libraries the Keyplane server, its CLI and the client import; each child starts
# with them loaded. Nothing that reads configuration at import time is listed.
PRELOAD = (
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.sqlite",
    "alembic.command",
    "alembic.config",
    "alembic.runtime.migration",
    "psycopg",
    "pydantic",
    "pydantic_settings",
    "starlette.applications",
    "starlette.routing",
    "fastapi",
    "uvicorn",
    "uvicorn.config",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.protocols.websockets.websockets_sansio_impl",
    "redis",
    "redis.asyncio",
    "httpx",
    "jinja2",
    "cryptography.hazmat.primitives.asymmetric.ed25519",
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "argon2",
    "pyotp",
    "segno",
    "zxcvbn",
    "bip_utils",
    "ccxt",
    "ccxt.async_support",
    "ccxt.pro",
)


def preload() -> None:
    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # a missing optional library costs its child the import
            __import__(name)


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become the requested ``python -c CODE ARGS...`` and never return."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        stdin = os.open(request["stdin"] or os.devnull, os.O_RDONLY)
        os.dup2(stdin, 0)
        out = os.open(request["stdout"] or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(out, 1)
        if request["stderr"] == "stdout":
            os.dup2(1, 2)
        else:
            err = os.open(request["stderr"] or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(err, 2)
        os.closerange(3, 256)  # the control and wake-up pipes, and the files just duplicated
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["-c", *request["args"]]
        try:
            exec(compile(request["code"], "<string>", "exec"), {"__name__": "__main__"})  # noqa: S102 - python -c
            code = 0
        except SystemExit as done:
            if done.code is None:
                code = 0
            elif isinstance(done.code, int):
                code = done.code
            else:
                print(done.code, file=sys.stderr)
                code = 1
        except BaseException:  # noqa: BLE001 - as the interpreter: print it, exit 1
            traceback.print_exc()
            code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _reap(status_dir: Path) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        tmp = status_dir / f".{pid}"
        tmp.write_text(str(os.waitstatus_to_exitcode(status)))
        tmp.rename(status_dir / str(pid))


def serve(status_dir: Path) -> None:
    preload()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    os.write(1, b'{"ready": true}\n')
    pending = b""
    while True:
        readable, _, _ = select.select([0, wake_r], [], [])
        if wake_r in readable:
            os.read(wake_r, 4096)
        _reap(status_dir)
        if 0 not in readable:
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            return
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            pid = os.fork()
            if pid == 0:
                _child(request)
            (status_dir / str(pid)).unlink(missing_ok=True)  # an earlier child's, if the pid came round
            os.write(1, json.dumps({"pid": pid}).encode() + b"\n")


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
