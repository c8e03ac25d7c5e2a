"""Native operator routes (``/v1/operator/...``), authenticated by the operator token.

The exchange has one writer, the instance holding the writer lock, so operator commands that
change balances go through it rather than writing the database beside it; any other instance
checks the token and forwards the command there. The token lives in the data directory
(0600), like the master key; only someone who can read that directory can call these routes.
"""

from __future__ import annotations

import hmac
import json
from decimal import Decimal, InvalidOperation

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from keyplane.exchange.amounts import read_amount
from keyplane.exchange.errors import InvalidParameter
from keyplane.http.errors import error_response, to_response
from keyplane.http.forwarding import forward, forwarded_of, request_ip
from keyplane.keys.service import Actor
from keyplane.runtime import ServerParts, credit_funds


async def credit(request: Request) -> Response:
    parts: ServerParts = request.app.state.parts
    forwarded = forwarded_of(request)
    if forwarded is None or not forwarded.operator:
        supplied = request.headers.get("authorization", "").removeprefix("Bearer ").encode()
        if not hmac.compare_digest(supplied, parts.platform.operator_token.encode()):
            return error_response(-2015, "Invalid operator token.", 401)
    if not parts.platform.runs_exchange:  # the token is proven here; the writer credits
        try:
            return await forward(request, await request.body(), client_ip=request_ip(request), operator=True)
        except Exception as error:  # noqa: BLE001 - mapped to a Binance-shaped answer
            return to_response(error)
    try:
        # JSON numbers become Decimal, not float: 0.1000000000000000055511 must not arrive as 0.1.
        body = json.loads(await request.body(), parse_float=Decimal)
        raw = body["amount"]
        if not isinstance(raw, str | int | Decimal) or isinstance(raw, bool):
            raise TypeError("amount")
        amount = read_amount(raw) if isinstance(raw, str) else Decimal(raw)
        user, asset = str(body["user"]), str(body["asset"]).upper()
    except InvalidParameter as error:
        return to_response(error)
    except (ValueError, KeyError, TypeError, InvalidOperation):
        return error_response(-1102, "Send JSON with user, asset and amount.", 400)
    try:
        actor = Actor("operator", request.client.host if request.client else None)
        balance = await credit_funds(parts.platform, user, asset, amount, actor)
    except Exception as error:  # noqa: BLE001 - mapped to a Binance-shaped answer
        return to_response(error)
    return Response(
        json.dumps({"asset": balance.asset, "free": str(balance.free), "locked": str(balance.locked)}),
        media_type="application/json",
    )


OPERATOR_ROUTES: list[BaseRoute] = [Route("/v1/operator/funds/credit", credit, methods=["POST"])]
