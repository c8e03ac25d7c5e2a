"""One funded server for the stream tests (alice, bob; a read key), and ccxt pro pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.http.exchange.conftest import Venue, running_venue


@pytest.fixture(scope="package")
def venue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    # The order book test keeps 1,000 updates coming from two accounts: no order-rate limit.
    with running_venue(tmp_path_factory.mktemp("streams"), KEYPLANE_ORDER_LIMIT_PER_10S="0") as running:
        yield running
