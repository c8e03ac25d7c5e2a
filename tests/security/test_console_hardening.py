"""Console hardening (#7 item 11): what an attack run did to the web console, as tests.

Each test drives a real ``keyplane serve`` over HTTP as a browser would (cookie jar, CSRF token
from the page). Client addresses other than loopback reach the server through
``X-Forwarded-For`` from loopback, which the server is told to trust as its proxy: that is how a
deployment behind a TLS-terminating load balancer sees its users.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.console.steps import Authenticator, csrf_of
from tests.support.server import Instance, free_port, server_env

STRONG = "correct horse battery staple"
LOOPBACK_PROXY = "127.0.0.1/32"
ELSEWHERE_PROXY = "192.0.2.0/24"

StartServer = Callable[[str], Instance]


@pytest.fixture
def start_server(tmp_path: Path, database_url: str) -> Iterator[StartServer]:
    """Start ``keyplane serve`` on the test database, trusting ``trusted`` as its proxies."""
    started: list[Instance] = []

    def start(trusted: str) -> Instance:
        n = len(started)
        env = server_env(tmp_path / "data", database_url, None, KEYPLANE_TRUSTED_PROXIES=trusted)
        instance = Instance(env, free_port())
        started.append(instance)
        instance.start(tmp_path / f"server{n}.log")
        return instance

    yield start
    for instance in started:
        instance.stop()


@pytest.fixture
def proxied(start_server: StartServer) -> Instance:
    """A server behind a proxy on loopback: ``X-Forwarded-For`` decides the client address."""
    return start_server(LOOPBACK_PROXY)


class Visitor:
    """One browser: its own cookies, coming from ``ip`` through the proxy when one is given."""

    def __init__(self, server: Instance, *forwarded_for: str) -> None:
        """``forwarded_for``: the ``X-Forwarded-For`` lines the proxy passes on, one per line."""
        headers = [("X-Forwarded-For", line) for line in forwarded_for]
        self.http = httpx.Client(base_url=server.url, headers=headers, follow_redirects=False)

    def submit(self, form_page: str, target: str, **fields: str) -> httpx.Response:
        """POST ``fields`` to ``target`` with the CSRF token of the form on ``form_page``."""
        page = self.http.get(form_page)
        assert page.status_code == 200, page.text
        return self.http.post(target, data={"csrf_token": csrf_of(page.text), **fields})

    def sign_up(self, email: str, password: str = STRONG) -> httpx.Response:
        return self.submit("/console/signup", "/console/signup", email=email, password=password)

    def log_in(self, email: str, password: str = STRONG, **fields: str) -> httpx.Response:
        return self.submit("/console/login", "/console/login", email=email, password=password, **fields)

    def enrol(self) -> Authenticator:
        begun = self.submit("/console/security", "/console/security/2fa/begin")
        secret = re.search(r'id="totp-secret"[^>]*value="([^"]+)"', begun.text)
        assert secret is not None, begun.text
        app = Authenticator(secret.group(1))
        done = self.submit("/console/security", "/console/security/2fa/confirm", code=app.code())
        assert 'id="recovery-codes"' in done.text, done.text
        return app

    def create_key(self, app: Authenticator, **fields: str) -> str:
        made = self.submit("/console/keys", "/console/keys", label="bot", totp_code=app.code(), **fields)
        key_id = re.search(r'id="issued-key-id"[^>]*value="([^"]+)"', made.text)
        assert key_id is not None, made.text
        return key_id.group(1)

    def key_page(self, key_id: str) -> str:
        page = self.http.get(f"/console/keys/{key_id}")
        assert page.status_code == 200
        return page.text

    def key_status(self, key_id: str) -> str:
        found = re.search(r'id="key-status">([a-z]+)<', self.key_page(key_id))
        assert found is not None
        return found.group(1)

    def key_expiry(self, key_id: str) -> str:
        found = re.search(r'id="expires" name="expires" type="date" value="([^"]*)"', self.key_page(key_id))
        assert found is not None
        return found.group(1)

    def on_key(self, key_id: str, action: str, **fields: str) -> httpx.Response:
        return self.submit(f"/console/keys/{key_id}", f"/console/keys/{key_id}/{action}", **fields)


def alert(response: httpx.Response) -> str:
    found = re.search(r'role="alert"[^>]*>([^<]*)<', response.text)
    return html.unescape(found.group(1)) if found else ""


def in_days(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def set_cookies(response: httpx.Response) -> dict[str, set[str]]:
    """Each cookie the response sets, with its lower-cased attributes."""
    cookies: dict[str, set[str]] = {}
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0]
        cookies[name] = {part.strip().lower() for part in header.split(";")[1:]}
    return cookies


def cookie_value(response: httpx.Response, name: str) -> str:
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith(name + "="))
    return header.split(";", 1)[0].split("=", 1)[1]


# -- step-up for re-enabling and extending a key ---------------------------------------------


def test_re_enabling_a_disabled_key_needs_a_fresh_totp_code(server: Instance) -> None:
    alice = Visitor(server)
    assert alice.sign_up("alice@example.com").status_code == 303
    app = alice.enrol()
    key_id = alice.create_key(app)
    assert alice.on_key(key_id, "disable").status_code == 303
    assert alice.key_status(key_id) == "disabled"

    refused = alice.on_key(key_id, "enable")
    assert refused.status_code == 400
    assert "authenticator app" in alert(refused)
    wrong = alice.on_key(key_id, "enable", totp_code=app.wrong_code())
    assert wrong.status_code == 401
    assert alice.key_status(key_id) == "disabled"

    assert alice.on_key(key_id, "enable", totp_code=app.code()).status_code == 303
    assert alice.key_status(key_id) == "active"


def test_extending_a_keys_expiry_needs_a_fresh_totp_code(server: Instance) -> None:
    bob = Visitor(server)
    assert bob.sign_up("bob@example.com").status_code == 303
    app = bob.enrol()
    key_id = bob.create_key(app, expires=in_days(10))
    assert bob.key_expiry(key_id) == in_days(10)

    for later in (in_days(40), ""):  # a later day, or no expiry at all
        refused = bob.on_key(key_id, "edit", label="bot", expires=later)
        assert refused.status_code == 400, refused.text
        assert "authenticator app" in alert(refused)
        assert bob.key_expiry(key_id) == in_days(10)

    assert bob.on_key(key_id, "edit", label="bot", expires=in_days(5)).status_code == 303
    assert bob.key_expiry(key_id) == in_days(5)
    assert (
        bob.on_key(key_id, "edit", label="bot", expires=in_days(40), totp_code=app.code()).status_code == 303
    )
    assert bob.key_expiry(key_id) == in_days(40)


# -- password strength ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "feedback"),
    [
        ("1234567890", "common password"),
        ("password123456", "similar to a commonly used password"),
        ("carol@example.com!", "Add another word or two"),  # the user's own email, strong to zxcvbn alone
    ],
)
def test_guessable_passwords_are_refused_with_the_reason(
    server: Instance, password: str, feedback: str
) -> None:
    carol = Visitor(server)
    refused = carol.sign_up("carol@example.com", password)
    assert refused.status_code == 400
    assert "easy to guess" in alert(refused) and feedback in alert(refused)
    assert password not in refused.text
    assert carol.log_in("carol@example.com", password).status_code == 401


# -- sign-up throttle -------------------------------------------------------------------------


def test_sign_ups_from_one_address_are_throttled(proxied: Instance) -> None:
    farm = Visitor(proxied, "203.0.113.50")
    for n in range(5):
        assert farm.sign_up(f"bot{n}@example.com").status_code == 303
    refused = farm.sign_up("bot5@example.com")
    assert refused.status_code == 429
    assert "Too many new accounts from your address" in alert(refused)
    assert Visitor(proxied, "198.51.100.9").log_in("bot5@example.com").status_code == 401

    assert Visitor(proxied, "198.51.100.9").sign_up("dora@example.com").status_code == 303


def test_a_client_written_forwarded_for_line_does_not_escape_the_sign_up_throttle(
    proxied: Instance,
) -> None:
    """The client writes its own first line; the proxy adds the address it saw as a second line."""
    for n in range(5):
        farm = Visitor(proxied, f"198.51.100.{n}", "203.0.113.60")
        assert farm.sign_up(f"bot{n}@example.com").status_code == 303
    refused = Visitor(proxied, "198.51.100.99", "203.0.113.60").sign_up("bot5@example.com")
    assert refused.status_code == 429


# -- the per-address lock and other accounts ------------------------------------------------


def test_a_password_storm_does_not_lock_out_a_2fa_users_correct_password_from_that_address(
    proxied: Instance,
) -> None:
    alice = Visitor(proxied, "198.51.100.7")
    assert alice.sign_up("alice@example.com").status_code == 303
    app = alice.enrol()
    assert Visitor(proxied, "198.51.100.8").sign_up("bob@example.com").status_code == 303

    attacker = Visitor(proxied, "203.0.113.9")
    for n in range(20):
        attacker.log_in(f"victim{n}@example.com", "Tr0ub4dor&3-guess")
    assert attacker.log_in("victim99@example.com", "Tr0ub4dor&3-guess").status_code == 429

    # Same address as the storm (a shared NAT): the password alone is not enough ...
    office = Visitor(proxied, "203.0.113.9")
    locked = office.log_in("alice@example.com")
    assert locked.status_code == 429 and 'name="totp_code"' in locked.text
    # ... but the password with a valid code is, and opens a full session at once.
    passed = office.log_in("alice@example.com", totp_code=app.code())
    assert passed.status_code == 303 and passed.headers["location"] == "/console/keys"
    assert office.http.get("/console/security").status_code == 200

    # The spray stays stopped: without 2FA, and with a right password but a wrong code, the
    # answer is the same refusal as for a wrong password, so it tells nothing.
    assert attacker.log_in("bob@example.com").status_code == 429
    wrong_password = attacker.log_in("alice@example.com", "Tr0ub4dor&3-guess", totp_code=app.wrong_code())
    wrong_code = attacker.log_in("alice@example.com", totp_code=app.wrong_code())
    assert wrong_password.status_code == wrong_code.status_code == 429
    assert alert(wrong_password) == alert(wrong_code)


# -- Secure cookies behind a TLS-terminating proxy -------------------------------------------


def test_cookies_are_secure_when_a_trusted_proxy_terminated_tls(proxied: Instance) -> None:
    https = {"X-Forwarded-Proto": "https"}
    form = httpx.get(proxied.url + "/console/signup", headers=https)
    assert "secure" in set_cookies(form)["kp_pre"]
    signed_up = httpx.post(
        proxied.url + "/console/signup",
        headers={**https, "Cookie": "kp_pre=" + cookie_value(form, "kp_pre")},
        data={"csrf_token": csrf_of(form.text), "email": "erin@example.com", "password": STRONG},
    )
    assert signed_up.status_code == 303
    assert {"secure", "httponly", "samesite=strict"} <= set_cookies(signed_up)["kp_session"]

    # Every header line counts; the proxy's own (the last) value decides.
    both = httpx.get(
        proxied.url + "/console/signup",
        headers=[("X-Forwarded-Proto", "https"), ("X-Forwarded-Proto", "http")],
    )
    assert "secure" not in set_cookies(both)["kp_pre"]
    plain = httpx.get(proxied.url + "/console/signup")
    assert "secure" not in set_cookies(plain)["kp_pre"]


def test_forwarded_proto_from_an_untrusted_peer_is_ignored(start_server: StartServer) -> None:
    server = start_server(ELSEWHERE_PROXY)
    form = httpx.get(server.url + "/console/signup", headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in set_cookies(form)["kp_pre"]


# -- numbers are ASCII only -----------------------------------------------------------------


def test_a_totp_code_in_non_ascii_digits_is_refused_not_a_server_error(server: Instance) -> None:
    frank = Visitor(server)
    assert frank.sign_up("frank@example.com").status_code == 303
    app = frank.enrol()
    frank.submit("/console/security", "/console/logout")
    assert frank.log_in("frank@example.com").headers["location"] == "/console/login/2fa"
    fullwidth = app.code().translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    refused = frank.submit("/console/login/2fa", "/console/login/2fa", code=fullwidth)
    assert refused.status_code == 401
    assert "incorrect" in alert(refused)


def test_a_grace_period_in_non_ascii_digits_is_refused(server: Instance) -> None:
    gina = Visitor(server)
    assert gina.sign_up("gina@example.com").status_code == 303
    app = gina.enrol()
    key_id = gina.create_key(app)
    arabic_indic_300 = "\u0663\u0660\u0660"
    refused = gina.on_key(key_id, "rotate", grace_seconds=arabic_indic_300, totp_code=app.code())
    assert refused.status_code == 400
    assert "number of seconds" in alert(refused)
