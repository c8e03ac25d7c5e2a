"""One exception class per exchange error code, so callers catch what they mean.

    ClientError
    └── ApiError (api_code, status, msg)
        ├── ServerError            -1000 -1001 -1006 -1007 -1008 -1016
        ├── Unauthorized           -1002
        ├── RateLimited            -1003 (and HTTP 429/418)  retry_after seconds when the server says
        ├── TooManyOrders          -1015
        ├── TimestampOutsideWindow -1021  sync the clock (``Keyplane.sync_clock``)
        ├── InvalidSignature       -1022
        ├── BadRequest             -11xx
        │   ├── MissingParameter   -1102
        │   ├── BadPrecision       -1111
        │   ├── BadSymbol          -1121
        │   └── InvalidParameter   -1130
        ├── OrderRejected          -1013 (filter failure), -2010
        ├── CancelRejected         -2011
        ├── UnknownOrder           -2013
        ├── BadApiKeyFormat        -2014
        └── KeyRejected            -2015  invalid key, IP or permission (revoked, expired, not allowed)

Codes with no row above raise ``ApiError`` itself; ``api_error(code, msg, status)`` picks the class.
"""

from __future__ import annotations

from keyplane.client.errors import ClientError


class ApiError(ClientError):
    """An error answer from the exchange: ``api_code`` is Binance's code, ``status`` the HTTP status."""

    code = "api"

    def __init__(self, api_code: int, msg: str, status: int, retry_after: int | None = None) -> None:
        super().__init__(f"{msg} (code {api_code}, HTTP {status})")
        self.api_code = api_code
        self.msg = msg
        self.status = status
        self.retry_after = retry_after


class ServerError(ApiError):
    code = "api.server"


class Unauthorized(ApiError):
    code = "api.unauthorized"


class RateLimited(ApiError):
    code = "api.rate-limited"


class TooManyOrders(ApiError):
    code = "api.too-many-orders"


class TimestampOutsideWindow(ApiError):
    code = "api.timestamp"


class InvalidSignature(ApiError):
    code = "api.signature"


class BadRequest(ApiError):
    code = "api.bad-request"


class MissingParameter(BadRequest):
    code = "api.missing-parameter"


class BadPrecision(BadRequest):
    code = "api.bad-precision"


class BadSymbol(BadRequest):
    code = "api.bad-symbol"


class InvalidParameter(BadRequest):
    code = "api.invalid-parameter"


class OrderRejected(ApiError):
    code = "api.order-rejected"


class CancelRejected(ApiError):
    code = "api.cancel-rejected"


class UnknownOrder(ApiError):
    code = "api.unknown-order"


class BadApiKeyFormat(ApiError):
    code = "api.key-format"


class KeyRejected(ApiError):
    code = "api.key-rejected"


BY_CODE: dict[int, type[ApiError]] = {
    -1000: ServerError,
    -1001: ServerError,
    -1002: Unauthorized,
    -1003: RateLimited,
    -1006: ServerError,
    -1007: ServerError,
    -1008: ServerError,
    -1013: OrderRejected,
    -1015: TooManyOrders,
    -1016: ServerError,
    -1021: TimestampOutsideWindow,
    -1022: InvalidSignature,
    -1102: MissingParameter,
    -1111: BadPrecision,
    -1121: BadSymbol,
    -1130: InvalidParameter,
    -2010: OrderRejected,
    -2011: CancelRejected,
    -2013: UnknownOrder,
    -2014: BadApiKeyFormat,
    -2015: KeyRejected,
}


def api_error(api_code: int, msg: str, status: int, retry_after: int | None = None) -> ApiError:
    cls = BY_CODE.get(api_code)
    if cls is None:
        if status in (418, 429):
            cls = RateLimited
        elif -1199 <= api_code <= -1100:
            cls = BadRequest
        else:
            cls = ApiError
    return cls(api_code, msg, status, retry_after)
