"""The console's wallet page: deposit addresses with local QR codes, the address book behind a fresh
TOTP code and CSRF, cooling-off shown as pending, and the demo's simulated deposit."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from keyplane.exchange.wallet.chain import SimulatedChain
from keyplane.store.engine import make_engine
from keyplane.store.tables import audit_events
from keyplane.store.wallet_book_tables import wallet_address_book
from tests.console.steps import Authenticator, csrf_of, enrol_two_factor, sign_up
from tests.support.server import Instance, free_port, server_env
from tests.wallet.server_keys import wallet_env

BTC_ADDRESS = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
ETH_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
STRONG = "correct horse battery staple"

StartServer = Callable[..., Instance]


@pytest.fixture
def start_server(tmp_path: Path, database_url: str) -> Iterator[StartServer]:
    """``keyplane serve`` with the wallet's keys, on the test database, plus any other settings."""
    started: list[Instance] = []

    def start(**extra: str) -> Instance:
        env = server_env(tmp_path / "data", database_url, None, **wallet_env(), **extra)
        instance = Instance(env, free_port())
        started.append(instance)
        instance.start(tmp_path / f"server{len(started)}.log")
        return instance

    yield start
    for instance in started:
        instance.stop()


class Browser:
    """One visitor's cookie jar, speaking to the console as a browser's forms do."""

    def __init__(self, server: Instance) -> None:
        self.http = httpx.Client(base_url=server.url, follow_redirects=False)

    def submit(self, form_page: str, target: str, **fields: str) -> httpx.Response:
        page = self.http.get(form_page)
        assert page.status_code == 200, page.text
        return self.http.post(target, data={"csrf_token": csrf_of(page.text), **fields})

    def sign_up(self, email: str) -> None:
        assert (
            self.submit("/console/signup", "/console/signup", email=email, password=STRONG).status_code == 303
        )

    def enrol(self) -> Authenticator:
        begun = self.submit("/console/security", "/console/security/2fa/begin")
        secret = re.search(r'id="totp-secret"[^>]*value="([^"]+)"', begun.text)
        assert secret is not None, begun.text
        app = Authenticator(secret.group(1))
        done = self.submit("/console/security", "/console/security/2fa/confirm", code=app.code())
        assert 'id="recovery-codes"' in done.text
        return app

    def add(self, code: str, address: str, destination: str = "BTC:BTC", **fields: str) -> httpx.Response:
        return self.submit(
            "/console/wallet",
            "/console/wallet/addresses",
            destination=destination,
            address=address,
            totp_code=code,
            **fields,
        )

    def wallet(self) -> str:
        page = self.http.get("/console/wallet")
        assert page.status_code == 200, page.text
        return page.text


def alert(response: httpx.Response) -> str:
    found = re.search(r'role="alert"[^>]*>([^<]*)<', response.text)
    return html.unescape(found.group(1)) if found else ""


def book_rows(database_url: str) -> list[tuple[str, str]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(select(wallet_address_book.c.coin, wallet_address_book.c.address)).all()
    finally:
        engine.dispose()
    return [(r.coin, r.address) for r in found]


def wallet_events(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(select(audit_events.c.action).order_by(audit_events.c.id)).scalars().all()
    finally:
        engine.dispose()
    return [a for a in found if a.startswith("wallet.")]


def test_the_page_shows_every_deposit_address_with_a_local_qr_code(start_server: StartServer) -> None:
    browser = Browser(start_server())
    browser.sign_up("dana@example.com")
    response = browser.http.get("/console/wallet")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page = response.text
    assert page.count('data-testid="deposit-address"') == 4
    assert page.count("<svg") == 4 and "<script>" not in page and "style=" not in page
    for choice in ("BTC:BTC", "ETH:ETH", "USDT:ETH", "SOL:SOL"):
        assert f'data-deposit="{choice}"' in page
    addresses = re.findall(r'data-testid="deposit-address">([^<]+)<', page)
    assert addresses[0].startswith("bc1q") and addresses[1] == addresses[3]  # ETH and USDT share one
    assert browser.wallet().count('data-testid="deposit-address"') == 4  # issued once, shown again
    assert "Simulate a deposit" not in page
    assert 'href="/console/wallet" aria-current="page"' in page


def test_adding_an_address_needs_two_factor_a_fresh_code_and_the_forms_csrf_token(
    start_server: StartServer, database_url: str
) -> None:
    server = start_server()
    browser = Browser(server)
    browser.sign_up("erin@example.com")
    assert (
        "to add withdrawal addresses" in browser.wallet() and 'id="add-address-form"' not in browser.wallet()
    )
    without = browser.add("123456", BTC_ADDRESS)
    assert without.status_code == 403 and "two-factor" in alert(without)

    app = browser.enrol()
    assert 'id="add-address-form"' in browser.wallet()
    code = app.code()
    forged = browser.http.post(
        "/console/wallet/addresses",
        data={"csrf_token": "forged", "destination": "BTC:BTC", "address": BTC_ADDRESS, "totp_code": code},
    )
    assert forged.status_code == 403
    wrong = browser.add(app.wrong_code(), BTC_ADDRESS)
    assert wrong.status_code in (400, 401) and "code" in alert(wrong).lower()
    empty = browser.add("", BTC_ADDRESS)
    assert empty.status_code == 400 and "authenticator" in alert(empty)
    assert book_rows(database_url) == []

    typo = browser.add(code, BTC_ADDRESS[:-1] + "5", label="cold")
    assert typo.status_code == 400 and "checksum" in alert(typo) and "network BTC" in alert(typo)
    assert BTC_ADDRESS[:-1] + "5" in typo.text  # the form keeps what was typed
    added = browser.add(code, BTC_ADDRESS, label="cold")  # neither the forgery nor the typo spent it
    assert added.status_code == 303 and added.headers["location"] == "/console/wallet?notice=added"
    page = browser.wallet()
    row = re.search(r"<tr data-entry-id=\"\d+\">.*?</tr>", page, re.DOTALL)
    assert row is not None
    assert BTC_ADDRESS in row.group(0) and "cold" in row.group(0)
    assert re.search(r"pending until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", row.group(0))

    reused = browser.add(code, ETH_ADDRESS, destination="ETH:ETH")
    assert reused.status_code in (400, 401) and "already used" in alert(reused)
    duplicate = browser.add(app.code(), BTC_ADDRESS.upper())
    assert duplicate.status_code == 400 and "already in your withdrawal address book" in alert(duplicate)
    assert book_rows(database_url) == [("BTC", BTC_ADDRESS)]
    assert wallet_events(database_url) == ["wallet.address.add"]


def test_removing_an_address_needs_csrf_and_only_the_owner_can(
    start_server: StartServer, database_url: str
) -> None:
    server = start_server()
    owner, stranger = Browser(server), Browser(server)
    owner.sign_up("fay@example.com")
    app = owner.enrol()
    assert owner.add(app.code(), ETH_ADDRESS.lower(), destination="USDT:ETH").status_code == 303
    page = owner.wallet()
    assert "no checksum" in page and ETH_ADDRESS in page  # stored checksummed, and flagged
    entry_id = re.search(r'data-entry-id="(\d+)"', page)
    assert entry_id is not None
    remove = f"/console/wallet/addresses/{entry_id.group(1)}/remove"

    assert owner.http.post(remove, data={"csrf_token": "forged"}).status_code == 403
    stranger.sign_up("gil@example.com")
    refused = stranger.submit("/console/wallet", remove)
    assert refused.status_code == 404 and "No such address" in alert(refused)
    for bad in (
        "/console/wallet/addresses/99999999999999999999/remove",
        "/console/wallet/addresses/x/remove",
    ):
        assert stranger.submit("/console/wallet", bad).status_code == 404
    assert book_rows(database_url) == [("USDT", ETH_ADDRESS)]

    removed = owner.submit("/console/wallet", remove)
    assert removed.status_code == 303 and removed.headers["location"] == "/console/wallet?notice=removed"
    assert "Your address book is empty" in owner.wallet() and book_rows(database_url) == []
    assert wallet_events(database_url) == ["wallet.address.add", "wallet.address.remove"]
    review = owner.http.get("/console/review").text
    assert "wallet.address.add" in review and "wallet.address.remove" in review


def test_with_no_cooling_off_an_added_address_is_matured_at_once(start_server: StartServer) -> None:
    browser = Browser(start_server(KEYPLANE_WITHDRAW_ADDRESS_COOLING_OFF_SECONDS="0"))
    browser.sign_up("hal@example.com")
    app = browser.enrol()
    assert browser.add(app.code(), BTC_ADDRESS).status_code == 303
    page = browser.wallet()
    assert ">matured<" in page and "pending until" not in page


def test_demo_mode_simulates_a_deposit_to_the_users_own_address(
    start_server: StartServer, database_url: str
) -> None:
    browser = Browser(start_server(KEYPLANE_DEMO_MODE="true"))
    browser.sign_up("ida@example.com")
    page = browser.wallet()
    assert page.count("Simulate a deposit") == 4
    btc = re.findall(r'data-testid="deposit-address">([^<]+)<', page)[0]

    bad = browser.submit(
        "/console/wallet", "/console/wallet/simulate-deposit", destination="BTC:BTC", amount="x"
    )
    assert bad.status_code == 400 and "amount" in alert(bad)
    tiny = browser.submit(
        "/console/wallet", "/console/wallet/simulate-deposit", destination="BTC:BTC", amount="0.000000001"
    )
    assert tiny.status_code == 400 and "8 decimals" in alert(tiny)
    sent = browser.submit(
        "/console/wallet", "/console/wallet/simulate-deposit", destination="BTC:BTC", amount="0.1"
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/console/wallet?notice=deposited"
    assert "credited after its confirmations" in browser.http.get(sent.headers["location"]).text

    engine = make_engine(database_url)
    try:
        incoming = SimulatedChain(engine).incoming()
    finally:
        engine.dispose()
    assert [(t.address, t.coin, t.amount) for t in incoming] == [(btc, "BTC", Decimal("0.1"))]


def test_simulated_deposits_are_refused_outside_demo_mode(
    start_server: StartServer, database_url: str
) -> None:
    browser = Browser(start_server())
    browser.sign_up("jo@example.com")
    refused = browser.submit(
        "/console/wallet", "/console/wallet/simulate-deposit", destination="BTC:BTC", amount="1"
    )
    assert refused.status_code == 403 and "demo mode" in refused.text
    engine = make_engine(database_url)
    try:
        assert SimulatedChain(engine).incoming() == []
    finally:
        engine.dispose()


def test_in_a_browser_an_address_added_with_a_totp_code_shows_as_pending(
    start_server: StartServer, page: Page
) -> None:
    server = start_server()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None,
    )
    sign_up(page, server, "kim@example.com")
    app, _ = enrol_two_factor(page, server)
    page.get_by_role("link", name="Wallet").click()
    expect(page.get_by_role("heading", name="Wallet", level=1)).to_be_visible()

    btc = page.locator("tr[data-deposit='BTC:BTC']")
    btc.get_by_text("Show QR code").click()
    expect(btc.locator("figure.qr svg")).to_be_visible()

    form = page.locator("#add-address-form")
    form.get_by_label("Asset and network").select_option("BTC:BTC")
    form.get_by_label("Address").fill(BTC_ADDRESS[:-1] + "5")
    form.get_by_label("Label").fill("hardware wallet")
    code = app.code()
    form.get_by_label("Authenticator code").fill(code)
    form.get_by_role("button", name="Add address").click()
    expect(page.get_by_role("alert")).to_contain_text("checksum does not match")

    form = page.locator("#add-address-form")
    form.get_by_label("Address").fill(BTC_ADDRESS)
    form.get_by_label("Authenticator code").fill(code)  # the refused typo did not use the code up
    form.get_by_role("button", name="Add address").click()
    expect(page.get_by_role("status")).to_contain_text("pending until its cooling-off ends")
    row = page.locator("#address-book tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(BTC_ADDRESS)
    expect(row).to_contain_text("hardware wallet")
    expect(row.locator(".book-status")).to_contain_text("pending until")
    assert problems == []
