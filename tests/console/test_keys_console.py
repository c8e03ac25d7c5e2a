"""The API management pages driven in a real browser against a real server, checked with ccxt."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.console.steps import accepted, enrol_two_factor, eventually, refused, sign_up
from tests.support.clients import ccxt_binance
from tests.support.server import Instance
from tests.support.signing import ed25519_pair, private_pem

DOCS = Path(__file__).resolve().parents[2] / "docs"


def screenshots(tmp_path: Path) -> Path:
    """Where the pages' screenshots go: the README's pictures in ``docs/`` only when asked
    (``KEYPLANE_DOCS_SCREENSHOTS=1``), so that a test run leaves the working tree as it was."""
    return DOCS if os.environ.get("KEYPLANE_DOCS_SCREENSHOTS") else tmp_path


NOT_THE_TEST_IP = "192.0.2.1"


def test_hmac_key_secret_shown_once_then_ip_restricted_and_revoked(
    server: Instance, page: Page, tmp_path: Path
) -> None:
    shots = screenshots(tmp_path)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None,
    )
    sign_up(page, server, "alice@example.com")
    page.goto(server.url + "/console/keys")
    expect(page.get_by_text("Turn on two-factor authentication")).to_be_visible()
    app, _ = enrol_two_factor(page, server)

    page.goto(server.url + "/console/keys")
    create = page.locator("#create-form")
    expect(create.get_by_label("Trade")).not_to_be_checked()
    expect(create.get_by_label("Withdraw")).not_to_be_checked()
    create.get_by_label("Label").fill("portfolio tracker")
    create.get_by_label("Authenticator code").fill(app.code())
    create.get_by_role("button", name="Create key").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("shown only this once")
    key_id = dialog.get_by_label("API key").input_value()
    secret = dialog.get_by_label("Secret key").input_value()
    page.screenshot(path=str(shots / "console-secret-once.png"))
    dialog.get_by_role("button", name="Copy").click()
    expect(dialog.get_by_role("status")).not_to_be_empty()
    dialog.get_by_role("button", name="I have saved the secret").click()

    page.reload()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert secret not in page.content()
    row = page.locator(f"tr[data-key-id='{key_id}']")
    expect(row).to_contain_text("no IP allowlist")
    expect(row).to_contain_text("read")
    page.screenshot(path=str(shots / "console-keys.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(shots / "console-keys-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    client = ccxt_binance(server.url, key_id, secret)
    info = client.sapi_get_account_apirestrictions()
    assert info["enableReading"] is True and info["enableSpotAndMarginTrading"] is False

    session = {c["name"]: c["value"] for c in page.context.cookies()}["kp_session"]
    for data in ({"csrf_token": "forged"}, {}):
        forged = httpx.post(
            f"{server.url}/console/keys/{key_id}/revoke",
            data=data,
            cookies={"kp_session": session},
            follow_redirects=False,
        )
        assert forged.status_code == 403
    assert client.sapi_get_account_apirestrictions()["enableReading"] is True

    page.goto(f"{server.url}/console/keys/{key_id}")
    edit = page.locator("#edit-form")
    edit.get_by_label("IP allowlist").fill(NOT_THE_TEST_IP)
    edit.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("authenticator app")
    assert client.sapi_get_account_apirestrictions()["ipRestrict"] is False

    page.locator("#edit-form").get_by_label("IP allowlist").fill(NOT_THE_TEST_IP)
    page.locator("#edit-form").get_by_label("Authenticator code").fill(app.code())
    page.locator("#edit-form").get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    eventually(lambda: refused(client.sapi_get_account_apirestrictions, "not in this API key's IP allowlist"))

    page.get_by_role("link", name="Revoke key…").click()
    page.get_by_role("button", name="Yes, revoke this key").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    expect(page.locator(f"tr[data-key-id='{key_id}']")).to_contain_text("revoked")
    eventually(lambda: refused(client.sapi_get_account_apirestrictions, "This API key has been revoked"))
    assert problems == []  # no script error, no content-security-policy violation


def test_ed25519_public_key_registered_in_console_signs_with_ccxt(server: Instance, page: Page) -> None:
    sign_up(page, server, "bob@example.com")
    app, _ = enrol_two_factor(page, server)
    private, public = ed25519_pair()

    page.goto(server.url + "/console/keys")
    create = page.locator("#create-form")
    create.get_by_label("Label").fill("bot")
    create.get_by_label("My own Ed25519 or RSA public key").check()
    create.get_by_label("Public key (PEM)").fill(public)
    create.get_by_label("Trade").check()
    create.get_by_label("Authenticator code").fill(app.code())
    create.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("status")).to_contain_text("created")
    expect(page.get_by_role("dialog")).to_have_count(0)

    row = page.locator("tr", has_text="Ed25519")
    expect(row).to_contain_text("read, trade")
    key_id = row.locator(".key-id").inner_text()
    client = ccxt_binance(server.url, key_id, private_pem(private))
    info = client.sapi_get_account_apirestrictions()
    assert info["keyplane"]["kind"] == "ed25519" and info["enableSpotAndMarginTrading"] is True

    row.get_by_role("link", name="Manage").click()
    page.get_by_role("button", name="Disable key").click()
    expect(page.locator("#key-status")).to_have_text("disabled")
    eventually(lambda: refused(client.sapi_get_account_apirestrictions, "disabled"))
    enable = page.locator("#enable-form")
    enable.get_by_label("Authenticator code").fill(app.code())
    enable.get_by_role("button", name="Enable key").click()
    expect(page.locator("#key-status")).to_have_text("active")
    eventually(lambda: accepted(client.sapi_get_account_apirestrictions))

    page.get_by_role("link", name="Security review").click()
    finding = page.locator(f"li[data-key-id='{key_id}']")
    expect(finding).to_contain_text("no IP allowlist")
    expect(page.get_by_role("table")).to_contain_text("key.create")
    finding.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    expect(page.locator(f"li[data-key-id='{key_id}']")).to_have_count(0)
    eventually(lambda: refused(client.sapi_get_account_apirestrictions, "revoked"))

    page.get_by_role("link", name="Balances and orders").click()
    expect(page.get_by_role("heading", name="Balances and orders", level=1)).to_be_visible()


def test_refused_key_form_keeps_the_code_and_rotation_shows_the_new_secret_once(
    server: Instance, page: Page
) -> None:
    sign_up(page, server, "dan@example.com")
    app, _ = enrol_two_factor(page, server)
    code = app.code()
    page.goto(server.url + "/console/keys")
    create = page.locator("#create-form")
    create.get_by_label("Withdraw").check()
    create.get_by_label("Authenticator code").fill(code)
    create.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("alert")).to_contain_text("withdraw permission needs an IP allowlist")
    assert "Traceback" not in page.content()

    create = page.locator("#create-form")
    expect(create.get_by_label("Withdraw")).to_be_checked()
    create.get_by_label("IP allowlist").fill("not-an-ip")
    create.get_by_label("Authenticator code").fill(code)
    create.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("alert")).to_contain_text("Not an IP address")

    create = page.locator("#create-form")
    create.get_by_label("IP allowlist").fill("127.0.0.1, 192.0.2.0/24")
    create.get_by_label("Authenticator code").fill(code)
    create.get_by_role("button", name="Create key").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("shown only this once")
    key_id, old_secret = (
        dialog.get_by_label("API key").input_value(),
        dialog.get_by_label("Secret key").input_value(),
    )
    dialog.get_by_role("button", name="I have saved the secret").click()
    expect(page.locator("tbody tr")).to_contain_text("read, withdraw")
    expect(page.locator("tbody tr")).to_contain_text("can withdraw")
    assert ccxt_binance(server.url, key_id, old_secret).sapi_get_account_apirestrictions()[
        "enableWithdrawals"
    ]

    page.goto(f"{server.url}/console/keys/{key_id}")
    rotate = page.locator("#rotate-form")
    rotate.get_by_label("Authenticator code").fill(app.code())
    rotate.get_by_role("button", name="Rotate key").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Your new secret key")
    new_secret = dialog.get_by_label("Secret key").input_value()
    assert new_secret != old_secret
    page.reload()
    assert new_secret not in page.content()
    assert ccxt_binance(server.url, key_id, new_secret).sapi_get_account_apirestrictions()[
        "enableWithdrawals"
    ]
    eventually(
        lambda: refused(
            ccxt_binance(server.url, key_id, old_secret).sapi_get_account_apirestrictions, "-1022"
        )
    )
