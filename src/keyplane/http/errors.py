"""Domain errors to Binance-shaped JSON: ``{"code": ..., "msg": ...}`` with a 4xx status.

Any error type with integer ``code``, text ``msg`` and optional ``status`` maps itself; anything
else is an internal error, logged with its traceback on the server and answered with -1000 and
no detail, so no traceback or secret ever reaches a client.
"""

from __future__ import annotations

import json
import logging

from redis.exceptions import RedisError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.responses import Response

from keyplane.keys.errors import RateLimited
from keyplane.redaction import redact_text

log = logging.getLogger("keyplane.http")
BUSY = (RedisError, PoolTimeout)


def error_response(
    code: int, msg: str, status: int = 400, headers: dict[str, str] | None = None, data: object = None
) -> Response:
    # ``data``: the details some Binance errors carry (a cancel-replace's two results).
    body = json.dumps(
        {"code": code, "msg": msg} if data is None else {"code": code, "msg": msg, "data": data}
    )
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def to_response(error: Exception) -> Response:
    if isinstance(error, BUSY):
        # Shared state (Redis, the database pool) did not answer in time: the request was not
        # verified, so nothing was applied. A client may retry; -1000 would say "unknown".
        log.warning(
            "refused while %s is unavailable: %s", type(error).__module__.split(".")[0], type(error).__name__
        )
        return error_response(-1008, "The server is busy; nothing was changed. Please try again.", 503)
    code = getattr(error, "code", None)
    msg = getattr(error, "msg", None)
    if isinstance(code, int) and isinstance(msg, str):
        status = getattr(error, "status", 400)
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else None
        data = getattr(error, "data", None)
        status = status if isinstance(status, int) else 400
        return error_response(
            code, redact_text(msg), status, headers, data if isinstance(data, dict) else None
        )
    log.error("internal error: %s", redact_text(repr(error)), exc_info=error)
    return error_response(-1000, "An unknown error occurred while processing the request.", 500)
