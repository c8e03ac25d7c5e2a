"""The console's withdrawal form: a matured address, a fresh TOTP code, then history and cancel.

In Chromium: sign up, turn on 2FA, get funds, add a withdrawal address with a TOTP code, see it
pending, let it mature (a 10-second cooling-off), withdraw to it with another fresh code, see the
withdrawal listed with its fee, cancel it, and see the funds back. Over plain HTTP: the form
refuses a reused code and a pending address, and changes nothing when it refuses.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.console.steps import csrf_of, enrol_two_factor, sign_up
from tests.console.test_wallet_console import Browser
from tests.support.server import Instance, free_port, server_env
from tests.wallet.server_keys import wallet_env

ETH_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
# Long enough that the address is still pending when the next fresh TOTP code is ready: a fresh
# code can take up to about 5 s (the last seconds of a step are skipped), and the machine may be busy.
COOLING_OFF_S = 10


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Instance]:
    env = server_env(
        tmp_path / "data",
        database_url,
        None,
        **wallet_env(),
        KEYPLANE_WITHDRAW_ADDRESS_COOLING_OFF_SECONDS=str(COOLING_OFF_S),
        KEYPLANE_WITHDRAW_SEND_DELAY_SECONDS="600",  # stays cancellable through the test
    )
    instance = Instance(env, free_port())
    instance.start(tmp_path / "server.log")
    yield instance
    instance.stop()


def test_in_a_browser_a_matured_address_is_withdrawn_to_with_a_fresh_code_and_cancelled(
    server: Instance, page: Page
) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_up(page, server, "lena@example.com")
    app, _ = enrol_two_factor(page, server)
    server.cli("funds", "credit", "--user", "lena@example.com", "--asset", "USDT", "--amount", "100")
    page.goto(server.url + "/console/wallet")

    form = page.locator("#add-address-form")
    form.get_by_label("Asset and network").select_option("USDT:ETH")
    form.get_by_label("Address").fill(ETH_ADDRESS)
    form.get_by_label("Label").fill("ledger")
    form.get_by_label("Authenticator code").fill(app.code())
    form.get_by_role("button", name="Add address").click()
    expect(page.locator("#address-book .book-status")).to_contain_text("pending until")
    expect(page.get_by_text("No matured address in your address book yet")).to_be_visible()

    time.sleep(COOLING_OFF_S + 0.5)
    page.reload()
    expect(page.locator("#address-book .book-status")).to_contain_text("matured")
    withdraw = page.locator("#withdraw-form")
    withdraw.get_by_label("Amount").fill("20")
    withdraw.get_by_label("Authenticator code").fill(app.code())
    withdraw.get_by_role("button", name="Withdraw").click()
    expect(page.get_by_role("status")).to_contain_text("The withdrawal was accepted")
    row = page.locator("#withdrawals tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("awaiting approval")
    expect(row).to_contain_text("20")
    expect(row).to_contain_text(ETH_ADDRESS)

    row.get_by_role("button", name=re.compile("Cancel")).click()
    expect(page.get_by_role("status")).to_contain_text("cancelled and its funds returned")
    expect(page.locator("#withdrawals .withdrawal-status")).to_contain_text("cancelled")
    page.goto(server.url + "/console/exchange")
    expect(page.locator("body")).to_contain_text("100")
    assert problems == []


def test_the_form_refuses_a_reused_code_and_a_pending_address_and_changes_nothing(server: Instance) -> None:
    browser = Browser(server)
    browser.sign_up("max@example.com")
    app = browser.enrol()
    server.cli("funds", "credit", "--user", "max@example.com", "--asset", "USDT", "--amount", "100")
    code = app.code()
    assert browser.add(code, ETH_ADDRESS, destination="USDT:ETH").status_code == 303
    entry = re.search(r'data-entry-id="(\d+)"', browser.wallet())
    assert entry is not None

    def withdraw(totp: str) -> httpx.Response:
        page = browser.http.get("/console/wallet").text
        return browser.http.post(
            "/console/wallet/withdraw",
            data={"csrf_token": csrf_of(page), "entry": entry.group(1), "amount": "20", "totp_code": totp},
        )

    fresh = app.code()
    pending = withdraw(fresh)
    assert pending.status_code == 400 and "pending until" in pending.text
    time.sleep(COOLING_OFF_S + 0.5)
    reused = withdraw(code)  # the code that added the address
    assert reused.status_code in (400, 401, 403) and "Traceback" not in reused.text
    forged = browser.http.post(
        "/console/wallet/withdraw", data={"csrf_token": "forged", "entry": entry.group(1), "amount": "20"}
    )
    assert forged.status_code == 403
    assert 'id="withdrawals"' not in browser.wallet()  # nothing was withdrawn
    assert withdraw(fresh).status_code == 303  # no refusal above spent the code
    assert 'id="withdrawals"' in browser.wallet()
