"""On the exchange writer: each durable batch's events become stream messages, here and elsewhere.

The exchange calls :meth:`Publisher.on_events` (an ``Exchange.listeners`` entry) on the event loop
once a batch is durable. Messages go to this process's hub at once, and to the other instances
through Redis when it is configured (:class:`keyplane.streams.relay.Relay`).
"""

from __future__ import annotations

from collections.abc import Callable

from keyplane.exchange.events import ExchangeEvents
from keyplane.streams.hub import Hub, Message
from keyplane.streams.market_streams import market_messages
from keyplane.streams.user_streams import user_messages


class Publisher:
    def __init__(self, hub: Hub, send: Callable[[list[Message]], None] | None = None) -> None:
        self._hub = hub
        self._send = send

    def wants_events(self) -> bool:
        """False on one instance with nobody reading: the exchange then skips building events."""
        return self._send is not None or self._hub.has_readers

    def on_events(self, events: ExchangeEvents) -> None:
        if not self.wants_events():
            return  # one instance and nobody reading: nothing to format
        messages = [*market_messages(events), *user_messages(events)]
        self._hub.publish(messages)
        if self._send is not None:
            self._send(messages)
