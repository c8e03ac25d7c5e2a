"""User data events in Binance's shapes: executionReport, outboundAccountPosition, balanceUpdate.

One batch may hold several steps of one order (placed, filled twice, expired): the reports are
rebuilt step by step from the batch's trades, so a client sees NEW, then one TRADE per fill with
its ``l``/``L``/``n``/``t``, then the final state, as Binance sends them. A conditional order is
reported NEW off the book when placed (``w`` false, ``W`` -1) and NEW again, now working, when
it triggers; ``P`` is its stop price, and a trailing order adds ``d`` (delta) and ``D`` (the
time it started tracking). ``listStatus`` and the list ids (``g``) keep Binance's places.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from keyplane.exchange.amendments import Amendment
from keyplane.exchange.events import ExchangeEvents
from keyplane.exchange.marketdata import fmt
from keyplane.exchange.models import PENDING, Order, OrderList, OrderStatus, TradeRecord
from keyplane.streams.names import user_topic

Json = dict[str, Any]
ZERO = Decimal(0)
FINAL_EXECUTION = {
    OrderStatus.CANCELED: "CANCELED",
    OrderStatus.EXPIRED: "EXPIRED",
    OrderStatus.EXPIRED_IN_MATCH: "TRADE_PREVENTION",
    OrderStatus.REJECTED: "REJECTED",
}


def user_messages(events: ExchangeEvents) -> Iterator[tuple[str, Json]]:
    """Every user event of one batch, on the topic of the user it belongs to."""
    by_order: dict[int, list[TradeRecord]] = defaultdict(list)
    for t in events.trades:
        by_order[t.buyer_order_id].append(t)
        by_order[t.seller_order_id].append(t)
    amended: dict[int, list[Amendment]] = defaultdict(list)
    for a in events.amends:
        amended[a.order_id].append(a)
    for change in events.orders:
        o = change.order
        base, quote = events.markets.get(o.symbol, ("", ""))
        for report in execution_reports(
            o,
            change.new,
            by_order.get(o.order_id, []),
            base,
            quote,
            events.time,
            amends=amended.get(o.order_id, ()),
            triggered=change.triggered,
        ):
            yield user_topic(o.user_id), report
    for lst in events.lists:
        yield user_topic(lst.user_id), list_status(lst, events.time)
    for move in events.moves:
        yield (
            user_topic(move.user_id),
            {
                "e": "balanceUpdate",
                "E": events.time,
                "a": move.asset,
                "d": fmt(move.delta),
                "T": move.time,
            },
        )
    positions: dict[int, list[Json]] = defaultdict(list)
    for b in events.balances:
        positions[b.user_id].append({"a": b.asset, "f": fmt(b.free), "l": fmt(b.locked)})
    for user_id, assets in positions.items():
        yield (
            user_topic(user_id),
            {
                "e": "outboundAccountPosition",
                "E": events.time,
                "u": events.time,
                "B": assets,
            },
        )


def list_status(lst: OrderList, now: int) -> Json:
    """Binance's ``listStatus`` event of an order list placed or ended."""
    return {
        "e": "listStatus",
        "E": now,
        "s": lst.symbol,
        "g": lst.list_id,
        "c": lst.contingency_type,
        "l": lst.list_status_type,
        "L": lst.list_order_status,
        "r": "NONE",
        "C": lst.list_client_order_id,
        "T": lst.transaction_time,
        "O": [{"s": lst.symbol, "i": i, "c": c} for i, c in lst.orders],
    }


def execution_reports(
    o: Order,
    new: bool,
    trades: list[TradeRecord],
    base: str,
    quote: str,
    now: int,
    *,
    amends: Sequence[Amendment] = (),
    triggered: bool = False,
) -> Iterator[Json]:
    """The order's steps in this batch: NEW, each TRADE, each amend (REPLACED) where it happened
    among the trades, then its final state. ``o`` is the order as the batch left it; before an
    amend its quantity and client id were the amend's originals."""
    z = o.executed_qty - sum((t.qty for t in trades), ZERO)
    quote_total = o.cummulative_quote_qty - sum((t.quote_qty for t in trades), ZERO)
    cur = o
    if amends:
        first = amends[0]
        cur = replace(o, orig_qty=first.orig_qty, client_order_id=first.orig_client_order_id)
    pending = list(amends)
    if new:
        untriggered = triggered or o.working_time == PENDING
        opening = OrderStatus.PENDING_NEW if o.status is OrderStatus.PENDING_NEW else OrderStatus.NEW
        yield _report(cur, "NEW", opening, z, quote_total, None, "", ZERO, now, untriggered)
    if triggered:
        yield _report(cur, "NEW", OrderStatus.NEW, z, quote_total, None, "", ZERO, now)
    for i, t in enumerate(trades):
        while pending and pending[0].next_trade_id <= t.id:
            cur, report = _replaced(o, pending.pop(0), z, quote_total, now)
            yield report
        z += t.qty
        quote_total += t.quote_qty
        last = i == len(trades) - 1 and not pending
        status = o.status if last and o.status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED) else None
        if status is None:
            status = OrderStatus.FILLED if z == cur.orig_qty else OrderStatus.PARTIALLY_FILLED
        buyer = t.buyer_order_id == o.order_id
        fee, fee_asset = (t.buyer_fee, base) if buyer else (t.seller_fee, quote)
        yield _report(cur, "TRADE", status, z, quote_total, t, fee_asset, fee, now)
    for a in pending:
        cur, report = _replaced(o, a, z, quote_total, now)
        yield report
    final = FINAL_EXECUTION.get(o.status)
    if final is not None:
        yield _report(o, final, o.status, z, quote_total, None, "", ZERO, now)


def _replaced(o: Order, a: Amendment, z: Decimal, quote_total: Decimal, now: int) -> tuple[Order, Json]:
    """The order after amend ``a``, and its REPLACED report (``C``: the client id it had before)."""
    cur = replace(o, orig_qty=a.new_qty, client_order_id=a.new_client_order_id, update_time=a.time)
    status = OrderStatus.PARTIALLY_FILLED if z else OrderStatus.NEW
    report = _report(cur, "REPLACED", status, z, quote_total, None, "", ZERO, now)
    report["C"] = a.orig_client_order_id
    return cur, report


def _report(
    o: Order,
    execution: str,
    status: OrderStatus,
    z: Decimal,
    quote_total: Decimal,
    t: TradeRecord | None,
    fee_asset: str,
    fee: Decimal,
    now: int,
    pending: bool = False,
) -> Json:
    buyer = t is not None and t.buyer_order_id == o.order_id
    pending = pending or o.working_time == PENDING
    report = {
        "e": "executionReport",
        "E": now,
        "s": o.symbol,
        "c": o.client_order_id,
        "S": o.side.value,
        "o": o.type.value,
        "f": o.time_in_force.value,
        "q": fmt(o.orig_qty),
        "p": fmt(o.price),
        "P": fmt(o.stop_price),
        "F": fmt(ZERO),
        "g": o.order_list_id,
        "C": "",
        "x": execution,
        "X": status.value,
        "r": "NONE",
        "i": o.order_id,
        "l": fmt(t.qty) if t else fmt(ZERO),
        "z": fmt(z),
        "L": fmt(t.price) if t else fmt(ZERO),
        "n": fmt(fee),
        "N": fee_asset or None,
        "T": t.time if t else o.update_time,
        "t": t.id if t else -1,
        "I": o.update_time,
        "w": status.is_open and not pending,
        "m": t is not None and t.is_buyer_maker == buyer,
        "M": False,
        "O": o.time,
        "Z": fmt(quote_total),
        "Y": fmt(t.quote_qty) if t else fmt(ZERO),
        "Q": fmt(o.orig_quote_order_qty),
        "W": PENDING if pending else o.working_time,
        "V": o.self_trade_prevention_mode.value,
    }
    if o.trailing_delta:
        report["d"] = o.trailing_delta
        report["D"] = o.trailing_time
    if o.prevented_match_id and status is OrderStatus.EXPIRED_IN_MATCH:
        # Binance's prevented match id, prevented quantity and last prevented quantity.
        report["v"] = o.prevented_match_id
        report["A"] = report["B"] = fmt(o.prevented_quantity)
    return report
