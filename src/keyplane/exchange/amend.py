"""Changing an open order: cancel-replace (a new order, back of the queue) and amend keeping priority.

Why two commands: Binance offers both and they differ in what a trader keeps. A cancel-replace
cancels one order and places another in ONE command (one batch; no other command runs between the
two halves, and the new order may use the funds the cancel released); the new order gets a new id
and joins the back of its price level. An amend only lowers an open order's quantity: the order
keeps its id and its place in the queue, and the funds its lower quantity no longer needs are
unlocked. Each half of a cancel-replace can fail on its own; :class:`Replaced` says how each ended,
and the HTTP layer turns that into Binance's -2021/-2022 answers.

Mixed into :class:`~keyplane.exchange.service.Exchange` as :class:`AmendCommands`; the commands use
its checked placement (``_await_new``/``_check_new``/``_place_new``) so a replacing order runs
the same checks and matching as any new order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from keyplane.exchange.amendments import Amendment
from keyplane.exchange.errors import ExchangeError, InvalidParameter, UnknownOrder
from keyplane.exchange.models import BUY, NEW, PARTIALLY_FILLED, PENDING, Fill, Order, PlacedOrder
from keyplane.exchange.orders import OrderRequest, clamp_limit, validate
from keyplane.store import amendment_repo

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from keyplane.exchange.book import LiveOrder, OrderBook
    from keyplane.exchange.journal import Journal
    from keyplane.exchange.ledger import Ledger
    from keyplane.exchange.markets import MarketSpec
    from keyplane.exchange.matching import Command
    from keyplane.exchange.open_limits import OpenOrderLimits
    from keyplane.exchange.sequencer import Sequencer
    from keyplane.exchange.service import NewOrder


MAX_AMENDMENTS = 1000  # what GET /api/v3/order/amendments answers at most (Binance's maximum)


class CancelReplaceMode(str, Enum):
    """Whether the new order is attempted when the cancel failed."""

    STOP_ON_FAILURE = "STOP_ON_FAILURE"
    ALLOW_FAILURE = "ALLOW_FAILURE"


class CancelRestriction(str, Enum):
    """Cancel only an order in this status (``cancelRestrictions``)."""

    ONLY_NEW = "ONLY_NEW"
    ONLY_PARTIALLY_FILLED = "ONLY_PARTIALLY_FILLED"


class CancelRestricted(UnknownOrder):
    """-2011: the order is open but not in the status ``cancelRestrictions`` asked for."""

    default_msg = "Order was not canceled due to cancel restrictions."


class AmendRejected(ExchangeError):
    """-2038 ORDER_AMEND_REJECTED, with the matching engine's reason."""

    code = -2038
    default_msg = "Unknown order sent."


@dataclass(kw_only=True, frozen=True, slots=True)
class Amended:
    """An amend's answer: the order after it, and the amendment."""

    order: Order
    amendment: Amendment


@dataclass(kw_only=True, frozen=True, slots=True)
class Replaced:
    """How each half of a cancel-replace ended: the cancelled order or the cancel's error; the
    placed order, its error, or None when it was not attempted (STOP_ON_FAILURE)."""

    cancel: Order | ExchangeError
    new: PlacedOrder | ExchangeError | None

    @property
    def succeeded(self) -> bool:
        return isinstance(self.cancel, Order) and isinstance(self.new, PlacedOrder)


_RESTRICTED = {CancelRestriction.ONLY_NEW: NEW, CancelRestriction.ONLY_PARTIALLY_FILLED: PARTIALLY_FILLED}


class AmendCommands:
    """Mixed into :class:`~keyplane.exchange.service.Exchange`; uses its books, ledger and sequencer."""

    if TYPE_CHECKING:
        engine: Engine
        ledger: Ledger
        books: dict[str, OrderBook]
        sequencer: Sequencer[Any, Any]
        _journal: Journal
        open_limits: OpenOrderLimits
        _open_ids: dict[tuple[int, str], int]
        _market: Callable[[str], MarketSpec]

        async def _await_new(self, req: OrderRequest) -> Decimal: ...
        def _check_new(self, req: OrderRequest, avg: Decimal, freed: str = "") -> NewOrder: ...
        def _place_new(self, new: NewOrder, cx: Command) -> tuple[LiveOrder, list[Fill]]: ...
        def _begin(self) -> Command: ...
        def _failed(self, cx: Command, error: BaseException) -> None: ...
        def _finish(self, cx: Command) -> None: ...
        def _cancel(self, order: LiveOrder, cx: Command) -> None: ...
        def _open_order(
            self, user_id: int, symbol: str, order_id: int | None, orig_client_order_id: str | None
        ) -> LiveOrder | None: ...

    async def cancel_replace(
        self,
        req: OrderRequest,
        cancel_order_id: int | None,
        cancel_orig_client_order_id: str | None,
        mode: CancelReplaceMode,
        restriction: CancelRestriction | None = None,
    ) -> Replaced:
        """Cancel an open order of ``req.user_id`` on ``req.symbol`` and place ``req``, in one command.

        A parameter or filter failure of the new order raises before anything happens (Binance
        checks filters first); an engine refusal of either half is returned in :class:`Replaced`."""
        if cancel_order_id is None and cancel_orig_client_order_id is None:
            raise InvalidParameter.neither("cancelOrderId", "cancelOrigClientOrderId")
        avg = await self._await_new(req)
        validate(req, self._market(req.symbol), avg or None)  # filters first: nothing is cancelled
        cancel_error: ExchangeError | None = None
        old = self._open_order(req.user_id, req.symbol, cancel_order_id, cancel_orig_client_order_id)
        if old is None:
            cancel_error = UnknownOrder()
        elif restriction is not None and old.status is not _RESTRICTED[restriction]:
            cancel_error = CancelRestricted()
        if cancel_error is not None and mode is CancelReplaceMode.STOP_ON_FAILURE:
            return Replaced(cancel=cancel_error, new=None)
        new_error: ExchangeError | None = None
        placed: LiveOrder | None = None
        fills: list[Fill] = []
        cx = self._begin()
        try:
            if old is not None and cancel_error is None:
                self._cancel(old, cx)
            try:
                new = self._check_new(req, avg, freed=old.client_order_id if old and not cancel_error else "")
            except ExchangeError as error:
                new_error = error
            else:
                placed, fills = self._place_new(new, cx)
        except BaseException as error:
            self._failed(cx, error)
            raise
        self._finish(cx)
        cancelled = old.record() if old is not None and cancel_error is None else None
        result = Replaced(
            cancel=cancelled if cancelled is not None else (cancel_error or UnknownOrder()),
            new=PlacedOrder(order=placed.record(), fills=fills) if placed is not None else new_error,
        )
        if cx.orders:
            await self.sequencer.applied()
        return result

    async def amend_keep_priority(
        self,
        user_id: int,
        symbol: str,
        order_id: int | None,
        orig_client_order_id: str | None,
        new_qty: Decimal,
        new_client_order_id: str,
    ) -> Amended:
        """Lower an open order's quantity in place: same id, same place in its level; the funds
        the removed quantity held are unlocked. ``newQty`` must be above what has been executed
        and below the order's quantity (-2038 otherwise)."""
        if self.sequencer.stale:
            await self.sequencer.ready()
        market = self._market(symbol)
        if order_id is None and orig_client_order_id is None:
            raise InvalidParameter.neither("orderId", "origClientOrderId")
        market.check_qty(new_qty)
        order = self._open_order(user_id, symbol, order_id, orig_client_order_id)
        if order is None:
            raise AmendRejected()
        if order.order_list_id != -1 or order.working_time == PENDING:  # -1: in no list (Binance)
            # Their locks are shared (an OCO locks once for both legs) or priced at the stop price.
            raise AmendRejected(
                "Order amend is not supported for orders in an order list or not yet triggered."
            )
        units = order.units
        lots = units.lots(new_qty)
        if lots > order.orig_qty:
            raise AmendRejected("Order amend (quantity increase) is not supported.")
        if lots == order.orig_qty:
            raise AmendRejected("The requested action would change no state; rejecting")
        if lots <= order.executed_qty:
            raise AmendRejected("Order amend (quantity at or below the executed quantity) is not supported.")
        if order.amends >= self.open_limits.amends_per_order:  # Binance: -2038, this filter's message
            raise AmendRejected("Filter failure: MAX_NUM_ORDER_AMENDS")
        old_id = order.client_order_id
        other = self._open_ids.get((user_id, new_client_order_id))
        if other is not None and other != order.order_id:
            raise AmendRejected("Duplicate order sent.")
        orig_qty = order.orig_qty
        cx = self._begin()
        try:
            per_lot = order.price * units.lot_tick if order.side is BUY else units.lot_base
            freed = (orig_qty - lots) * per_lot
            acc = self.ledger.accounts[user_id]
            asset = units.quote if order.side is BUY else units.base
            self.ledger.unlock_units(acc, asset, freed, order.order_id)
            order.locked -= freed
            # Open, in no list and triggered (checked above): it rests in the book.
            self.books[market.symbol].side(order.side).shrink(order, lots)
            order.client_order_id = new_client_order_id
            order.amends += 1
            cx.touch(order)
        except BaseException as error:
            self._failed(cx, error)
            raise
        self._finish(cx)
        if old_id != new_client_order_id and self._open_ids.get((user_id, old_id)) == order.order_id:
            del self._open_ids[(user_id, old_id)]
        amendment = Amendment(
            symbol=symbol,
            order_id=order.order_id,
            user_id=user_id,
            execution_id=cx.seq,
            orig_client_order_id=old_id,
            new_client_order_id=new_client_order_id,
            orig_qty=units.qty(orig_qty),
            new_qty=units.qty(lots),
            time=cx.now,
            next_trade_id=cx.next_trade_id,
        )
        self._journal.amends.append(amendment)
        amended = Amended(order=order.record(), amendment=amendment)
        await self.sequencer.applied()
        return amended

    async def amendments(
        self, user_id: int, symbol: str, order_id: int, from_execution_id: int | None, limit: int | None
    ) -> list[Amendment]:
        """The user's amendments of one order, oldest first (committed rows; ``[]`` for an order
        that is not theirs or was never amended). ``limit`` default 500, at most 1000."""
        self._market(symbol)
        count = clamp_limit(limit, 500, MAX_AMENDMENTS)

        def committed() -> list[Amendment]:
            with self.engine.connect() as conn:
                return amendment_repo.amendments(conn, user_id, symbol, order_id, from_execution_id, count)

        return await asyncio.to_thread(committed)
