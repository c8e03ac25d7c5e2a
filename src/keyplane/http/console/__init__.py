"""The web console: server-rendered pages over the identity and key services.

``console_routes()`` is what the app mounts; every page lives under ``/console`` and every asset
is served from ``/console/static`` by Keyplane itself.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from keyplane.http.console import pages_auth as auth
from keyplane.http.console import pages_exchange as exchange
from keyplane.http.console import pages_keys as keys
from keyplane.http.console import pages_security as security
from keyplane.http.console import pages_wallet as wallet
from keyplane.http.console.web import BASE, STATIC, redirect


async def _home(request: Request) -> Response:
    return redirect(f"{BASE}/keys")


def console_routes() -> list[BaseRoute]:
    """Every console URL, in one table."""
    get, post = ["GET"], ["POST"]
    return [
        Route(BASE, _home, methods=get),
        Route(f"{BASE}/", _home, methods=get),
        Route(f"{BASE}/signup", auth.sign_up_page, methods=get),
        Route(f"{BASE}/signup", auth.sign_up, methods=post),
        Route(f"{BASE}/login", auth.log_in_page, methods=get),
        Route(f"{BASE}/login", auth.log_in, methods=post),
        Route(f"{BASE}/login/2fa", auth.second_factor_page, methods=get),
        Route(f"{BASE}/login/2fa", auth.second_factor, methods=post),
        Route(f"{BASE}/logout", auth.log_out, methods=post),
        Route(f"{BASE}/logout-everywhere", auth.log_out_everywhere, methods=post),
        Route(f"{BASE}/keys", keys.keys_page, methods=get),
        Route(f"{BASE}/keys", keys.create_key, methods=post),
        Route(f"{BASE}/keys/{{key_id}}", keys.key_page, methods=get),
        Route(f"{BASE}/keys/{{key_id}}/edit", keys.edit_key, methods=post),
        Route(f"{BASE}/keys/{{key_id}}/disable", keys.disable_key, methods=post),
        Route(f"{BASE}/keys/{{key_id}}/enable", keys.enable_key, methods=post),
        Route(f"{BASE}/keys/{{key_id}}/revoke", keys.revoke_page, methods=get),
        Route(f"{BASE}/keys/{{key_id}}/revoke", keys.revoke_key, methods=post),
        Route(f"{BASE}/keys/{{key_id}}/rotate", keys.rotate_key, methods=post),
        Route(f"{BASE}/review", security.review_page, methods=get),
        Route(f"{BASE}/security", security.settings_page, methods=get),
        Route(f"{BASE}/security/2fa/begin", security.begin_enrolment, methods=post),
        Route(f"{BASE}/security/2fa/confirm", security.confirm_enrolment, methods=post),
        Route(f"{BASE}/security/2fa/disable", security.disable_two_factor, methods=post),
        Route(f"{BASE}/security/recovery-codes", security.regenerate_recovery_codes, methods=post),
        Route(f"{BASE}/security/sessions/{{session_id}}/revoke", security.revoke_session, methods=post),
        Route(f"{BASE}/exchange", exchange.exchange_page, methods=get),
        Route(f"{BASE}/exchange/test-funds", exchange.get_test_funds, methods=post),
        Route(f"{BASE}/wallet", wallet.wallet_page, methods=get),
        Route(f"{BASE}/wallet/addresses", wallet.add_address, methods=post),
        Route(f"{BASE}/wallet/addresses/{{entry_id}}/remove", wallet.remove_address, methods=post),
        Route(f"{BASE}/wallet/simulate-deposit", wallet.simulate_deposit, methods=post),
        Route(f"{BASE}/wallet/withdraw", wallet.withdraw, methods=post),
        Route(f"{BASE}/wallet/withdrawals/{{withdrawal_id}}/cancel", wallet.cancel_withdrawal, methods=post),
        Mount(f"{BASE}/static", app=StaticFiles(directory=STATIC), name="console-static"),
    ]
