"""Errors of the wallet, each with a stable Binance ``code``, an exact ``msg`` and an HTTP ``status``.

::

    WalletError                      code, msg, status -> the HTTP layer's {"code", "msg"}
    ├── UnknownAsset                 -4018 "We don't have this asset."
    ├── UnknownNetwork               -1130 the asset is not carried by that network (names those that do)
    ├── NetworkClosed                -4019 deposits or withdrawals of the asset are off on that network
    ├── InvalidAddress               -4007 the destination does not decode on its network; says what is wrong
    ├── InvalidMemo                  -4008 a memo (addressTag) where the network takes none, or a bad one
    ├── ExtendedKeyRefused           -1000 the operator's extended key is not an account-level public key
    ├── StatusConflict               -4031 a deposit or withdrawal cannot move from its state to that one
    ├── DepositsUnavailable          -1020 the operator configured no extended public keys: no deposit addresses
    ├── AddressBookRefusal           -4007 a withdrawal destination the account's address book does not allow
    │   ├── NotInAddressBook         -4007 never added (or removed) for that coin and network
    │   └── AddressCoolingOff        -4007 added, but still pending until its cooling-off ends (says when)
    ├── AddressBookChangeRefused     -1102 an addition the book refuses: a duplicate, a bad label, a full book
    ├── UnknownBookEntry             -4029 no such entry in this user's book (someone else's looks the same)
    └── ChainError                         the chain (a node adapter or the simulation) refused a request
        ├── ForeignAddress           -4007 a deposit to an address this exchange never issued
        ├── AmbiguousDeposit         -1102 the address receives several assets there: say which
        ├── ChainAmountInvalid       -1111 not a positive amount the network can carry
        ├── UnknownTransaction       -4029 no such transaction on the chain
        ├── SendConflict             -4032 the same withdrawal id was sent before with other details
        └── SendFailed               -4027 nothing was broadcast; the withdrawal's funds may be returned

Codes and texts come from Binance's capital (wallet) error list; after the code's text, the message
adds what exactly is wrong, so a typo in an address is a clear refusal, never a lost transfer.
Messages never contain an extended key.

The address-book refusals use -4007, not Binance's -4035 ("not on the whitelist") and -4036 ("the
new address needs to be withdrawn in {0} hours"): ccxt knows those two only for Binance's own
hosts, so against Keyplane's host it would raise the bare ExchangeError; -4007 is its BadRequest.
"""

from __future__ import annotations

from typing import ClassVar


class WalletError(Exception):
    """Base of the tree; ``code`` and ``msg`` are what Binance clients see."""

    code: ClassVar[int] = -1000
    status: ClassVar[int] = 400
    default_msg: ClassVar[str] = "An unknown error occurred while processing the request."

    def __init__(self, msg: str | None = None) -> None:
        self.msg = msg if msg is not None else self.default_msg
        super().__init__(self.msg)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, msg={self.msg!r})"


class UnknownAsset(WalletError):
    code = -4018
    default_msg = "We don't have this asset."


class UnknownNetwork(WalletError):
    code = -1130
    default_msg = "Data sent for parameter 'network' is not valid."


class NetworkClosed(WalletError):
    code = -4019
    default_msg = "Current asset is not open for withdrawal."


class InvalidAddress(WalletError):
    code = -4007
    default_msg = "Address validation is not passed."

    @classmethod
    def because(cls, network: str, reason: str) -> InvalidAddress:
        return cls(f"Address validation is not passed: not a valid address on network {network}: {reason}.")


class InvalidMemo(WalletError):
    code = -4008
    default_msg = "Address tag validation is not passed."

    @classmethod
    def because(cls, network: str, reason: str) -> InvalidMemo:
        return cls(f"Address tag validation is not passed on network {network}: {reason}.")


class ExtendedKeyRefused(WalletError):
    """An operator key that cannot serve: private, wrong curve, wrong depth, or unreadable."""

    default_msg = "The extended public key is not valid."


class StatusConflict(WalletError):
    """E.g. cancelling a withdrawal that is already being sent (Binance: "Cancellation failed.")."""

    code = -4031
    default_msg = "Cancellation failed."


class ChainError(WalletError):
    default_msg = "The chain refused the request."


class ForeignAddress(ChainError):
    code = -4007
    default_msg = "This address is not a deposit address of this exchange."


class AmbiguousDeposit(ChainError):
    code = -1102
    default_msg = "Mandatory parameter 'coin' was not sent, was empty/null, or malformed."


class ChainAmountInvalid(ChainError):
    code = -1111
    default_msg = "The amount is not one the network can carry."


class UnknownTransaction(ChainError):
    code = -4029
    default_msg = "The transaction does not exist."


class SendConflict(ChainError):
    code = -4032
    default_msg = "Withdraw verification exception."


class SendFailed(ChainError):
    code = -4027
    default_msg = "Failed to obtain tranId."


class DepositsUnavailable(WalletError):
    """No extended public keys are configured, so no deposit address can be derived (-1020, as for an
    operation this server does not offer: ccxt's BadRequest, never retried)."""

    code = -1020
    default_msg = "This operation is not supported."


class AddressBookRefusal(WalletError):
    code = -4007
    default_msg = "Address validation is not passed."


class NotInAddressBook(AddressBookRefusal):
    default_msg = "Address validation is not passed: the address is not in your withdrawal address book."


class AddressCoolingOff(AddressBookRefusal):
    default_msg = "Address validation is not passed: the address is still in its cooling-off period."


class AddressBookChangeRefused(WalletError):
    code = -1102
    default_msg = "The address book refused the change."


class UnknownBookEntry(WalletError):
    code = -4029
    status = 404
    default_msg = "No such address in your withdrawal address book."


class WithdrawalAmountRefused(WalletError):
    """Below the network's minimum, above its maximum, or not a multiple of its step (BadRequest)."""

    code = -4022
    default_msg = "The withdrawal amount is not allowed on this network."


class DailyLimitExceeded(WalletError):
    """The account's withdrawals in the rolling 24 hours, valued in USDT, would pass its limit."""

    code = -4021
    default_msg = "The withdrawal would exceed the 24-hour withdrawal limit of this account."


class CannotValue(WalletError):
    """The exchange has no price for the asset in USDT, so the daily limit cannot be applied."""

    code = -4021
    default_msg = "This asset has no USDT price on the exchange yet, so it cannot be withdrawn."


class WithdrawalBalance(WalletError):
    """The free balance does not cover the amount and the fee. Binance's sapi code, with the text
    ccxt maps to InsufficientFunds on any host."""

    code = -4026
    default_msg = "Account has insufficient balance for requested action."


class UnknownWithdrawal(WalletError):
    code = -4029
    default_msg = "There is no such withdrawal in this account."
