"""The wallet page: deposit addresses with QR codes, the withdrawal-address book, demo deposits.

Adding a withdrawal address needs a fresh TOTP code, always (whatever the platform's rule for
keys): it is the step a thief needs most. The address is checked first, so a typo costs no code.
Removing needs none: it can only make withdrawals harder. Every change is audited by the book.

The QR codes are made here (segno, as for TOTP enrolment): no address leaves the server to be drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from keyplane.exchange.amounts import read_amount
from keyplane.exchange.errors import ExchangeError
from keyplane.exchange.wallet.address_book import BookedAddress, EntryStatus, utc
from keyplane.exchange.wallet.chain import SimulatedChain
from keyplane.exchange.wallet.errors import WalletError
from keyplane.exchange.wallet.networks import CoinNetwork
from keyplane.exchange.wallet.parts import WalletParts
from keyplane.http.console.auth import Viewer, action, page, platform_of, step_up
from keyplane.http.console.forms import ascii_count, text
from keyplane.http.console.web import BASE, KNOWN_ERRORS, ConsoleError, describe, redirect, render, run
from keyplane.identity.totp import qr_svg

WALLET = f"{BASE}/wallet"
NOTICES = {
    "added": "The address was added. It is pending until its cooling-off ends; then withdrawals may use it.",
    "removed": "The address was removed from your address book.",
    "deposited": "The simulated deposit is on the chain; it is credited after its confirmations.",
}
PAGE_ERRORS = (*KNOWN_ERRORS, WalletError, ExchangeError)
MAX_ENTRY_ID = 2**31 - 1  # the id column's range: a larger number names no entry


@dataclass(frozen=True)
class DepositRow:
    coin: str
    network: str
    network_name: str
    address: str
    memo: str
    url: str
    confirmations: int
    qr_svg: str

    @property
    def choice(self) -> str:
        return f"{self.coin}:{self.network}"


@dataclass(frozen=True)
class BookRow:
    id: int
    label: str
    coin: str
    network: str
    address: str
    memo: str
    checksummed: bool
    pending: bool
    added: str
    matures: str


def _wallet(request: Request) -> WalletParts:
    parts = platform_of(request).wallet
    if parts is None:
        raise ConsoleError("The wallet is not available on this server.", 503)
    return parts


def _entries(parts: WalletParts) -> list[CoinNetwork]:
    return [e for coin in parts.networks.coins() for e in parts.networks.networks_of(coin)]


def _deposit_rows(parts: WalletParts, user_id: int) -> list[DepositRow]:
    """The user's deposit address on every open network, issued on first view (as Binance does)."""
    if parts.addresses is None:
        return []
    rows = []
    for entry in _entries(parts):
        if not entry.deposit_enable:
            continue
        issued = parts.deposit_address(user_id, entry.coin, entry.code)
        spec = entry.network
        rows.append(
            DepositRow(
                coin=entry.coin,
                network=entry.code,
                network_name=spec.name,
                address=issued.address,
                memo=issued.memo,
                url=spec.address_url.format(address=issued.address) if spec.address_url else "",
                confirmations=entry.min_confirm,
                qr_svg=qr_svg(issued.address),
            )
        )
    return rows


def _book_row(booked: BookedAddress) -> BookRow:
    entry = booked.entry
    return BookRow(
        id=entry.id,
        label=entry.label,
        coin=entry.coin,
        network=entry.network,
        address=entry.address,
        memo=entry.memo,
        checksummed=entry.checksummed,
        pending=booked.status is EntryStatus.PENDING,
        added=utc(entry.added_at),
        matures=utc(booked.matures_at),
    )


def _history_context(parts: WalletParts, user_id: int) -> dict[str, object]:
    """Reserved for the deposit and withdrawal history and the withdrawal form (issue #9, the
    lead's part): whatever this returns reaches wallet.html's marked section."""
    return {}


def _cooling_off(parts: WalletParts) -> str:
    seconds = parts.book.cooling_off_ms // 1000
    if seconds % 3600 == 0 and seconds:
        return f"{seconds // 3600} hours"
    if seconds % 60 == 0 and seconds:
        return f"{seconds // 60} minutes"
    return f"{seconds} seconds"


def _read_page(parts: WalletParts, user_id: int) -> dict[str, object]:
    return {
        "deposits": _deposit_rows(parts, user_id),
        "book": [_book_row(b) for b in parts.book.entries(user_id)],
        **_history_context(parts, user_id),
    }


async def _wallet_page(request: Request, viewer: Viewer, status: int = 200, **context: object) -> Response:
    platform = platform_of(request)
    parts = _wallet(request)
    read = await run(_read_page, parts, viewer.user_id)
    entries = _entries(parts)
    return render(
        "wallet.html",
        {
            "title": "Wallet",
            "nav": "wallet",
            "viewer": viewer,
            "csrf": viewer.csrf,
            **read,
            "deposits_configured": parts.addresses is not None,
            "choices": [(f"{e.coin}:{e.code}", f"{e.coin} on {e.network.name}") for e in entries],
            "uses_memo": any(e.network.uses_memo for e in entries),
            "can_add": viewer.user.two_factor_enabled,
            "cooling_off": _cooling_off(parts),
            "demo": platform.settings.demo_mode and isinstance(parts.chain, SimulatedChain),
            "values": context.pop("values", None) or {},
            "notice": NOTICES.get(request.query_params.get("notice", "")),
            **context,
        },
        status,
    )


def _choice(form: FormData) -> tuple[str, str]:
    coin, _, network = text(form, "destination").partition(":")
    if not coin or not network:
        raise ConsoleError("Choose the asset and the network.")
    return coin, network


def _refusal(error: Exception) -> tuple[str, int]:
    if isinstance(error, WalletError):
        return error.msg, error.status
    if isinstance(error, ExchangeError):
        return error.msg, 400
    return describe(error)  # type: ignore[arg-type]


@page
async def wallet_page(request: Request, viewer: Viewer) -> Response:
    return await _wallet_page(request, viewer)


@action
async def add_address(request: Request, viewer: Viewer, form: FormData) -> Response:
    parts = _wallet(request)
    fields = {name: text(form, name) for name in ("destination", "address", "memo", "label")}
    try:
        if not viewer.user.two_factor_enabled:
            raise ConsoleError(
                "Turn on two-factor authentication in Security settings to add withdrawal addresses.", 403
            )
        coin, network = _choice(form)
        address, memo, label = fields["address"].strip(), fields["memo"].strip(), fields["label"]
        await run(parts.book.check, viewer.user_id, coin, network, address, memo, label)
        await step_up(request, viewer, text(form, "totp_code"), "add_withdraw_address")
        await run(
            parts.book.add,
            viewer.user_id,
            coin,
            network,
            address,
            memo,
            label,
            actor=f"user:{viewer.user_id}",
            source_ip=viewer.ip,
        )
    except PAGE_ERRORS as error:
        message, status = _refusal(error)
        return await _wallet_page(request, viewer, status, error=message, values=fields)
    return redirect(f"{WALLET}?notice=added")


@action
async def remove_address(request: Request, viewer: Viewer, form: FormData) -> Response:
    parts = _wallet(request)
    entry_id = ascii_count(request.path_params["entry_id"])
    try:
        if entry_id is None or entry_id > MAX_ENTRY_ID:
            raise ConsoleError("No such address in your withdrawal address book.", 404)
        await run(
            parts.book.remove, viewer.user_id, entry_id, actor=f"user:{viewer.user_id}", source_ip=viewer.ip
        )
    except PAGE_ERRORS as error:
        message, status = _refusal(error)
        return await _wallet_page(request, viewer, status, error=message)
    return redirect(f"{WALLET}?notice=removed")


@action
async def simulate_deposit(request: Request, viewer: Viewer, form: FormData) -> Response:
    """Demo mode only: someone pays the user's own deposit address on the simulated chain."""
    platform = platform_of(request)
    parts = _wallet(request)
    chain = parts.chain
    if not platform.settings.demo_mode or not isinstance(chain, SimulatedChain):
        raise ConsoleError("Simulated deposits exist only in demo mode.", 403)
    try:
        coin, network = _choice(form)
        amount = read_amount(text(form, "amount").strip())
        # The user's own address, looked up here: the form names only the coin and network.
        issued = await run(parts.deposit_address, viewer.user_id, coin, network)
        await run(chain.deposit, issued.address, amount, issued.network, coin=issued.coin, memo=issued.memo)
    except PAGE_ERRORS as error:
        message, status = _refusal(error)
        return await _wallet_page(request, viewer, status, error=message)
    return redirect(f"{WALLET}?notice=deposited")
