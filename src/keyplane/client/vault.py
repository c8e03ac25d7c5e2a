"""The vault: exchange credentials kept encrypted on the user's machine.

Two back ends. ``file``: one JSON file whose body is sealed with a key derived from a passphrase
(``keyplane.client.sealing``: Argon2id + AES-GCM); nothing in it is readable without the
passphrase, not even account names. ``keyring``: the file holds only account names, exchanges and
URLs, and each account's key and secret live in the OS keyring. ``auto`` (the default for a new
vault) picks the keyring where a real backend exists, otherwise the file.

The passphrase comes from the caller, else ``KEYPLANE_VAULT_PASSPHRASE``, else a prompt callable.
Every change is written atomically (temporary file + rename, mode 0600) after the vault was opened,
so a wrong passphrase cannot change anything.

Apps use ``open_vault()``, ``Vault.accounts()`` and ``Vault.credentials(name)``; ``Credentials``
never shows a secret in ``repr`` or ``str``.
"""

from __future__ import annotations

import json
import os
import re
import secrets as random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keyplane.client import keyring_store
from keyplane.client.errors import (
    AccountExists,
    InvalidCredentials,
    UnknownAccount,
    VaultCorrupt,
    VaultError,
    VaultMissing,
)
from keyplane.client.sealing import KdfParams, derive_key, seal, unseal

PASSPHRASE_ENV = "KEYPLANE_VAULT_PASSPHRASE"
PATH_ENV = "KEYPLANE_VAULT"
BACKEND_ENV = "KEYPLANE_VAULT_BACKEND"
KEYPLANE = "keyplane"  # exchange id of a Keyplane server: ccxt's binance class pointed at ``url``
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SECRET_FIELDS = ("api_key", "secret", "private_key", "password")

Prompt = Callable[[], str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """One account's credentials. ``repr`` and ``str`` show the account, never the key material."""

    name: str
    exchange: str
    url: str | None = None
    api_key: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Credentials(name={self.name!r}, exchange={self.exchange!r}, url={self.url!r}, kind={self.kind!r})"

    __str__ = __repr__

    @property
    def kind(self) -> str:
        """``hmac``, ``ed25519`` or ``rsa``: how requests are signed."""
        if self.private_key is None:
            return "hmac"
        return private_key_kind(self.private_key)

    @property
    def info(self) -> AccountInfo:
        return AccountInfo(name=self.name, exchange=self.exchange, url=self.url, kind=self.kind)

    def validate(self) -> None:
        if not NAME.match(self.name):
            raise InvalidCredentials("account names are 1-64 letters, digits, '.', '_' or '-'")
        if not self.exchange or not re.match(r"^[a-z0-9_]+$", self.exchange):
            raise InvalidCredentials("the exchange is a ccxt id such as 'binance', or 'keyplane'")
        if self.exchange == KEYPLANE and not self.url:
            raise InvalidCredentials("a Keyplane account needs the server's URL (--url)")
        if self.url is not None and not re.match(r"^https?://[^\s/]+", self.url):
            raise InvalidCredentials("the URL must start with http:// or https://")
        if not self.api_key:
            raise InvalidCredentials("the API key is empty")
        if self.secret == "":
            raise InvalidCredentials("the secret is empty")
        if (self.secret is None) == (self.private_key is None):
            raise InvalidCredentials("give either a secret (HMAC) or a private key (Ed25519/RSA), not both")
        if self.private_key is not None:
            private_key_kind(self.private_key)

    def secrets(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SECRET_FIELDS}

    @classmethod
    def from_record(cls, name: str, record: dict[str, Any]) -> Credentials:
        try:
            return cls(
                name=name,
                exchange=str(record["exchange"]),
                url=record.get("url"),
                api_key=str(record["api_key"]),
                secret=record.get("secret"),
                private_key=record.get("private_key"),
                password=record.get("password"),
            )
        except (KeyError, TypeError):
            raise VaultCorrupt(f"the vault entry for {name!r} is damaged") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountInfo:
    """What ``vault list`` and ``--json`` may show: no key material at all."""

    name: str
    exchange: str
    url: str | None
    kind: str
    pending: bool = False  # made by ``keyplane keygen``; waits for the API key the exchange assigns

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "exchange": self.exchange,
            "url": self.url,
            "kind": self.kind,
            "pending": self.pending,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingKey:
    """A private key generated locally whose public half has not been registered yet."""

    name: str
    exchange: str
    url: str | None
    private_key: str = field(repr=False)


def private_key_kind(pem: str) -> str:
    """``ed25519`` or ``rsa`` for a PEM private key; anything else is refused."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    try:
        key = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise InvalidCredentials("the private key is not an unencrypted PEM private key") from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "rsa"
    raise InvalidCredentials("only Ed25519 and RSA private keys are supported")


def default_path() -> Path:
    if os.environ.get(PATH_ENV):
        return Path(os.environ[PATH_ENV]).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "keyplane" / "vault.json"


def passphrase_from(given: str | None, prompt: Prompt | None) -> str:
    if given:
        return given
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    if prompt is not None:
        value = prompt()
        if value:
            return value
    raise VaultError(f"a passphrase is needed: type it at the prompt or set {PASSPHRASE_ENV}")


class Vault:
    """An opened vault. Build it with ``open_vault`` or ``create_vault``."""

    def __init__(self, path: Path, backend: str, document: dict[str, Any], sealing: Any = None) -> None:
        self.path = path
        self.backend = backend
        self._document = document  # file: {"accounts": {name: record}}; keyring: {"id", "accounts"}
        self._sealing = sealing  # (key, KdfParams) for the file back end

    def __repr__(self) -> str:
        return f"Vault(path={str(self.path)!r}, backend={self.backend!r}, accounts={len(self._records())})"

    def _records(self) -> dict[str, dict[str, Any]]:
        records = self._document.setdefault("accounts", {})
        if not isinstance(records, dict):
            raise VaultCorrupt("the vault body is damaged")
        return records

    def names(self, *, include_pending: bool = False) -> list[str]:
        """Account names, sorted; keys still waiting for their API key are left out by default."""
        return sorted(n for n, r in self._records().items() if include_pending or not r.get("pending"))

    def accounts(self, *, include_pending: bool = False) -> list[AccountInfo]:
        return [self.credentials_info(name) for name in self.names(include_pending=include_pending)]

    def credentials_info(self, name: str) -> AccountInfo:
        record = self._record(name)
        kind = str(record.get("kind") or Credentials.from_record(name, record).kind)
        return AccountInfo(
            name=name,
            exchange=str(record["exchange"]),
            url=record.get("url"),
            kind=kind,
            pending=bool(record.get("pending")),
        )

    def pending(self, name: str) -> PendingKey | None:
        record = self._records().get(name)
        if record is None or not record.get("pending"):
            return None
        private_key = self._secrets(name, record).get("private_key")
        if not isinstance(private_key, str):
            raise VaultCorrupt(f"the pending key {name!r} is damaged")
        return PendingKey(
            name=name, exchange=str(record["exchange"]), url=record.get("url"), private_key=private_key
        )

    def add_pending(self, name: str, exchange: str, url: str | None, private_key: str) -> None:
        """Keep a locally generated private key until the exchange gives its API key."""
        Credentials(
            name=name, exchange=exchange, url=url, api_key="pending", private_key=private_key
        ).validate()
        if name in self._records():
            raise AccountExists(f"an account named {name!r} exists; remove it first")
        public = {"exchange": exchange, "url": url, "kind": private_key_kind(private_key), "pending": True}
        secrets = {"api_key": "", "secret": None, "private_key": private_key, "password": None}
        self._put(name, public, secrets)

    def _secrets(self, name: str, record: dict[str, Any]) -> dict[str, Any]:
        if self.backend != "keyring":
            return record
        stored = keyring_store.load(self._document["id"], name)
        if stored is None:
            raise VaultCorrupt(f"the OS keyring no longer holds the secret of {name!r}")
        return stored

    def _put(self, name: str, public: dict[str, Any], secrets: dict[str, Any]) -> None:
        if self.backend == "keyring":
            keyring_store.store(self._document["id"], name, secrets)
            self._records()[name] = public
        else:
            self._records()[name] = {**public, **secrets}
        self._save()

    def _record(self, name: str) -> dict[str, Any]:
        record = self._records().get(name)
        if record is None:
            raise UnknownAccount(f"no account named {name!r} in the vault")
        return record

    def credentials(self, name: str) -> Credentials:
        record = dict(self._record(name))
        if record.get("pending"):
            raise UnknownAccount(
                f"account {name!r} waits for its API key: register its public key at the exchange, "
                f"then `keyplane vault add {name} --api-key <the key>`"
            )
        record.update(self._secrets(name, record))
        return Credentials.from_record(name, record)

    def all_credentials(self) -> list[Credentials]:
        return [self.credentials(name) for name in self.names()]

    def add(self, credentials: Credentials, *, replace: bool = False) -> None:
        credentials.validate()
        if credentials.name in self._records() and not replace:
            raise AccountExists(f"an account named {credentials.name!r} exists; remove it first")
        public = {"exchange": credentials.exchange, "url": credentials.url, "kind": credentials.kind}
        self._put(credentials.name, public, credentials.secrets())

    def remove(self, name: str) -> None:
        self._record(name)
        del self._records()[name]
        self._save()
        if self.backend == "keyring":
            keyring_store.delete(self._document["id"], name)

    def _save(self) -> None:
        if self.backend == "keyring":
            envelope: dict[str, Any] = {"format": "keyplane-vault-index/1", **self._document}
        else:
            key, params = self._sealing
            envelope = seal(self._document, key, params)
        _write_atomically(self.path, json.dumps(envelope, indent=1, sort_keys=True))


def choose_backend(requested: str | None = None) -> str:
    choice = (requested or os.environ.get(BACKEND_ENV) or "auto").lower()
    if choice not in ("auto", "file", "keyring"):
        raise VaultError(f"unknown vault back end {choice!r}: use auto, file or keyring")
    if choice == "auto":
        return "keyring" if keyring_store.keyring_available() else "file"
    if choice == "keyring" and not keyring_store.keyring_available():
        raise VaultError("no OS keyring backend is available here; use the file back end")
    return choice


def create_vault(
    path: Path | None = None,
    passphrase: str | None = None,
    *,
    backend: str | None = None,
    prompt: Prompt | None = None,
) -> Vault:
    """A new, empty vault written at ``path``; refuses to overwrite an existing one."""
    path = path or default_path()
    if path.exists():
        raise VaultError(f"a vault already exists at {path}")
    chosen = choose_backend(backend)
    if chosen == "keyring":
        vault = Vault(path, "keyring", {"id": random.token_hex(8), "accounts": {}})
    else:
        params = KdfParams.fresh()
        chosen_passphrase = passphrase_from(passphrase, prompt)
        if len(chosen_passphrase) < 8:
            raise VaultError("choose a vault passphrase of at least 8 characters")
        key = derive_key(chosen_passphrase, params)
        vault = Vault(path, "file", {"accounts": {}}, (key, params))
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    vault._save()
    return vault


def open_vault(
    path: Path | None = None, passphrase: str | None = None, *, prompt: Prompt | None = None
) -> Vault:
    """Open an existing vault; a wrong passphrase raises ``WrongPassphrase`` and changes nothing."""
    path = path or default_path()
    try:
        envelope = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VaultMissing(f"no vault at {path}: add an account with `keyplane vault add`") from None
    except (OSError, ValueError):
        raise VaultCorrupt(f"{path} is not a readable vault") from None
    if not isinstance(envelope, dict):
        raise VaultCorrupt(f"{path} is not a readable vault")
    if envelope.get("format") == "keyplane-vault-index/1":
        document = {"id": str(envelope.get("id")), "accounts": envelope.get("accounts") or {}}
        return Vault(path, "keyring", document)
    document, key, params = unseal(envelope, passphrase_from(passphrase, prompt))
    return Vault(path, "file", document, (key, params))


def _write_atomically(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(prefix=".vault-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
