"""One account's balances as ledger units, for the answers that print them all (``account``).

Why: turning every balance into ``Decimal`` and a :class:`~keyplane.exchange.models.Balance`
cost more than the rest of an ``account`` answer, which only prints them
(:func:`~keyplane.exchange.unit_text.units_text` prints units directly).
:meth:`Exchange.balances <keyplane.exchange.service.Exchange.balances>` is built on
:func:`balance_units`, so both read the same memory behind the same guard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keyplane.exchange.errors import NotDurable

if TYPE_CHECKING:
    from keyplane.exchange.service import Exchange

Units = tuple[str, int, int]  # asset, free units, locked units


def balance_units(ex: Exchange, user_id: int) -> list[Units]:
    """Every asset's (free, locked) units, zeros included, in the exchange's order of assets.

    Refused, as every read of memory is, while memory may hold effects that will not be written."""
    if ex.sequencer.stale:
        raise NotDurable()
    ledger = ex.ledger
    return ledger.units_of(ledger.account_of(user_id), ex.assets)
