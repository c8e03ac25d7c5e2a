"""The bot loop: rounds until stopped, woken early by the order stream where the exchange has one.

Ctrl-C (SIGINT) and SIGTERM end the loop after the current round; the bot then cancels every open
order carrying its prefix, unless ``keep_orders``. A round that fails on a passing problem is
logged and the next one runs; a refused key (authentication or permission) stops the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any, Protocol

from keyplane.client.bot.venue import Venue

log = logging.getLogger("keyplane.bot")


class Strategy(Protocol):
    async def round(self) -> None: ...

    async def orders_to_cancel(self) -> list[dict[str, Any]]: ...


def _quiet(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Stray errors of background futures (a refused WebSocket, say) in one line: asyncio's default
    handler would print their repr, request headers included."""
    failed = context.get("exception")
    log.debug("background error: %s", type(failed).__name__ if failed else context.get("message", "?"))


async def _stream(pro: Any, symbol: str, wake: asyncio.Event, poll_seconds: float) -> None:
    """Set ``wake`` on every order update; give up quietly (and say so once) if there is no stream."""
    log.info("watching the order stream; polling every %.1f s as well", poll_seconds)
    try:
        while True:
            await pro.watch_orders(symbol)
            wake.set()
    except asyncio.CancelledError:
        raise
    except Exception as failed:  # noqa: BLE001 - any stream failure means: poll instead
        log.info("order stream unavailable (%s); polling every %.1f s", type(failed).__name__, poll_seconds)


async def run(
    strategy: Strategy,
    venue: Venue,
    symbol: str,
    *,
    poll_seconds: float,
    keep_orders: bool,
    pro: Any = None,
    stop: asyncio.Event | None = None,
) -> bool:
    """Rounds until stopped; False when the exchange refused the key (the bot could not go on)."""
    import ccxt

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_quiet)
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    wake = asyncio.Event()
    streaming = asyncio.create_task(_stream(pro, symbol, wake, poll_seconds)) if pro is not None else None
    if pro is None:
        log.info("polling every %.1f s", poll_seconds)
    refused_key = False
    try:
        while not stop.is_set():
            try:
                if not await _round_unless_stopped(strategy, stop):
                    break
            except (ccxt.AuthenticationError, ccxt.PermissionDenied, ccxt.AccountSuspended) as refused:
                log.error("the exchange refused the key (%s); stopping", type(refused).__name__)
                refused_key = True
                break
            except ccxt.BaseError as failed:
                log.warning(
                    "round failed (%s: %s); next round in %.1f s",
                    type(failed).__name__,
                    str(failed)[:200],
                    poll_seconds,
                )
            wake.clear()
            waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(wake.wait())]
            await asyncio.wait(waiters, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        log.info("stopping")
    finally:
        if streaming is not None:
            streaming.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await streaming
        await _wind_down(strategy, venue, keep_orders)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return not refused_key


async def _round_unless_stopped(strategy: Strategy, stop: asyncio.Event) -> bool:
    """One round; a stop signal interrupts it (a pause for rate limits can last a minute). Orders
    it may have sent are found again by prefix when the bot winds down."""
    work = asyncio.create_task(strategy.round())
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if not work.done():
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await work
        return False
    work.result()  # re-raise what the round raised
    return True


async def _wind_down(strategy: Strategy, venue: Venue, keep_orders: bool) -> None:
    import ccxt

    venue.pause_for_weight = False
    try:
        left = await strategy.orders_to_cancel()
    except ccxt.BaseError as failed:
        log.error("could not list this bot's open orders to cancel them (%s)", type(failed).__name__)
        return
    if keep_orders:
        log.info("keeping %d open orders (--keep-orders)", len(left))
        return
    for order in left:
        try:
            await venue.cancel(order, "bot stopped")
        except ccxt.BaseError as failed:
            log.error("could not cancel id=%s (%s)", order.get("clientOrderId"), type(failed).__name__)
    log.info(
        "stopped; %d open orders %s", len(left), "left alone (dry run)" if venue.dry_run else "cancelled"
    )
