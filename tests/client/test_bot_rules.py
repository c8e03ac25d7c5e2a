"""The bots' rules without an exchange: grid plans, client order ids, option checks."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from keyplane.client.bot import ids
from keyplane.client.bot.dca import DcaConfig
from keyplane.client.bot.errors import BadBotConfig
from keyplane.client.bot.grid import GridConfig, plan

GRID = GridConfig(symbol="BTC/USDT", lower=D(100), upper=D(160), levels=7, amount=D(1))  # 100, 110, ..., 160


def test_grid_levels_are_evenly_spaced_from_lower_to_upper() -> None:
    assert GRID.prices() == [D(100), D(110), D(120), D(130), D(140), D(150), D(160)]


def test_grid_buys_below_sells_above_and_leaves_the_level_nearest_the_price_empty() -> None:
    todo = plan(GRID, D(131), set())
    assert todo.gap == 3
    sides = {level: side for level, side, _ in todo.place}
    assert sides == {0: "buy", 1: "buy", 2: "buy", 4: "sell", 5: "sell", 6: "sell"}
    assert [level for level, _, _ in todo.place][:2] in ([2, 4], [4, 2])  # nearest the price first


def test_grid_never_places_on_a_level_that_already_has_an_order() -> None:
    todo = plan(GRID, D(131), {0, 2, 4, 6})
    assert sorted(level for level, _, _ in todo.place) == [1, 5]
    assert plan(GRID, D(131), {0, 1, 2, 4, 5, 6}).place == []


def test_after_a_buy_fills_the_gap_moves_down_and_the_sell_above_is_kept() -> None:
    # The buy on level 2 (120) filled: the price is at 120; the sell on level 3 (130) is wanted.
    todo = plan(GRID, D(120), {0, 1, 4, 5, 6})
    assert todo.gap == 2 and [(level, side) for level, side, _ in todo.place] == [(3, "sell")]


def test_grid_caps_new_orders_per_round() -> None:
    wide = GridConfig(symbol="X/Y", lower=D(1), upper=D(100), levels=100, amount=D(1), max_new_per_round=5)
    assert len(plan(wide, D(50), set()).place) == 5


@pytest.mark.parametrize(
    "config",
    [
        GridConfig(symbol="X/Y", lower=D(2), upper=D(1), levels=5, amount=D(1)),
        GridConfig(symbol="X/Y", lower=D(0), upper=D(1), levels=5, amount=D(1)),
        GridConfig(symbol="X/Y", lower=D(1), upper=D(2), levels=1, amount=D(1)),
        GridConfig(symbol="X/Y", lower=D(1), upper=D(2), levels=5, amount=D(0)),
    ],
)
def test_bad_grid_settings_are_refused(config: GridConfig) -> None:
    with pytest.raises(BadBotConfig):
        config.validate()


def test_bad_dca_settings_are_refused() -> None:
    for config in (
        DcaConfig(symbol="X/Y", cost=D(0), every_ms=60_000),
        DcaConfig(symbol="X/Y", cost=D(1), every_ms=10),
        DcaConfig(symbol="X/Y", cost=D(1), every_ms=60_000, count=0),
    ):
        with pytest.raises(BadBotConfig):
            config.validate()


def test_client_order_ids_fit_binance_and_carry_the_level() -> None:
    prefix = ids.prefix("g", None, "acct", "BTC/USDT", D(1), D(2), 7, D("0.001"))
    assert prefix == ids.prefix(
        "g", None, "acct", "BTC/USDT", D(1), D(2), 7, D("0.001")
    )  # same settings, same prefix
    assert prefix != ids.prefix("g", None, "acct", "BTC/USDT", D(1), D(3), 7, D("0.001"))
    made = ids.grid_id(prefix, 12, "sell", now_ms=1_800_000_000_000)
    assert len(made) <= 36 and ids.grid_level(prefix, made) == 12
    assert ids.grid_level("kpgother-", made) is None
    long_named = ids.grid_id(ids.prefix("g", "abcdefghijkl"), 199, "buy")
    assert len(long_named) <= 36
    assert len(ids.dca_id(ids.prefix("d", "abcdefghijkl"), 1_800_000_000_000 // 1000)) <= 36
    with pytest.raises(BadBotConfig):
        ids.prefix("g", "bad name!")
