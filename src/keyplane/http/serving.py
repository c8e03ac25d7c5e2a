"""The uvicorn server that says it is serving only once it is.

uvicorn runs the app's start-up before it binds its socket, so a line printed before
``uvicorn.run`` promised a server that could not be reached yet, and whoever waited for the line
(a person, a script, a test) could be refused.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import uvicorn


class AnnouncingServer(uvicorn.Server):
    """Calls ``announce(message)`` once the listening socket is bound."""

    def __init__(self, config: uvicorn.Config, message: str, announce: Callable[..., Any]) -> None:
        super().__init__(config)
        self._message = message
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._announce(self._message, highlight=False)
