"""The fan-out hub of one process: topics to the connections that read them.

Why one hub per process: a message is serialised once per topic, then handed to every reader's
own queue without awaiting (a slow reader never slows the others; its connection decides what to
do when its queue is full). Messages come from the exchange's events on the writer, from Redis on
every other instance (:mod:`relay`), and from the derived streams (tickers, klines).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from keyplane import jsontext

Message = tuple[str, Any]  # (topic, JSON-ready payload: an object, or a list for ``!...@arr``)


class Reader(Protocol):
    """A connection's side: ``deliver`` must not block (it queues)."""

    def deliver(self, name: str, text: str) -> None: ...


class Hub:
    def __init__(self) -> None:
        self._topics: dict[str, dict[tuple[Reader, str], None]] = {}
        self.watchers: list[Callable[[list[Message]], None]] = []  # see every message batch
        self.delivered = 0

    def subscribe(self, reader: Reader, topic: str, name: str) -> None:
        self._topics.setdefault(topic, {})[(reader, name)] = None

    def unsubscribe(self, reader: Reader, topic: str, name: str) -> None:
        readers = self._topics.get(topic)
        if readers is not None:
            readers.pop((reader, name), None)
            if not readers:
                del self._topics[topic]

    def wants(self, topic: str) -> bool:
        return topic in self._topics

    @property
    def has_readers(self) -> bool:
        return bool(self._topics)

    def topics(self) -> list[str]:
        return list(self._topics)

    def publish(self, messages: Iterable[Message]) -> None:
        """Deliver each message to its topic's readers; serialise only what someone reads."""
        batch = list(messages)
        for topic, payload in batch:
            readers = self._topics.get(topic)
            if not readers:
                continue
            text = jsontext.dumps_text(payload)
            for reader, name in list(readers):
                reader.deliver(name, text)
                self.delivered += 1
        for watch in self.watchers:
            watch(batch)
