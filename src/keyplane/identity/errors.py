"""Every error the identity package raises, each with a stable ``code`` for the HTTP layer.

::

    IdentityError
    ├── InvalidInput                      the request itself is malformed
    │   ├── InvalidEmail                  invalid_email
    │   └── WeakPassword                  weak_password
    ├── EmailTaken                        email_taken
    ├── TooManySignUps                    signup_throttled  (carries ``until_ms``)
    ├── AuthenticationFailed              the caller could not prove who they are
    │   ├── InvalidCredentials            invalid_credentials
    │   ├── LockedOut                     locked_out   (carries ``until_ms``)
    │   │   └── AddressLockedOut          address_locked_out  only the client's address is locked
    │   ├── TwoFactorRequired             2fa_required
    │   ├── TotpInvalid                   totp_invalid
    │   ├── TotpReused                    totp_reused
    │   ├── RecoveryCodeInvalid           recovery_code_invalid
    │   ├── SessionInvalid                session_invalid
    │   └── CsrfInvalid                   csrf_invalid
    ├── TwoFactorStateError               the 2FA set-up is not in the state the call needs
    │   ├── TwoFactorNotEnabled           2fa_not_enabled
    │   ├── TwoFactorAlreadyEnabled       2fa_already_enabled
    │   └── EnrolmentNotStarted           2fa_enrolment_missing
    ├── NotFound
    │   ├── UserNotFound                  user_not_found
    │   └── SessionNotFound               session_not_found
    └── SealedSecretUnreadable            sealed_secret_unreadable  (server fault, not the user's)

Messages are meant for the end user. A failed log-in never says whether the email exists:
unknown email and wrong password are the same ``InvalidCredentials`` with the same text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar


class IdentityError(Exception):
    """Base of the tree; ``code`` is stable API, ``message`` is safe to show to the user."""

    code: ClassVar[str] = "identity_error"
    default_message: ClassVar[str] = "The request could not be completed."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class InvalidInput(IdentityError):
    code = "invalid_input"
    default_message = "The request is not valid."


class InvalidEmail(InvalidInput):
    code = "invalid_email"
    default_message = "Enter a valid email address."


class WeakPassword(InvalidInput):
    code = "weak_password"
    default_message = "The password is too weak."


class EmailTaken(IdentityError):
    code = "email_taken"
    default_message = "An account with this email address already exists."


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class TooManySignUps(IdentityError):
    """The client's address opened as many accounts as it may for now; ``until_ms`` says when."""

    code = "signup_throttled"

    def __init__(self, until_ms: int) -> None:
        self.until_ms = until_ms
        super().__init__(
            f"Too many new accounts from your address: try again after {_utc(until_ms)}. "
            "If you already have an account, log in instead."
        )


class AuthenticationFailed(IdentityError):
    code = "authentication_failed"
    default_message = "Authentication failed."


class InvalidCredentials(AuthenticationFailed):
    code = "invalid_credentials"
    default_message = "The email address or password is incorrect."


class LockedOut(AuthenticationFailed):
    """Too many failures for this account or this address; ``until_ms`` says when it lifts."""

    code = "locked_out"
    template: ClassVar[str] = "Too many failed attempts: locked until {until}."

    def __init__(self, until_ms: int) -> None:
        self.until_ms = until_ms
        super().__init__(self.template.format(until=_utc(until_ms)))


class AddressLockedOut(LockedOut):
    """Only the client's address is locked (a password storm from a shared network): a password
    sent together with a valid TOTP code still logs in; the text is the same whatever was wrong."""

    code = "address_locked_out"
    template = (
        "Too many failed attempts from your network: log-ins from it are paused until {until}. "
        "With two-factor authentication on, you can log in now: enter your password and the "
        "code from your authenticator app together."
    )


class TwoFactorRequired(AuthenticationFailed):
    code = "2fa_required"
    default_message = "Enter the code from your authenticator app to continue."


class TotpInvalid(AuthenticationFailed):
    code = "totp_invalid"
    default_message = "The authentication code is incorrect."


class TotpReused(AuthenticationFailed):
    code = "totp_reused"
    default_message = "This authentication code was already used. Wait for the next code."


class RecoveryCodeInvalid(AuthenticationFailed):
    code = "recovery_code_invalid"
    default_message = "The recovery code is incorrect or was already used."


class SessionInvalid(AuthenticationFailed):
    code = "session_invalid"
    default_message = "Your session has ended. Sign in again."


class CsrfInvalid(AuthenticationFailed):
    code = "csrf_invalid"
    default_message = "The form has expired. Reload the page and try again."


class TwoFactorStateError(IdentityError):
    code = "2fa_state"
    default_message = "Two-factor authentication is not in the expected state."


class TwoFactorNotEnabled(TwoFactorStateError):
    code = "2fa_not_enabled"
    default_message = "Two-factor authentication is not enabled on this account."


class TwoFactorAlreadyEnabled(TwoFactorStateError):
    code = "2fa_already_enabled"
    default_message = "Two-factor authentication is already enabled. Turn it off first to re-enrol."


class EnrolmentNotStarted(TwoFactorStateError):
    code = "2fa_enrolment_missing"
    default_message = "Start two-factor set-up again: no enrolment is in progress or it has expired."


class NotFound(IdentityError):
    code = "not_found"
    default_message = "Not found."


class UserNotFound(NotFound):
    code = "user_not_found"
    default_message = "No such user."


class SessionNotFound(NotFound):
    code = "session_not_found"
    default_message = "No such session."


class SealedSecretUnreadable(IdentityError):
    """The stored TOTP secret did not unseal: wrong master key or tampered row."""

    code = "sealed_secret_unreadable"
    default_message = "Two-factor authentication is temporarily unavailable."
