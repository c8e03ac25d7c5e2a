"""Errors of the key core, each with a stable Binance code, message and HTTP status.

    KeyError_ (base, never raised itself)
    ├── MalformedKey            -2014  key id missing or fails its format/checksum
    ├── RequestRefused          -2015  generic: unknown, inactive or expired key (no detail before proof)
    │   ├── KeyInactive                 signature proven: the key is disabled, revoked or expired
    │   ├── IpNotAllowed                signature proven: client IP outside the key's allowlist
    │   ├── PermissionMissing           signature proven: the key lacks the route's permission
    │   └── SymbolNotAllowed            signature proven: the symbol is outside the key's allowlist
    ├── TimestampRejected       -1021  outside recvWindow, too far ahead, or a replay
    ├── InvalidSignature        -1022
    ├── BadParameter            -1100/-1101/-1102/-1131  malformed or duplicate signing parameters
    ├── RateLimited             -1003  HTTP 429 with Retry-After
    │   └── IpBanned                    HTTP 418: the IP kept going after 429s; Retry-After until the ban ends
    └── KeyManagementError      operator/user errors in the key life cycle (CLI and console)

The HTTP layer maps ``code``/``msg``/``status`` to Binance's ``{"code","msg"}``; nothing else.
"""

from __future__ import annotations

GENERIC_REFUSAL = "Invalid API-key, IP, or permissions for action."


class KeyError_(Exception):
    """Base of the tree; named with a trailing underscore so it never shadows the builtin."""

    code = -1000
    status = 400
    # The IP's request weight this minute once the refused request was counted (Binance reports
    # it on every answer, refusals included); None when the refusal charged nothing.
    used_weight: int | None = None

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


class MalformedKey(KeyError_):
    code = -2014
    status = 401

    def __init__(self, msg: str = "API-key format invalid.") -> None:
        super().__init__(msg)


class RequestRefused(KeyError_):
    code = -2015
    status = 401

    def __init__(self, msg: str = GENERIC_REFUSAL) -> None:
        super().__init__(msg)


class KeyInactive(RequestRefused):
    pass


class IpNotAllowed(RequestRefused):
    pass


class PermissionMissing(RequestRefused):
    pass


class SymbolNotAllowed(RequestRefused):
    pass


class TimestampRejected(KeyError_):
    code = -1021


class InvalidSignature(KeyError_):
    code = -1022

    def __init__(self, msg: str = "Signature for this request is not valid.") -> None:
        super().__init__(msg)


class BadParameter(KeyError_):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code


class RateLimited(KeyError_):
    code = -1003
    status = 429

    def __init__(self, msg: str, retry_after: int) -> None:
        super().__init__(msg)
        self.retry_after = retry_after


class IpBanned(RateLimited):
    """A temporary ban of an IP that kept sending after being told 429, as Binance's 418."""

    status = 418

    def __init__(self, until_ms: int, retry_after: int) -> None:
        super().__init__(
            f"Way too much request weight used; IP banned until {until_ms}. "
            "Please use WebSocket Streams for live updates to avoid bans.",
            retry_after,
        )
        self.until_ms = until_ms


class KeyManagementError(KeyError_):
    """A refused life-cycle request: bad policy, unknown key, final state, limits."""

    code = -1100

    def __init__(self, msg: str, reason: str = "invalid") -> None:
        super().__init__(msg)
        self.reason = reason
