"""Where the master key lives: ``KEYPLANE_MASTER_KEY`` or a 0600 file created on first run.

The key never enters the database. ``master.key.next`` holds a new key during a rotation, so a
crash between re-sealing and renaming leaves both keys loadable.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from keyplane.keys.sealing import Sealer

KEY_FILE = "master.key"
NEXT_FILE = "master.key.next"


class MasterKeyError(Exception):
    pass


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError):
        raise MasterKeyError("the master key is not valid base64") from None
    if len(key) != 32:
        raise MasterKeyError("the master key must decode to 32 bytes")
    return key


def write_key_file(path: Path, key: bytes) -> None:
    """Write atomically with mode 0600 from the start, never world-readable even briefly."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(encode_key(key) + "\n")
    os.replace(tmp, path)


def _read_key_file(path: Path) -> bytes:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise MasterKeyError(f"{path} is readable by others (mode {mode:o}); run chmod 600 on it")
    return decode_key(path.read_text())


def load_sealer(data_dir: Path, env_key: str | None) -> Sealer:
    """The sealer for this instance: env key if set, else the key file (created when absent)."""
    if env_key:
        return Sealer(decode_key(env_key))
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / KEY_FILE
    if not path.exists():
        write_key_file(path, os.urandom(32))
    current = _read_key_file(path)
    pending = data_dir / NEXT_FILE
    if pending.exists():
        return Sealer(_read_key_file(pending), current)
    return Sealer(current)
