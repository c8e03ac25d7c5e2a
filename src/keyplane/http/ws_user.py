"""The REST side of the user data stream: ``POST/PUT/DELETE /api/v3/userDataStream``.

Binance's USER_STREAM security: the API key header, no signature. A listenKey opens
``/ws/<listenKey>`` (any instance, with Redis) for 60 minutes from its last extension.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from keyplane.exchange.errors import InvalidParameter
from keyplane.http.errors import error_response, to_response
from keyplane.http.forwarding import request_ip
from keyplane.runtime import ServerParts

WEIGHT = 2


async def user_data_stream(request: Request) -> Response:
    parts: ServerParts = request.app.state.parts
    try:
        key = await parts.verifier.verify_key_only(
            request.headers.get("x-mbx-apikey"), request_ip(request), WEIGHT
        )
        streams = parts.streams
        assert streams is not None
        if request.method == "POST":
            return JSONResponse({"listenKey": await streams.listen_keys.create(key.key_id)})
        listen_key = request.query_params.get("listenKey")
        if listen_key is None:
            body = (await request.body()).decode("utf-8", "replace")
            listen_key = dict(p.split("=", 1) for p in body.split("&") if "=" in p).get("listenKey")
        if not listen_key:
            raise InvalidParameter(
                "Mandatory parameter 'listenKey' was not sent, was empty/null, or malformed.", -1102
            )
        keys = streams.listen_keys
        done = await (keys.extend if request.method == "PUT" else keys.close)(listen_key, key.key_id)
        if not done:
            return error_response(-1125, "This listenKey does not exist.", 400)
        return JSONResponse({})
    except Exception as error:  # noqa: BLE001 - every error becomes a Binance-shaped answer
        return to_response(error)


USER_STREAM_ROUTES = [Route("/api/v3/userDataStream", user_data_stream, methods=["POST", "PUT", "DELETE"])]
