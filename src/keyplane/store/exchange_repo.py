"""Exchange persistence: every statement on the ``ex_*`` tables; domain records in and out.

Why one module: the exchange's logic builds no SQL, so a table changes in one place, as keys'
queries live in :mod:`keyplane.store.key_repo`. Rows are made and read only here, so the exchange
never sees one. For that this module (alone in ``store``) imports the exchange's plain records:
enums and dataclasses (specs, orders, trades, ledger records), none of its logic.

Reads take a ``Connection`` (the caller chooses the thread and the transaction); :func:`write`
runs inside the transaction the exchange opens for one group commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, Dialect, RowMapping, bindparam, func, or_, select, update

from keyplane.exchange.amendments import Amendment
from keyplane.exchange.ledger import Account, AccountKind, BalanceRecord, Entry
from keyplane.exchange.markets import AssetSpec, MarketSpec, StpMode
from keyplane.exchange.models import (
    AggTrade,
    AggTradeRecord,
    Order,
    OrderList,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradeRecord,
)
from keyplane.exchange.prevented import PreventedMatch
from keyplane.exchange.wallet.transfers import DepositCredit, Withdrawal
from keyplane.store import amendment_repo, prevented_repo, wallet_transfer_repo
from keyplane.store.bulk import Bulk, pipelined
from keyplane.store.exchange_tables import (
    ex_accounts,
    ex_agg_trades,
    ex_assets,
    ex_balances,
    ex_entries,
    ex_markets,
    ex_order_lists,
    ex_orders,
    ex_trades,
)
from keyplane.store.types import money

# The columns of an order that change after it is placed.
ORDER_UPDATE_COLUMNS = (
    "executed_qty",
    "cummulative_quote_qty",
    "locked_amount",
    "status",
    "is_open",
    "update_time",
    "update_seq",
    "working_time",
    "trailing_time",
    "trail_price",
    "queue",
    "prevented_match_id",
    "prevented_quantity",
)
# The group commit's statements, one per kind of row: rows are tuples in these columns' order
# (named here, not taken from the tables, so that a new column cannot shift the others).
ORDER_INSERT = Bulk(
    ex_orders,
    (
        "id",
        "user_id",
        "symbol",
        "client_order_id",
        "side",
        "type",
        "time_in_force",
        "price",
        "orig_qty",
        "orig_quote_order_qty",
        "executed_qty",
        "cummulative_quote_qty",
        "locked_amount",
        "status",
        "stp_mode",
        "is_open",
        "time",
        "update_time",
        "working_time",
        "update_seq",
        "stop_price",
        "trailing_delta",
        "trailing_time",
        "trail_price",
        "order_list_id",
        "queue",
        "prevented_match_id",
        "prevented_quantity",
    ),
)
ORDER_UPDATE = Bulk(ex_orders, ORDER_UPDATE_COLUMNS, keys=("id",))
TRADE_INSERT = Bulk(
    ex_trades,
    (
        "id",
        "symbol",
        "price",
        "qty",
        "quote_qty",
        "time",
        "is_buyer_maker",
        "buyer_order_id",
        "seller_order_id",
        "buyer_user_id",
        "seller_user_id",
        "buyer_fee",
        "seller_fee",
    ),
)
AGG_INSERT = Bulk(
    ex_agg_trades,
    ("id", "symbol", "price", "qty", "first_trade_id", "last_trade_id", "time", "is_buyer_maker"),
)
ENTRY_INSERT = Bulk(
    ex_entries, ("txn", "account_id", "asset", "bucket", "amount", "kind", "ref", "memo", "at")
)
BALANCE_INSERT = Bulk(ex_balances, ("account_id", "asset", "free", "locked", "updated_at"))
BALANCE_UPDATE = Bulk(ex_balances, ("free", "locked", "updated_at"), keys=("account_id", "asset"))


@dataclass(kw_only=True, frozen=True, slots=True)
class Posting:
    """The ledger entries of one command: transaction ``txn`` (the command's seq), at time ``at``."""

    txn: int
    at: int
    entries: list[Entry]


@dataclass(kw_only=True, frozen=True, slots=True)
class OrderVersion:
    """An order as it stood when its batch closed, and the seq of the command that last changed it."""

    order: Order
    seq: int


@dataclass(kw_only=True, frozen=True, slots=True)
class Batch:
    """Everything one group commit writes; values, not live objects the engine still mutates."""

    accounts: list[Account]
    postings: list[Posting]
    balance_inserts: list[BalanceRecord]
    balance_updates: list[BalanceRecord]
    order_inserts: list[OrderVersion]
    order_updates: list[OrderVersion]
    trades: list[TradeRecord]
    aggs: list[AggTradeRecord]
    withdrawals: list[Withdrawal] = field(default_factory=list)
    new_withdrawal_ids: set[int] = field(default_factory=set)
    deposit_credits: list[DepositCredit] = field(default_factory=list)
    amends: list[Amendment] = field(default_factory=list)
    prevented: list[PreventedMatch] = field(default_factory=list)
    list_inserts: list[tuple[OrderList, int]] = field(default_factory=list)  # (list, seq)
    list_updates: list[tuple[OrderList, int]] = field(default_factory=list)


@dataclass(kw_only=True, frozen=True, slots=True)
class LastIds:
    """The highest ids and command seq written so far (0 on an empty database)."""

    order_id: int
    trade_id: int
    agg_id: int
    seq: int
    list_id: int = 0


# -- assets and markets --------------------------------------------------------------------
def load_assets(conn: Connection) -> dict[str, AssetSpec]:
    rows = conn.execute(select(ex_assets).order_by(ex_assets.c.code)).mappings()
    return {r["code"]: AssetSpec(**r) for r in rows}


def load_markets(conn: Connection) -> dict[str, MarketSpec]:
    out: dict[str, MarketSpec] = {}
    for r in conn.execute(select(ex_markets).order_by(ex_markets.c.symbol)).mappings():
        out[r["symbol"]] = MarketSpec(**{**r, "stp_mode": StpMode(r["stp_mode"])})
    return out


def save_assets(conn: Connection, assets: Iterable[AssetSpec]) -> None:
    rows = [asdict(a) for a in assets]
    if rows:
        conn.execute(ex_assets.insert(), rows)


def save_markets(conn: Connection, markets: Iterable[MarketSpec]) -> None:
    rows = [{**asdict(m), "stp_mode": m.stp_mode.value} for m in markets]
    if rows:
        conn.execute(ex_markets.insert(), rows)


# -- the ledger ----------------------------------------------------------------------------
def load_accounts(conn: Connection) -> list[Account]:
    rows = conn.execute(select(ex_accounts).order_by(ex_accounts.c.id)).mappings()
    return [Account(id=r["id"], kind=AccountKind(r["kind"]), user_id=r["user_id"]) for r in rows]


def insert_accounts(conn: Connection, accounts: Iterable[Account]) -> None:
    rows = [{"id": a.id, "kind": a.kind.value, "user_id": a.user_id} for a in accounts]
    if rows:
        conn.execute(ex_accounts.insert(), rows)


def load_balances(conn: Connection) -> dict[tuple[int, str], tuple[Decimal, Decimal]]:
    """(free, locked) per (account, asset)."""
    rows = conn.execute(select(ex_balances)).mappings()
    return {(r["account_id"], r["asset"]): (r["free"], r["locked"]) for r in rows}


# -- orders --------------------------------------------------------------------------------
def _order_row(o: Order, seq: int, d: Dialect) -> tuple[Any, ...]:
    """An order's ``ex_orders`` row, in :data:`ORDER_INSERT`'s column order."""
    return (
        o.order_id,
        o.user_id,
        o.symbol,
        o.client_order_id,
        o.side.value,
        o.type.value,
        o.time_in_force.value,
        money(o.price, d),
        money(o.orig_qty, d),
        money(o.orig_quote_order_qty, d),
        money(o.executed_qty, d),
        money(o.cummulative_quote_qty, d),
        money(o.locked_amount, d),
        o.status.value,
        o.self_trade_prevention_mode.value,
        o.status.is_open,
        o.time,
        o.update_time,
        o.working_time,
        seq,
        money(o.stop_price, d),
        o.trailing_delta,
        o.trailing_time,
        money(o.trail_price, d),
        o.order_list_id,
        o.queue,
        o.prevented_match_id,
        money(o.prevented_quantity, d),
    )


def _order_update_row(o: Order, seq: int, d: Dialect) -> tuple[Any, ...]:
    """The changing columns (:data:`ORDER_UPDATE_COLUMNS`), then the order's id."""
    return (
        money(o.executed_qty, d),
        money(o.cummulative_quote_qty, d),
        money(o.locked_amount, d),
        o.status.value,
        o.status.is_open,
        o.update_time,
        seq,
        o.working_time,
        o.trailing_time,
        money(o.trail_price, d),
        o.queue,
        o.prevented_match_id,
        money(o.prevented_quantity, d),
        o.order_id,
    )


def _order(r: RowMapping) -> Order:
    return Order(
        order_id=r["id"],
        client_order_id=r["client_order_id"],
        user_id=r["user_id"],
        symbol=r["symbol"],
        side=Side(r["side"]),
        type=OrderType(r["type"]),
        time_in_force=TimeInForce(r["time_in_force"]),
        price=r["price"],
        orig_qty=r["orig_qty"],
        orig_quote_order_qty=r["orig_quote_order_qty"],
        executed_qty=r["executed_qty"],
        cummulative_quote_qty=r["cummulative_quote_qty"],
        status=OrderStatus(r["status"]),
        self_trade_prevention_mode=StpMode(r["stp_mode"]),
        time=r["time"],
        update_time=r["update_time"],
        working_time=r["working_time"],
        locked_amount=r["locked_amount"],
        stop_price=r["stop_price"],
        trailing_delta=r["trailing_delta"],
        trailing_time=r["trailing_time"],
        trail_price=r["trail_price"],
        order_list_id=r["order_list_id"],
        queue=r["queue"],
        prevented_match_id=r["prevented_match_id"],
        prevented_quantity=r["prevented_quantity"],
    )


def open_orders(conn: Connection) -> list[Order]:
    """Every open order, oldest first (the order in which books are rebuilt)."""
    q = select(ex_orders).where(ex_orders.c.is_open.is_(True)).order_by(ex_orders.c.id)
    return [_order(r) for r in conn.execute(q).mappings()]


def find_order(
    conn: Connection, user_id: int, symbol: str, order_id: int | None, client_order_id: str | None
) -> Order | None:
    """The user's order on ``symbol`` by id, by client id, or by both (the newest if a client id repeats)."""
    q = select(ex_orders).where(ex_orders.c.user_id == user_id, ex_orders.c.symbol == symbol)
    if order_id is not None:
        q = q.where(ex_orders.c.id == order_id)
    if client_order_id is not None:
        q = q.where(ex_orders.c.client_order_id == client_order_id)
    r = conn.execute(q.order_by(ex_orders.c.id.desc()).limit(1)).mappings().first()
    return _order(r) if r else None


def all_orders(
    conn: Connection,
    user_id: int,
    symbol: str,
    order_id: int | None,
    start_time: int | None,
    end_time: int | None,
    limit: int,
) -> list[Order]:
    """Binance: with ``orderId`` the orders >= it; else within the times; else the most recent."""
    c = ex_orders.c
    q = select(ex_orders).where(c.user_id == user_id, c.symbol == symbol)
    if order_id is not None:
        q = q.where(c.id >= order_id).order_by(c.id).limit(limit)
        return [_order(r) for r in conn.execute(q).mappings()]
    if start_time is not None:
        q = q.where(c.time >= start_time)
    if end_time is not None:
        q = q.where(c.time <= end_time)
    if start_time is not None:
        rows = list(conn.execute(q.order_by(c.id).limit(limit)).mappings())
    else:
        rows = list(reversed(list(conn.execute(q.order_by(c.id.desc()).limit(limit)).mappings())))
    return [_order(r) for r in rows]


# -- order lists ---------------------------------------------------------------------------
def _list_row(lst: OrderList, seq: int) -> dict[str, Any]:
    return {
        "id": lst.list_id,
        "user_id": lst.user_id,
        "symbol": lst.symbol,
        "contingency_type": lst.contingency_type,
        "list_status_type": lst.list_status_type,
        "list_order_status": lst.list_order_status,
        "list_client_order_id": lst.list_client_order_id,
        "transaction_time": lst.transaction_time,
        "update_seq": seq,
    }


def _lists(conn: Connection, rows: list[RowMapping]) -> list[OrderList]:
    """Order lists of ``rows`` with their legs (id, client id) from the orders table."""
    ids = [r["id"] for r in rows]
    legs: dict[int, list[tuple[int, str]]] = {i: [] for i in ids}
    if ids:
        q = (
            select(ex_orders.c.order_list_id, ex_orders.c.id, ex_orders.c.client_order_id)
            .where(ex_orders.c.order_list_id.in_(ids))
            .order_by(ex_orders.c.id)
        )
        for list_id, order_id, client_id in conn.execute(q):
            legs[list_id].append((order_id, client_id))
    return [
        OrderList(
            list_id=r["id"],
            user_id=r["user_id"],
            symbol=r["symbol"],
            contingency_type=r["contingency_type"],
            list_status_type=r["list_status_type"],
            list_order_status=r["list_order_status"],
            list_client_order_id=r["list_client_order_id"],
            transaction_time=r["transaction_time"],
            orders=legs[r["id"]],
        )
        for r in rows
    ]


def open_order_lists(conn: Connection) -> list[OrderList]:
    """Every order list still executing, oldest first."""
    c = ex_order_lists.c
    q = select(ex_order_lists).where(c.list_status_type == "EXEC_STARTED").order_by(c.id)
    return _lists(conn, list(conn.execute(q).mappings()))


def find_order_list(
    conn: Connection, user_id: int, list_id: int | None, client_id: str | None
) -> OrderList | None:
    """The user's order list by id or by list client id (the newest if one repeats)."""
    c = ex_order_lists.c
    q = select(ex_order_lists).where(c.user_id == user_id)
    if list_id is not None:
        q = q.where(c.id == list_id)
    if client_id is not None:
        q = q.where(c.list_client_order_id == client_id)
    rows = list(conn.execute(q.order_by(c.id.desc()).limit(1)).mappings())
    found = _lists(conn, rows)
    return found[0] if found else None


def order_lists_of(
    conn: Connection,
    user_id: int,
    from_id: int | None,
    start_time: int | None,
    end_time: int | None,
    limit: int,
) -> list[OrderList]:
    """``allOrderList``: from ``from_id`` or within the times (oldest first), else the most recent."""
    c = ex_order_lists.c
    q = select(ex_order_lists).where(c.user_id == user_id)
    if from_id is not None:
        q = q.where(c.id >= from_id)
    if start_time is not None:
        q = q.where(c.transaction_time >= start_time)
    if end_time is not None:
        q = q.where(c.transaction_time <= end_time)
    newest = from_id is None and start_time is None
    rows = list(conn.execute(q.order_by(c.id.desc() if newest else c.id).limit(limit)).mappings())
    if newest:
        rows.reverse()
    return _lists(conn, rows)


# -- trades --------------------------------------------------------------------------------
def _trade(r: RowMapping) -> TradeRecord:
    return TradeRecord(**r)


def trades_of(
    conn: Connection,
    user_id: int,
    symbol: str,
    order_id: int | None,
    start_time: int | None,
    end_time: int | None,
    from_id: int | None,
    limit: int,
) -> list[TradeRecord]:
    """Trades on ``symbol`` in which the user was buyer or seller (of ``order_id`` if given),
    oldest first: from ``from_id`` or ``start_time`` upwards, else the most recent ``limit``."""
    c = ex_trades.c
    q = select(ex_trades).where(
        c.symbol == symbol, or_(c.buyer_user_id == user_id, c.seller_user_id == user_id)
    )
    if order_id is not None:
        q = q.where(or_(c.buyer_order_id == order_id, c.seller_order_id == order_id))
    if from_id is not None:
        q = q.where(c.id >= from_id)
    if start_time is not None:
        q = q.where(c.time >= start_time)
    if end_time is not None:
        q = q.where(c.time <= end_time)
    newest_first = from_id is None and start_time is None
    q = q.order_by(c.id.desc() if newest_first else c.id).limit(limit)
    rows = list(conn.execute(q).mappings())
    if newest_first:
        rows.reverse()
    return [_trade(r) for r in rows]


def recent_trades(conn: Connection, symbol: str, limit: int) -> list[TradeRecord]:
    """The most recent ``limit`` trades on ``symbol``, oldest first."""
    c = ex_trades.c
    q = select(ex_trades).where(c.symbol == symbol).order_by(c.id.desc()).limit(limit)
    return [_trade(r) for r in reversed(list(conn.execute(q).mappings()))]


def trades_from(conn: Connection, symbol: str, from_id: int, limit: int) -> list[TradeRecord]:
    """Up to ``limit`` trades on ``symbol`` from id ``from_id`` upwards, oldest first."""
    c = ex_trades.c
    q = select(ex_trades).where(c.symbol == symbol, c.id >= from_id).order_by(c.id).limit(limit)
    return [_trade(r) for r in conn.execute(q).mappings()]


def trades_between(conn: Connection, symbol: str, start: int, end: int) -> list[TradeRecord]:
    """Every trade on ``symbol`` with ``start <= time <= end``, oldest first."""
    c = ex_trades.c
    q = select(ex_trades).where(c.symbol == symbol, c.time >= start, c.time <= end).order_by(c.id)
    return [_trade(r) for r in conn.execute(q).mappings()]


def daily_entry_sums(conn: Connection, account_id: int, end: int) -> list[tuple[str, str, int, Decimal]]:
    """The account's entries up to ``end`` summed per (asset, bucket, UTC day number): a day's
    closing balance is the running total of these (``keyplane.exchange.snapshots``). PostgreSQL
    sums its exact NUMERIC column; SQLite keeps money as text, so its rows are summed here."""
    c = ex_entries.c
    day = (c.at // 86_400_000).label("day")
    where = (c.account_id == account_id, c.at <= end)
    if conn.dialect.name == "postgresql":
        q = select(c.asset, c.bucket, day, func.sum(c.amount)).where(*where).group_by(c.asset, c.bucket, day)
        return [(asset, bucket, int(d), total) for asset, bucket, d, total in conn.execute(q)]
    sums: dict[tuple[str, str, int], Decimal] = defaultdict(Decimal)
    for asset, bucket, d, amount in conn.execute(select(c.asset, c.bucket, day, c.amount).where(*where)):
        sums[(asset, bucket, int(d))] += amount
    return [(asset, bucket, d, total) for (asset, bucket, d), total in sums.items()]


def last_trade_before(conn: Connection, symbol: str, t: int) -> TradeRecord | None:
    c = ex_trades.c
    q = select(ex_trades).where(c.symbol == symbol, c.time < t).order_by(c.id.desc()).limit(1)
    r = conn.execute(q).mappings().first()
    return _trade(r) if r is not None else None


def first_trade_time(conn: Connection, symbol: str) -> int | None:
    c = ex_trades.c
    first: int | None = conn.execute(select(func.min(c.time)).where(c.symbol == symbol)).scalar()
    return first


def last_price(conn: Connection, symbol: str) -> Decimal | None:
    c = ex_trades.c
    r = conn.execute(select(c.price).where(c.symbol == symbol).order_by(c.id.desc()).limit(1)).first()
    return r[0] if r else None


def agg_trades(
    conn: Connection,
    symbol: str,
    from_id: int | None,
    start_time: int | None,
    end_time: int | None,
    limit: int,
) -> list[AggTrade]:
    """aggTrades, oldest first: from ``from_id`` or ``start_time`` upwards, else the most recent."""
    c = ex_agg_trades.c
    q = select(ex_agg_trades).where(c.symbol == symbol)
    if from_id is not None:
        q = q.where(c.id >= from_id)
    if start_time is not None:
        q = q.where(c.time >= start_time)
    if end_time is not None:
        q = q.where(c.time <= end_time)
    newest = from_id is None and start_time is None
    rows = list(conn.execute(q.order_by(c.id.desc() if newest else c.id).limit(limit)).mappings())
    if newest:
        rows.reverse()
    return [
        AggTrade(
            id=r["id"],
            price=r["price"],
            qty=r["qty"],
            first_trade_id=r["first_trade_id"],
            last_trade_id=r["last_trade_id"],
            time=r["time"],
            is_buyer_maker=r["is_buyer_maker"],
        )
        for r in rows
    ]


# -- start-up and group commits ------------------------------------------------------------
def last_ids(conn: Connection) -> LastIds:
    def top(col: ColumnElement[Any]) -> int:
        return int(conn.execute(select(func.coalesce(func.max(col), 0))).scalar_one())

    return LastIds(
        order_id=top(ex_orders.c.id),
        trade_id=top(ex_trades.c.id),
        agg_id=top(ex_agg_trades.c.id),
        seq=max(top(ex_orders.c.update_seq), top(ex_entries.c.txn), top(ex_order_lists.c.update_seq)),
        list_id=top(ex_order_lists.c.id),
    )


def write(conn: Connection, batch: Batch) -> None:
    """Write one closed batch inside the caller's transaction (parents before children), its
    statements in one pipeline on PostgreSQL."""
    with pipelined(conn):
        _write(conn, batch)


def _write(conn: Connection, batch: Batch) -> None:
    d = conn.dialect
    insert_accounts(conn, batch.accounts)
    ORDER_INSERT.run(conn, [_order_row(v.order, v.seq, d) for v in batch.order_inserts])
    ORDER_UPDATE.run(conn, [_order_update_row(v.order, v.seq, d) for v in batch.order_updates])
    amendment_repo.write(conn, batch.amends)
    prevented_repo.write(conn, batch.prevented)
    if batch.list_inserts:
        conn.execute(ex_order_lists.insert(), [_list_row(lst, seq) for lst, seq in batch.list_inserts])
    if batch.list_updates:
        conn.execute(
            update(ex_order_lists)
            .where(ex_order_lists.c.id == bindparam("l_id"))
            .values(
                list_status_type=bindparam("l_status"),
                list_order_status=bindparam("l_order_status"),
                transaction_time=bindparam("l_time"),
                update_seq=bindparam("l_seq"),
            ),
            [
                {
                    "l_id": lst.list_id,
                    "l_status": lst.list_status_type,
                    "l_order_status": lst.list_order_status,
                    "l_time": lst.transaction_time,
                    "l_seq": seq,
                }
                for lst, seq in batch.list_updates
            ],
        )
    TRADE_INSERT.run(
        conn,
        [
            (
                t.id,
                t.symbol,
                money(t.price, d),
                money(t.qty, d),
                money(t.quote_qty, d),
                t.time,
                t.is_buyer_maker,
                t.buyer_order_id,
                t.seller_order_id,
                t.buyer_user_id,
                t.seller_user_id,
                money(t.buyer_fee, d),
                money(t.seller_fee, d),
            )
            for t in batch.trades
        ],
    )
    AGG_INSERT.run(
        conn,
        [
            (
                a.id,
                a.symbol,
                money(a.price, d),
                money(a.qty, d),
                a.first_trade_id,
                a.last_trade_id,
                a.time,
                a.is_buyer_maker,
            )
            for a in batch.aggs
        ],
    )
    ENTRY_INSERT.run(
        conn,
        [
            (
                p.txn,
                e.account_id,
                e.asset,
                e.bucket.value,
                money(e.amount, d),
                e.kind.value,
                e.ref,
                e.memo,
                p.at,
            )
            for p in batch.postings
            for e in p.entries
        ],
    )
    BALANCE_INSERT.run(
        conn,
        [
            (b.account_id, b.asset, money(b.free, d), money(b.locked, d), b.updated_at)
            for b in batch.balance_inserts
        ],
    )
    BALANCE_UPDATE.run(
        conn,
        [
            (money(b.free, d), money(b.locked, d), b.updated_at, b.account_id, b.asset)
            for b in batch.balance_updates
        ],
    )
    if batch.withdrawals or batch.deposit_credits:
        wallet_transfer_repo.write(conn, batch.withdrawals, batch.new_withdrawal_ids, batch.deposit_credits)
