"""Run the real ``keyplane`` command as a user would, with a vault in a temporary place."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.client.conftest import PASSPHRASE
from tests.support import launch
from tests.support.server import KEYPLANE


def vault_env(vault_path: Path, passphrase: str | None = PASSPHRASE) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYPLANE_")}
    env.update(KEYPLANE_VAULT=str(vault_path), KEYPLANE_VAULT_BACKEND="file", COLUMNS="200")
    if passphrase is not None:
        env["KEYPLANE_VAULT_PASSPHRASE"] = passphrase
    return env


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return launch.run([*KEYPLANE, *args], env=env, input=stdin, timeout=120)
