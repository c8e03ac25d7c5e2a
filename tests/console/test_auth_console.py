"""Sign-up, log-in with TOTP or a recovery code, lockout, the session cookie and CSRF."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.console.steps import (
    PASSWORD,
    csrf_of,
    enrol_two_factor,
    log_in_password,
    log_out,
    sign_up,
    submit_second_factor,
)
from tests.support.server import Instance


def test_recovery_code_logs_in_once(server: Instance, page: Page) -> None:
    sign_up(page, server, "erin@example.com")
    _, codes = enrol_two_factor(page, server)
    page.reload()
    expect(page.locator("#recovery-codes")).to_have_count(0)
    log_out(page)

    log_in_password(page, server, "erin@example.com")
    page.get_by_text("Lost your phone? Use a recovery code").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Log in with recovery code").click()
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    log_out(page)

    log_in_password(page, server, "erin@example.com")
    page.get_by_text("Lost your phone? Use a recovery code").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Log in with recovery code").click()
    expect(page.get_by_role("alert")).to_contain_text("already used")


def test_repeated_bad_codes_lock_the_log_in(server: Instance, page: Page) -> None:
    sign_up(page, server, "frank@example.com")
    app, _ = enrol_two_factor(page, server)
    log_out(page)
    log_in_password(page, server, "frank@example.com")
    for _ in range(4):
        submit_second_factor(page, app.wrong_code())
        expect(page.get_by_role("alert")).to_contain_text("incorrect")
    submit_second_factor(page, app.wrong_code())
    expect(page.get_by_role("alert")).to_contain_text("locked until")
    submit_second_factor(page, app.code())
    expect(page.get_by_role("alert")).to_contain_text("locked until")


def test_session_cookie_flags_and_csrf_on_every_post(server: Instance) -> None:
    with httpx.Client(base_url=server.url, follow_redirects=False) as browser:
        assert (
            browser.post("/console/login", data={"email": "x@example.com", "password": "p"}).status_code
            == 403
        )
        form = browser.get("/console/signup")
        signed_up = browser.post(
            "/console/signup",
            data={
                "csrf_token": csrf_of(form.text),
                "email": "gina@example.com",
                "password": "a long enough password",
            },
        )
        assert signed_up.status_code == 303
        cookie = next(h for h in signed_up.headers.get_list("set-cookie") if h.startswith("kp_session="))
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/"} <= flags
        assert "secure" not in flags

        settings = browser.get("/console/security")
        assert settings.status_code == 200 and "gina@example.com" in settings.text
        assert browser.post("/console/logout-everywhere", data={"csrf_token": "forged"}).status_code == 403
        assert browser.post("/console/security/2fa/begin", data={}).status_code == 403
        assert browser.get("/console/security").status_code == 200
        assert "Set up two-factor authentication" in browser.get("/console/security").text

        no_2fa = browser.post("/console/keys", data={"csrf_token": csrf_of(settings.text), "label": "x"})
        assert no_2fa.status_code == 403 and "Turn on two-factor authentication" in no_2fa.text
        assert "kpk_" not in browser.get("/console/keys").text
        missing = browser.get("/console/keys/kpk_doesnotexist")
        assert missing.status_code == 404 and "No such API key" in missing.text

        assert browser.post("/console/logout", data={"csrf_token": csrf_of(settings.text)}).status_code == 303
        assert browser.get("/console/security").headers["location"] == "/console/login"


def test_a_2fa_user_logs_in_with_password_and_code_while_a_storm_locks_the_network(
    server: Instance, page: Page
) -> None:
    sign_up(page, server, "hana@example.com")
    app, _ = enrol_two_factor(page, server)
    log_out(page)
    with httpx.Client(base_url=server.url) as sprayer:  # same address as the browser: 127.0.0.1
        for n in range(20):
            form = sprayer.get("/console/login")
            sprayer.post(
                "/console/login",
                data={
                    "csrf_token": csrf_of(form.text),
                    "email": f"v{n}@example.com",
                    "password": "guess-guess",
                },
            )

    page.goto(server.url + "/console/login")
    page.get_by_label("Email address").fill("hana@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("log-ins from it are paused")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Authenticator code").fill(app.code())
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
