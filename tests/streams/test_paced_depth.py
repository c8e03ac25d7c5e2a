"""Depth streams paced as Binance's: one merged diff per 100 ms or 1000 ms window, and partial
snapshots once per window, with ids a client can sync a local book on."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from decimal import Decimal
from typing import Any

import httpx

from keyplane.streams.hub import Hub
from keyplane.streams.paced_depth import PacedDepth
from tests.http.exchange.conftest import Venue
from tests.http.exchange.raw import signed
from tests.support.aio import run
from tests.support.wsclient import connect, next_json

Book = dict[str, dict[Decimal, Decimal]]


class Recorder:
    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []

    def deliver(self, name: str, text: str) -> None:
        self.got.append((name, text))


def _raw_diff(first: int, last: int, bids: list[list[str]], asks: list[list[str]]) -> dict[str, Any]:
    return {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": first, "u": last, "b": bids, "a": asks}


def _paced(*topics: str) -> tuple[Hub, PacedDepth, Recorder]:
    hub, reader = Hub(), Recorder()
    paced = PacedDepth(hub, lambda: 777)
    for topic in topics:
        hub.subscribe(reader, topic, topic)
    return hub, paced, reader


def test_a_window_merges_its_diffs_into_one_update_with_the_latest_quantity_per_price() -> None:
    hub, paced, reader = _paced("btcusdt@depth@1000ms")
    hub.publish([("btcusdt@depth", _raw_diff(5, 5, [["100", "1"]], []))])
    hub.publish([("btcusdt@depth", _raw_diff(6, 8, [["100", "0"], ["99", "2"]], [["101", "3"]]))])
    paced.flush(100)
    assert reader.got == []  # not this stream's pace
    paced.flush(1000)
    assert [name for name, _ in reader.got] == ["btcusdt@depth@1000ms"]
    assert reader.got[0][1] == (
        '{"e":"depthUpdate","E":777,"s":"BTCUSDT","U":5,"u":8,"b":[["100","0"],["99","2"]],"a":[["101","3"]]}'
    )
    paced.flush(1000)
    assert len(reader.got) == 1  # nothing changed: no diff


def test_a_gap_in_the_raw_ids_ends_the_window_so_the_client_sees_it() -> None:
    hub, paced, reader = _paced("btcusdt@depth@100ms")
    hub.publish([("btcusdt@depth", _raw_diff(5, 6, [["100", "1"]], []))])
    hub.publish([("btcusdt@depth", _raw_diff(9, 9, [["99", "1"]], []))])  # 7 and 8 were lost
    paced.flush(100)
    ids = [(m["U"], m["u"]) for m in (json.loads(text) for _, text in reader.got)]
    assert ids == [(5, 6), (9, 9)]


def test_partial_streams_send_the_newest_snapshot_every_window_cut_to_their_levels() -> None:
    hub, paced, reader = _paced("btcusdt@depth5@100ms", "btcusdt@depth20@1000ms")
    bids = [[str(100 - i), "1"] for i in range(20)]
    hub.publish([("btcusdt@depth20", {"lastUpdateId": 41, "bids": bids, "asks": []})])
    paced.flush(100)
    paced.flush(100)
    assert [name for name, _ in reader.got] == ["btcusdt@depth5@100ms"] * 2
    assert json.loads(reader.got[0][1]) == {"lastUpdateId": 41, "bids": bids[:5], "asks": []}
    paced.flush(1000)
    assert json.loads(reader.got[-1][1])["bids"] == bids


def test_nobody_reading_a_pace_means_nothing_is_kept_for_it() -> None:
    hub, paced, reader = _paced("btcusdt@depth@100ms")
    hub.publish([("btcusdt@depth", _raw_diff(5, 5, [["100", "1"]], []))])
    paced.flush(1000)
    paced.flush(100)
    assert [name for name, _ in reader.got] == ["btcusdt@depth@100ms"]


def _apply(book: Book, update: dict[str, Any]) -> None:
    for side, key in (("bids", "b"), ("asks", "a")):
        for price, qty in update[key]:
            if Decimal(qty):
                book[side][Decimal(price)] = Decimal(qty)
            else:
                book[side].pop(Decimal(price), None)


def _rest_depth(url: str) -> tuple[int, Book]:
    answer = httpx.get(f"{url}/api/v3/depth", params={"symbol": "ETHUSDT", "limit": 5000}, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return body["lastUpdateId"], {
        side: {Decimal(p): Decimal(q) for p, q in body[side]} for side in ("bids", "asks")
    }


def _synced(snapshot: tuple[int, Book], updates: list[dict[str, Any]]) -> tuple[int, Book]:
    """Binance's recipe: drop updates up to the snapshot's id, then each must follow the last."""
    last, book = snapshot[0], {side: dict(levels) for side, levels in snapshot[1].items()}
    for update in updates:
        if update["u"] <= last:
            continue
        assert update["U"] <= last + 1 <= update["u"], (last, update["U"], update["u"])
        _apply(book, update)
        last = update["u"]
    return last, book


def test_paced_diff_streams_merge_a_burst_and_keep_a_local_book_equal_to_rest(venue: Venue) -> None:
    streams = {"ethusdt@depth@100ms": 0.1, "ethusdt@depth": 1.0}  # no speed: Binance's 1000 ms

    async def go() -> None:
        ws = await connect(venue.url, "/stream?streams=" + "/".join(streams))
        try:
            await asyncio.sleep(0.3)  # the subscription stands before the snapshot is taken
            snapshot = _rest_depth(venue.url)

            def place(i: int) -> None:
                answer = signed(
                    venue.url, venue.alice, "POST", "/api/v3/order", symbol="ETHUSDT", side="BUY",
                    type="LIMIT", timeInForce="GTC", quantity="0.1", price=f"{100 + i % 7}.{i:02d}",
                )  # fmt: skip
                assert answer.status_code == 200, answer.text

            await asyncio.gather(*(asyncio.to_thread(place, i) for i in range(40)))
            final_id, final_book = _rest_depth(venue.url)
            seen: dict[str, list[dict[str, Any]]] = {name: [] for name in streams}
            deadline = time.monotonic() + 30
            while any(not u or u[-1]["u"] < final_id for u in seen.values()) and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    message = await next_json(ws, 1)
                    seen[message["stream"]].append(message["data"])
        finally:
            await ws.close()

        for name, pace in streams.items():
            updates = seen[name]
            assert _synced(snapshot, updates) == (final_id, final_book), name
            times = [u["E"] for u in updates]
            gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
            assert all(gap >= pace * 1000 - 20 for gap in gaps), (name, gaps)
        assert len(seen["ethusdt@depth"]) < 40  # one message a second, not one per order

    run(go())
