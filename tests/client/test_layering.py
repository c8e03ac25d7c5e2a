"""The client side never imports the server: a trader installs it without the server's dependencies."""

from __future__ import annotations

import ast
from pathlib import Path

import keyplane.client

SERVER_PACKAGES = {
    "keys",
    "identity",
    "exchange",
    "store",
    "http",
    "runtime",
    "cluster",
    "demo",
    "settings",
    "resealing",
    "redaction",
    "clock",
    "cli",
}
SERVER_LIBRARIES = {
    "starlette",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "redis",
    "pydantic_settings",
}
CLIENT = Path(keyplane.client.__file__).parent


def imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            names.append("." * node.level + (node.module or ""))
    return names


def test_no_client_module_imports_a_server_package_or_library() -> None:
    modules = sorted(CLIENT.rglob("*.py"))
    assert len(modules) >= 5
    offenders = []
    for path in modules:
        for name in imported_modules(path):
            parts = name.split(".")
            if name.startswith("."):
                offenders.append(
                    f"{path.relative_to(CLIENT)}: relative import {name} (use keyplane.client...)"
                )
            elif parts[0] == "keyplane" and len(parts) > 1 and parts[1] != "client":
                # Only keyplane.client itself: SERVER_PACKAGES names the usual suspects for readers,
                # but any other keyplane module could pull the server in later.
                offenders.append(f"{path.relative_to(CLIENT)}: {name}")
            elif parts[0] in SERVER_LIBRARIES:
                offenders.append(f"{path.relative_to(CLIENT)}: {name}")
    assert offenders == []


def test_the_walker_catches_a_server_import(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from keyplane.keys.model import Permission\n    import starlette\n")
    assert imported_modules(sample) == ["keyplane.keys.model", "starlette"]


BLOCKER = """
import importlib.abc, pkgutil, sys
BLOCKED = {blocked!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED or any(name == p or name.startswith(p + ".") for p in BLOCKED):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Block())
import keyplane.client
for info in pkgutil.walk_packages(keyplane.client.__path__, "keyplane.client."):
    __import__(info.name)
from keyplane.cli import app
sys.argv = ["keyplane", "--help"]
app()
"""


def test_the_client_imports_and_runs_without_any_server_dependency() -> None:
    import subprocess
    import sys

    # What a client-only install lacks: the server extra's libraries (keyplane's own modules ship anyway).
    blocked = sorted(
        SERVER_LIBRARIES | {"pydantic", "jinja2", "pyotp", "segno", "zxcvbn", "bip_utils", "multipart"}
    )
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER.format(blocked=blocked)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "vault" in result.stdout and "portfolio" in result.stdout and "serve" not in result.stdout
