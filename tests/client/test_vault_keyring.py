"""The keyring back end: secrets in the OS keyring, only names and URLs in the file.

No OS keyring runs on a headless test machine, so an in-memory backend written against keyring's
own ``KeyringBackend`` interface stands in for the Secret Service or Keychain (an external
service, as PostgreSQL is for the server).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from keyplane.client import keyring_store
from keyplane.client.vault import Credentials, choose_backend, create_vault, open_vault

SECRET = "kps_" + "k" * 44


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username))


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_auto_picks_the_keyring_where_one_exists_and_the_file_elsewhere(
    memory_keyring: MemoryKeyring,
) -> None:
    assert choose_backend("auto") == "keyring"
    keyring.set_keyring(fail.Keyring())
    assert not keyring_store.keyring_available() and choose_backend("auto") == "file"


def test_secrets_live_in_the_keyring_and_the_file_holds_none(
    memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    path = tmp_path / "v.json"
    vault = create_vault(path, backend="keyring")
    vault.add(
        Credentials(name="main", exchange="keyplane", url="http://h:1", api_key="kpk_abc123", secret=SECRET)
    )
    text = path.read_text()
    assert SECRET not in text and "kpk_abc123" not in text and "main" in text
    assert any(SECRET in value for value in memory_keyring.items.values())
    creds = open_vault(path).credentials("main")  # no passphrase needed: the OS keyring guards it
    assert (creds.api_key, creds.secret) == ("kpk_abc123", SECRET)
    open_vault(path).remove("main")
    assert memory_keyring.items == {}
