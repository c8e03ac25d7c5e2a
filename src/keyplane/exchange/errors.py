"""Errors of the exchange, each with a stable Binance ``code`` and exact ``msg``.

::

    ExchangeError                    code, msg -> the HTTP layer's {"code", "msg"}
    ├── InvalidParameter             -1100 / -1102 / -1106 / -1111 / -1115 / -1116 / -1117 / -1130
    │   ├── InvalidSymbol            -1121 "Invalid symbol."
    │   └── InvalidInterval          -1120 "Invalid interval."
    ├── InexactAmount                -1111 an amount or result the ledger cannot hold exactly (raised, never rounded)
    ├── FilterFailure                -1013 "Filter failure: <FILTER>"
    ├── OrderRejected                -2010 (new order refused by the engine)
    │   ├── InsufficientBalance      "Account has insufficient balance for requested action."
    │   ├── WouldTakeAsMaker         "Order would immediately match and take."
    │   ├── DuplicateOrder           "Duplicate order sent."
    │   └── WouldTriggerImmediately  "Order would trigger immediately." (a stop price the last trade meets)
    ├── UnknownOrder                 -2011 "Unknown order sent."   (cancel)
    ├── NoSuchOrder                  -2013 "Order does not exist." (query)
    └── ExchangeUnavailable          -1008 another process is this database's one writer (HTTP 503)
        └── NotDurable               -1008 the command's batch was not written; nothing of it stands, try again

Every error is raised before any write, or the command's transaction is rolled back and the
in-memory state rebuilt, so a refused command changes nothing.
"""

from __future__ import annotations


class ExchangeError(Exception):
    """Base of the tree; ``code`` and ``msg`` are what Binance clients see."""

    code: int = -1000
    default_msg: str = "An unknown error occurred while processing the request."

    def __init__(self, msg: str | None = None) -> None:
        self.msg = msg if msg is not None else self.default_msg
        super().__init__(self.msg)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, msg={self.msg!r})"


class ExchangeUnavailable(ExchangeError):
    """Another process already runs this database's exchange (its one writer)."""

    code = -1008
    default_msg = (
        "The exchange of this database runs in another Keyplane process; send exchange requests there."
    )
    status = 503


class NotDurable(ExchangeUnavailable):
    """The command's group commit failed (or memory is being rebuilt after one): it was not applied."""

    default_msg = "The exchange could not record this request; nothing was changed. Please try again."


class InvalidParameter(ExchangeError):
    """A parameter is missing, malformed or not allowed; the code names which rule failed."""

    def __init__(self, msg: str, code: int = -1130) -> None:
        super().__init__(msg)
        self.code = code

    @classmethod
    def missing(cls, name: str) -> InvalidParameter:
        return cls(f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.", -1102)

    @classmethod
    def neither(cls, first: str, second: str) -> InvalidParameter:
        """-1102 for a pair of parameters of which one must be sent."""
        return cls(f"Param '{first}' or '{second}' must be sent, but both were empty/null!", -1102)

    @classmethod
    def not_required(cls, name: str) -> InvalidParameter:
        return cls(f"Parameter '{name}' sent when not required.", -1106)

    @classmethod
    def illegal_chars(cls, name: str, legal: str) -> InvalidParameter:
        return cls(f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.", -1100)

    @classmethod
    def invalid(cls, name: str) -> InvalidParameter:
        return cls(f"Data sent for parameter '{name}' is not valid.", -1130)

    @classmethod
    def too_precise(cls, name: str) -> InvalidParameter:
        return cls(f"Parameter '{name}' has too much precision.", -1111)


class InvalidSymbol(InvalidParameter):
    def __init__(self) -> None:
        super().__init__("Invalid symbol.", -1121)


class InvalidInterval(InvalidParameter):
    def __init__(self) -> None:
        super().__init__("Invalid interval.", -1120)


class InexactAmount(ExchangeError):
    """Too many decimals for the asset, or a balance past 10**20: refused instead of rounded."""

    code = -1111
    default_msg = "Precision is over the maximum defined for this asset."


class FilterFailure(ExchangeError):
    """An order broke one of the symbol's filters; ``filter_type`` is e.g. ``"LOT_SIZE"``."""

    code = -1013

    def __init__(self, filter_type: str) -> None:
        self.filter_type = filter_type
        super().__init__(f"Filter failure: {filter_type}")


class OrderRejected(ExchangeError):
    code = -2010
    default_msg = "NEW_ORDER_REJECTED"


class InsufficientBalance(OrderRejected):
    default_msg = "Account has insufficient balance for requested action."


class WouldTakeAsMaker(OrderRejected):
    default_msg = "Order would immediately match and take."


class DuplicateOrder(OrderRejected):
    default_msg = "Duplicate order sent."


class WouldTriggerImmediately(OrderRejected):
    default_msg = "Order would trigger immediately."


class UnknownOrder(ExchangeError):
    code = -2011
    default_msg = "Unknown order sent."


class NoSuchOrder(ExchangeError):
    code = -2013
    default_msg = "Order does not exist."
