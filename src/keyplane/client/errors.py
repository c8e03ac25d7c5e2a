"""One exception tree for the client side; each error carries a stable code and a safe message.

    ClientError (code, message)
    ├── VaultError
    │   ├── VaultMissing          no vault file yet
    │   ├── WrongPassphrase       the passphrase does not open the vault (nothing changed)
    │   ├── VaultCorrupt          the file is not a vault this version can read
    │   ├── UnknownAccount        no account by that name
    │   └── AccountExists         adding a name that is taken
    ├── PrivilegeError
    │   ├── OverPrivilegedKey     the key may do more than the app needs
    │   └── PrivilegesUnknown     the exchange cannot say what the key may do
    └── ApiError (exchange code)  see ``keyplane.client.sdk_errors`` for one class per code

Messages never contain a secret: they are shown to the user as they are.
"""

from __future__ import annotations


class ClientError(Exception):
    """Base of every client-side error: ``code`` is stable, ``message`` is for people."""

    code = "client"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class VaultError(ClientError):
    code = "vault"


class VaultMissing(VaultError):
    code = "vault.missing"


class WrongPassphrase(VaultError):
    code = "vault.passphrase"


class VaultCorrupt(VaultError):
    code = "vault.corrupt"


class UnknownAccount(VaultError):
    code = "vault.unknown-account"


class AccountExists(VaultError):
    code = "vault.account-exists"


class InvalidCredentials(VaultError):
    code = "vault.invalid"


class PrivilegeError(ClientError):
    code = "privileges"


class OverPrivilegedKey(PrivilegeError):
    code = "privileges.over"


class PrivilegesUnknown(PrivilegeError):
    code = "privileges.unknown"
