"""The balances-and-orders page reads the exchange; test funds exist only in demo mode."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.console.steps import csrf_of
from tests.support.server import Instance, free_port


def signed_up(client: httpx.Client, email: str) -> str:
    form = client.get("/console/signup")
    client.post(
        "/console/signup",
        data={"csrf_token": csrf_of(form.text), "email": email, "password": "a long enough password"},
    )
    page = client.get("/console/exchange")
    assert page.status_code == 200
    return page.text


def test_demo_mode_test_funds_appear_on_the_balances_page(server: Instance, tmp_path: Path) -> None:
    server.stop()  # the demo instance must run the exchange itself: test funds are the writer's call
    demo = Instance(dict(server.env, KEYPLANE_DEMO_MODE="true"), free_port())
    demo.start(tmp_path / "demo.log")
    try:
        with httpx.Client(base_url=demo.url, follow_redirects=False) as client:
            page = signed_up(client, "dora@example.com")
            assert "Your account holds no funds yet." in page and "No open orders." in page
            assert (
                client.post("/console/exchange/test-funds", data={"csrf_token": "forged"}).status_code == 403
            )
            funded = client.post("/console/exchange/test-funds", data={"csrf_token": csrf_of(page)})
            assert funded.status_code == 303
            page = client.get(funded.headers["location"]).text
            assert "Test funds were added" in page
            assert re.search(r"<td>USDT</td><td class=\"num\">10000\.0+</td>", page)
    finally:
        demo.stop()


def test_test_funds_are_refused_outside_demo_mode(server: Instance) -> None:
    with httpx.Client(base_url=server.url, follow_redirects=False) as client:
        page = signed_up(client, "olga@example.com")
        assert "Get test funds" not in page
        refused = client.post("/console/exchange/test-funds", data={"csrf_token": csrf_of(page)})
        assert refused.status_code == 403
        assert "Your account holds no funds yet." in client.get("/console/exchange").text


def test_balances_page_on_an_instance_that_is_not_the_exchange_writer_is_served_by_the_writer(
    server: Instance, tmp_path: Path
) -> None:
    assert httpx.get(server.url + "/api/v3/depth?symbol=BTCUSDT").status_code == 200  # server is the writer
    other = Instance(dict(server.env), free_port())
    other.start(tmp_path / "other.log")
    try:
        with httpx.Client(base_url=other.url, follow_redirects=False) as client:
            page = signed_up(client, "nina@example.com")  # the page came from the writer's memory
            assert "Your account holds no funds yet." in page
            # The writer checks the CSRF token and the session itself, and it is not in demo mode.
            refused = client.post("/console/exchange/test-funds", data={"csrf_token": csrf_of(page)})
            assert refused.status_code == 403 and "Traceback" not in refused.text
            forged = client.post("/console/exchange/test-funds", data={"csrf_token": "forged"})
            assert forged.status_code == 403
            other.cli(
                "funds",
                "credit",
                "--user",
                "nina@example.com",
                "--asset",
                "USDT",
                "--amount",
                "12.5",
                "--server",
                other.url,
            )
            assert "12.5" in client.get("/console/exchange").text
    finally:
        other.stop()
