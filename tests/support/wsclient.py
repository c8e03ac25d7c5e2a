"""A plain WebSocket client (the ``websockets`` package) for protocol-level stream tests."""

from __future__ import annotations

import json
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection


def ws_url(http_url: str, path: str) -> str:
    return "ws://" + http_url.split("://", 1)[1] + path


async def connect(http_url: str, path: str) -> ClientConnection:
    return await websockets.connect(ws_url(http_url, path), max_size=None)


async def ask(ws: ClientConnection, request: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
    """Send a request and return the answer with its id (stream messages in between are skipped)."""
    await ws.send(json.dumps(request))
    while True:
        answer = json.loads(await _recv(ws, timeout))
        if (
            isinstance(answer, dict)
            and answer.get("id") == request.get("id")
            and ("result" in answer or "error" in answer or "status" in answer)
        ):
            return answer


async def _recv(ws: ClientConnection, timeout: float) -> str | bytes:
    import asyncio

    return await asyncio.wait_for(ws.recv(), timeout)


async def next_json(ws: ClientConnection, timeout: float = 10) -> Any:
    return json.loads(await _recv(ws, timeout))
