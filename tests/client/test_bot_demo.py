"""The bots against ``keyplane demo``'s market maker: killed with SIGKILL, restarted, no duplicates."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal as D
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx

from keyplane.client.vault import Credentials, create_vault
from tests.client.apps_fixtures import CLIENT, Demo, eventually
from tests.support import launch
from tests.support.clients import ccxt_binance

PASSPHRASE = "bot vault passphrase"
MINIMAL = {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "adjustForTimeDifference": True}


def vault_with(tmp_path: Path, demo: Demo, key: dict[str, str], name: str = "demo") -> dict[str, str]:
    path = tmp_path / f"vault-{name}.json"
    vault = create_vault(path, PASSPHRASE, backend="file")
    vault.add(
        Credentials(name=name, exchange="keyplane", url=demo.url, api_key=key["key"], secret=key["secret"])
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYPLANE_")}
    env.update(KEYPLANE_VAULT=str(path), KEYPLANE_VAULT_PASSPHRASE=PASSPHRASE, KEYPLANE_VAULT_BACKEND="file")
    return env


@contextmanager
def bot(env: dict[str, str], log: Path, *args: str) -> Iterator[launch.Process]:
    with log.open("ab") as out:
        process = launch.popen([*CLIENT, "bot", *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def mid(demo: Demo) -> D:
    book = httpx.get(f"{demo.url}/api/v3/ticker/bookTicker", params={"symbol": "BTCUSDT"}, timeout=5).json()
    return (D(book["bidPrice"]) + D(book["askPrice"])) / 2


def ours(client: Any, prefix: str, open_only: bool = True) -> list[dict[str, Any]]:
    found = client.fetch_open_orders("BTC/USDT") if open_only else client.fetch_orders("BTC/USDT", limit=1000)
    return [o for o in found if str(o.get("clientOrderId")).startswith(prefix)]


def levels(orders: list[dict[str, Any]], prefix: str) -> list[int]:
    return [int(o["clientOrderId"][len(prefix) : len(prefix) + 3]) for o in orders]


def grid_args(demo: Demo, name: str, *extra: str) -> list[str]:
    price = mid(demo)
    return [
        "grid", "--account", "demo", "--symbol", "BTC/USDT", "--name", name,
        "--lower", str((price * D("0.997")).quantize(D("0.01"))), "--upper", str((price * D("1.003")).quantize(D("0.01"))),
        "--levels", "7", "--amount", "0.001", "--poll", "0.3", *extra,
    ]  # fmt: skip


def test_grid_killed_and_restarted_adopts_its_orders_and_never_doubles_a_level(
    demo: Demo, tmp_path: Path
) -> None:
    env = vault_with(tmp_path, demo, demo.key)
    client = ccxt_binance(demo.url, demo.key["key"], demo.key["secret"], **MINIMAL)
    prefix, log = "kpgkill-", tmp_path / "grid.log"
    args = grid_args(demo, "kill")
    with bot(env, log, *args) as first:
        eventually(lambda: log.read_text().count("placed ") >= 6, 60)
        first.send_signal(signal.SIGKILL)
        first.wait()
    left = ours(client, prefix)
    assert left, "the killed bot's orders stay on the exchange"
    assert len(set(levels(left, prefix))) == len(left)
    placed_before = log.read_text().count("placed ")
    with bot(env, log, *args) as second:
        eventually(lambda: "adopted" in log.read_text().split("starting")[-1], 60)
        restart = log.read_text().split("starting")[-1]
        assert "adopted" in restart and "open orders of this bot" in restart
        for _ in range(15):  # sample while it runs: never two open orders on one level
            now = ours(client, prefix)
            assert len(set(levels(now, prefix))) == len(now), now
            time.sleep(0.3)
        adopted = int(re.findall(r"adopted (\d+) open orders", log.read_text())[-1])
        # The market maker may fill some of them between the kill and the restart; any still open
        # now was adopted (the bot cancels nothing of its own while it runs).
        still_open = {o["id"] for o in left} & {o["id"] for o in ours(client, prefix)}
        assert len(still_open) <= adopted <= len(left)
        eventually(lambda: log.read_text().count("placed ") > placed_before, 90)  # it carries on trading
        # ... against the market maker: some of its orders fill.
        eventually(lambda: [o for o in ours(client, prefix, open_only=False) if o["filled"]], 120)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    text = log.read_text()
    assert "stopped;" in text and "open orders cancelled" in text
    assert ours(client, prefix) == []
    history = ours(client, prefix, open_only=False)
    ids = [o["clientOrderId"] for o in history]
    assert len(ids) == len(set(ids))
    by_level: dict[int, list[dict[str, Any]]] = {}
    for order, level in zip(history, levels(history, prefix), strict=True):
        by_level.setdefault(level, []).append(order)
    for level, orders in by_level.items():  # one order at a time on each level, across both runs
        orders.sort(key=lambda o: o["timestamp"])
        for earlier, later in pairwise(orders):
            ended = earlier.get("lastUpdateTimestamp") or earlier["timestamp"]
            assert later["timestamp"] >= ended, (level, earlier["clientOrderId"], later["clientOrderId"])
    assert demo.key["secret"] not in text and demo.key["key"] not in text and "signature" not in text
    assert "watching the order stream" in text and "order stream unavailable" not in text


def test_grid_dry_run_places_nothing(demo: Demo, tmp_path: Path) -> None:
    env = vault_with(tmp_path, demo, demo.key)
    client = ccxt_binance(demo.url, demo.key["key"], demo.key["secret"], **MINIMAL)
    log = tmp_path / "dry.log"
    with bot(env, log, *grid_args(demo, "dry", "--dry-run")) as running:
        eventually(lambda: "dry run: would place" in log.read_text(), 60)
        running.send_signal(signal.SIGINT)
        assert running.wait(timeout=60) == 0
    assert ours(client, "kpgdry-", open_only=False) == []
    assert "placed " not in log.read_text()


def test_grid_keep_orders_leaves_them_on_stop(demo: Demo, tmp_path: Path) -> None:
    env = vault_with(tmp_path, demo, demo.key)
    client = ccxt_binance(demo.url, demo.key["key"], demo.key["secret"], **MINIMAL)
    log = tmp_path / "keep.log"
    with bot(env, log, *grid_args(demo, "keep", "--keep-orders")) as running:
        eventually(lambda: log.read_text().count("placed ") >= 3, 60)
        running.send_signal(signal.SIGINT)
        assert running.wait(timeout=60) == 0
    assert "keeping" in log.read_text()
    kept = ours(client, "kpgkeep-")
    assert kept
    for order in kept:
        client.cancel_order(order["id"], "BTC/USDT")


def test_dca_restarted_after_sigkill_does_not_repeat_a_buy(demo: Demo, tmp_path: Path) -> None:
    env = vault_with(tmp_path, demo, demo.key)
    client = ccxt_binance(demo.url, demo.key["key"], demo.key["secret"], **MINIMAL)
    log = tmp_path / "dca.log"
    args = ["dca", "--account", "demo", "--symbol", "BTC/USDT", "--cost", "20", "--every", "3s", "--count", "3",
            "--name", "dcakill", "--poll", "0.3"]  # fmt: skip
    with bot(env, log, *args) as first:
        eventually(lambda: "placed market buy" in log.read_text(), 60)
        first.send_signal(signal.SIGKILL)
        first.wait()
    with bot(env, log, *args) as second:
        eventually(lambda: "all 3 buys done" in log.read_text(), 90)
        assert "found 1 earlier buys" in log.read_text() or "found 2 earlier buys" in log.read_text()
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    buys = ours(client, "kpddcakill-", open_only=False)
    slots = [o["clientOrderId"] for o in buys]
    assert len(buys) == 3 and len(set(slots)) == 3
    assert all(o["status"] == "closed" and o["side"] == "buy" for o in buys)
    assert all(D(str(o["cost"])) <= D(20) for o in buys)


def test_bot_refuses_a_key_that_can_withdraw(demo: Demo, tmp_path: Path) -> None:
    made = demo.cli("keys", "create", "--user", "demo", "--permissions", "read,trade,withdraw",
                    "--ip", "127.0.0.1", "--json")  # fmt: skip
    key = json.loads(made.stdout)
    env = vault_with(tmp_path, demo, key)
    refused = launch.run([*CLIENT, "bot", *grid_args(demo, "wd")], env=env, timeout=120)
    assert refused.returncode != 0
    assert "bot refuses account 'demo'" in refused.stderr and "withdraw" in refused.stderr
    assert "Traceback" not in refused.stderr and key["secret"] not in refused.stderr
    client = ccxt_binance(demo.url, demo.key["key"], demo.key["secret"], **MINIMAL)
    assert ours(client, "kpgwd-", open_only=False) == []


def test_bot_refuses_a_read_only_key_it_cannot_trade_with(demo: Demo, tmp_path: Path) -> None:
    key = json.loads(demo.cli("keys", "create", "--user", "demo", "--permissions", "read", "--json").stdout)
    env = vault_with(tmp_path, demo, key)
    done = launch.run([*CLIENT, "bot", *grid_args(demo, "ro")], env=env, timeout=120)
    assert done.returncode != 0 and "trade" in done.stderr and "Traceback" not in done.stderr


def test_bot_pauses_when_the_exchange_reports_its_weight_budget_nearly_used(
    demo: Demo, tmp_path: Path
) -> None:
    env = vault_with(tmp_path, demo, demo.key)
    log = tmp_path / "weight.log"
    with bot(env, log, *grid_args(demo, "wt", "--dry-run", "--weight-limit", "20")) as running:
        eventually(lambda: "request weight" in log.read_text(), 60)
        running.send_signal(signal.SIGINT)  # also ends the minute-long pause at once
        assert running.wait(timeout=30) == 0
    text = log.read_text()
    assert re.search(r"request weight \d+ of 20 used this minute; pausing", text)
    assert text.count("would place buy") + text.count("would place sell") <= 6  # each shown once
