"""Depth streams at Binance's paces: diff and partial depth every 100 ms or every 1000 ms.

Why paced and per instance: the writer publishes one raw diff (``s@depth``) and one top-20
snapshot (``s@depth20``) per durable batch; a busy book changes far more often than a client wants
to hear about it. Each instance merges the raw diffs its readers need into one ``depthUpdate`` per
window (``U`` of the first, ``u`` of the last, the latest quantity of every price touched) and
sends the newest snapshot of each read partial stream once per window, as Binance does. A gap in
the raw ids (a batch lost on the relay) ends the window early, so the client sees the same gap and
resyncs instead of a merged message that hides it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from keyplane.streams.hub import Hub, Message
from keyplane.streams.periodic import Periodic

SPEEDS_MS = (100, 1000)
PARTIAL_LEVELS = (5, 10, 20)
Json = dict[str, Any]


def diff_topic(symbol: str, speed_ms: int) -> str:
    """The paced diff topic of a lower-case symbol (``btcusdt@depth@1000ms``)."""
    return f"{symbol}@depth@{speed_ms}ms"


def partial_topic(symbol: str, levels: int, speed_ms: int) -> str:
    return f"{symbol}@depth{levels}@{speed_ms}ms"


@dataclass
class _Window:
    """The raw diffs of one symbol merged since the last message at one pace."""

    symbol: str
    first_update_id: int
    last_update_id: int
    bids: dict[str, str] = field(default_factory=dict)
    asks: dict[str, str] = field(default_factory=dict)

    def add(self, diff: Json) -> None:
        self.last_update_id = int(diff["u"])
        self.bids.update((price, qty) for price, qty in diff["b"])
        self.asks.update((price, qty) for price, qty in diff["a"])

    def message(self, speed_ms: int, now: int) -> Message:
        return (
            diff_topic(self.symbol.lower(), speed_ms),
            {
                "e": "depthUpdate",
                "E": now,
                "s": self.symbol,
                "U": self.first_update_id,
                "u": self.last_update_id,
                "b": [[p, q] for p, q in self.bids.items()],
                "a": [[p, q] for p, q in self.asks.items()],
            },
        )


class PacedDepth(Periodic):
    def __init__(self, hub: Hub, now: Callable[[], int], tick_s: float = 0.1) -> None:
        self._hub, self._now, self.period_s = hub, now, tick_s
        self._ticks = 0
        self._windows: dict[tuple[str, int], _Window] = {}  # (lower-case symbol, pace) -> window
        self._tops: dict[str, Json] = {}  # lower-case symbol -> newest raw top-20 snapshot
        self._early: list[Message] = []  # windows ended by a gap, sent on the next tick
        hub.watchers.append(self._watch)

    def _watch(self, messages: list[Message]) -> None:
        for topic, payload in messages:
            symbol, _, kind = topic.partition("@")
            if kind == "depth":
                self._add_diff(symbol, payload)
            elif kind == "depth20":
                self._tops[symbol] = payload

    def _add_diff(self, symbol: str, diff: Json) -> None:
        for speed in SPEEDS_MS:
            if not self._hub.wants(diff_topic(symbol, speed)):
                continue
            window = self._windows.get((symbol, speed))
            if window is not None and int(diff["U"]) != window.last_update_id + 1:
                self._early.append(window.message(speed, self._now()))
                window = None
            if window is None:
                window = _Window(str(diff["s"]), int(diff["U"]), int(diff["u"]))
                self._windows[(symbol, speed)] = window
            window.add(diff)

    def flush(self, speed_ms: int) -> None:
        """Send what the windows of one pace hold, and every read partial stream's snapshot."""
        now = self._now()
        messages, self._early = self._early, []
        for (symbol, speed), window in list(self._windows.items()):
            if speed == speed_ms:
                del self._windows[(symbol, speed)]
                messages.append(window.message(speed, now))
        for symbol, top in self._tops.items():
            for levels in PARTIAL_LEVELS:
                topic = partial_topic(symbol, levels, speed_ms)
                if self._hub.wants(topic):
                    partial = {
                        "lastUpdateId": top["lastUpdateId"],
                        "bids": top["bids"][:levels],
                        "asks": top["asks"][:levels],
                    }
                    messages.append((topic, partial))
        if messages:
            self._hub.publish(messages)

    async def round(self) -> None:
        """Every tick the 100 ms windows; every tenth also the 1000 ms ones."""
        self._ticks += 1
        self.flush(SPEEDS_MS[0])
        if self._ticks % round(SPEEDS_MS[1] / SPEEDS_MS[0]) == 0:
            self.flush(SPEEDS_MS[1])
