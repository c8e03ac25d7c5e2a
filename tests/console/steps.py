"""What a user does in the console, as reusable steps, and an authenticator app for the tests."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import ccxt
import pyotp
from playwright.sync_api import Page, expect

from tests.support.server import Instance

PASSWORD = "correct horse battery staple"
STEP = 30


class Authenticator:
    """Codes from the secret shown on the page; never the same 30-second step twice.

    The server accepts the previous, current and next step but each step only once per user, so
    a test gets up to three codes at once and then waits for the clock.
    """

    def __init__(self, secret: str) -> None:
        self._totp = pyotp.TOTP(secret)
        self._last: int | None = None

    def code(self) -> str:
        while True:
            now = time.time()
            step = int(now // STEP)
            # The previous step is safe only while the server has seconds left in this one.
            first = step - 1 if now - step * STEP < STEP - 5 else step
            for candidate in range(first, step + 2):
                if self._last is None or candidate > self._last:
                    self._last = candidate
                    return self._totp.at(candidate * STEP)
            time.sleep((step + 1) * STEP - now + 0.5)

    def wrong_code(self) -> str:
        """A code that no step in the accepted window produces."""
        valid = {self._totp.at(time.time() + d * STEP) for d in (-2, -1, 0, 1, 2)}
        return next(c for c in ("000000", "111111", "123456", "999999") if c not in valid)


def csrf_of(html: str) -> str:
    """The CSRF token a console form carries."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def sign_up(page: Page, server: Instance, email: str) -> None:
    page.goto(server.url + "/console/signup")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Security settings", level=1)).to_be_visible()


def enrol_two_factor(page: Page, server: Instance) -> tuple[Authenticator, list[str]]:
    page.goto(server.url + "/console/security")
    page.get_by_role("button", name="Set up two-factor authentication").click()
    expect(page.locator("figure.qr svg")).to_be_visible()
    app = Authenticator(page.get_by_label("Secret for manual entry").input_value())
    page.get_by_label("Code from your app").fill(app.code())
    page.get_by_role("button", name="Turn 2FA on").click()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    expect(page.locator("#tfa-status")).to_contain_text("on")
    return app, codes


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("logged out")


def log_in_password(page: Page, server: Instance, email: str) -> None:
    page.goto(server.url + "/console/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()


def submit_second_factor(page: Page, code: str) -> None:
    page.get_by_label("Authenticator code").fill(code)
    page.get_by_role("button", name="Continue").click()


def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Key changes reach the verification cache within a poll interval: retry until they do."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def refused(call: Callable[[], Any], match: str) -> None:
    """``call`` fails with ccxt's AuthenticationError whose text contains ``match``."""
    try:
        call()
    except ccxt.AuthenticationError as error:
        assert match in str(error), str(error)
        return
    raise AssertionError("the request was accepted")


def accepted(call: Callable[[], Any]) -> Any:
    """``call``'s result; a refusal becomes an AssertionError so that ``eventually`` retries it."""
    try:
        return call()
    except ccxt.AuthenticationError as error:
        raise AssertionError(str(error)) from error
